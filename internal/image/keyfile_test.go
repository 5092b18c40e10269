package image

import (
	"bytes"
	"strings"
	"testing"

	"github.com/ipabr/ipabr/internal/errs"
)

func TestReadKeysRefusesHugeInput(t *testing.T) {
	big := bytes.Repeat([]byte("#"), MaxKeyFileSize+1)
	_, err := ReadKeys(bytes.NewReader(big), "-")
	if !errs.Is(err, errs.BadInput) || !strings.Contains(err.Error(), "larger than 1 MiB") {
		t.Fatalf("err = %v", err)
	}
}

func TestReadKeysNamesTheLineNotItsContent(t *testing.T) {
	in := "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJdpCscJJbnNiq8oKcdAA7vfg95m/1OS0vS43fQav02t a\nsecret-looking-garbage\n"
	_, err := ReadKeys(strings.NewReader(in), "-")
	if !errs.Is(err, errs.BadInput) || !strings.Contains(err.Error(), "standard input: line 2:") || strings.Contains(err.Error(), "secret-looking") {
		t.Fatalf("err = %v", err)
	}
}
