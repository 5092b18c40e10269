// Command gendocs regenerates the command reference (`make docs`):
// doc/reference/*.md and doc/man/*.1, from the commands' own help.
package main

import (
	"fmt"
	"os"

	"github.com/ipabr/ipabr/internal/app/reference"
)

func main() {
	if err := reference.Generate("doc/reference", "doc/man"); err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
}
