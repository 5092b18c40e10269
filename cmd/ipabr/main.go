package main

import (
	"os"

	"github.com/ipabr/ipabr/internal/app"
)

func main() { os.Exit(app.Main()) }
