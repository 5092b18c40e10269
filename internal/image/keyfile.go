package image

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/ipabr/ipabr/internal/errs"
)

// MaxKeyFileSize bounds a key file; public key files are a few KiB.
const MaxKeyFileSize = 1 << 20

// ReadKeys reads and parses the public keys in the file name, or standard
// input for "-". Any bad line refuses the whole input (exit 2) with the
// line named and its content not shown.
func ReadKeys(in io.Reader, name string) ([]AuthorizedKey, error) {
	label := name
	r := in
	if name == "-" {
		label = "standard input"
	} else {
		fh, err := os.Open(name)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, errs.BadInputf("key file %s does not exist", name)
		}
		if err != nil {
			return nil, errs.BadInputf("cannot read key file %s: %v", name, unwrapPath(err))
		}
		defer fh.Close()
		if st, err := fh.Stat(); err == nil && st.IsDir() {
			return nil, errs.BadInputf("key file %s is a directory", name)
		}
		r = fh
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxKeyFileSize+1))
	defer clear(data)
	if err != nil {
		return nil, errs.BadInputf("cannot read %s: %v", label, unwrapPath(err))
	}
	if len(data) > MaxKeyFileSize {
		return nil, errs.BadInputf("%s is larger than 1 MiB, not a public key file", label)
	}
	keys, err := ParseAuthorizedKeys(data)
	if err != nil {
		return nil, errs.BadInputf("%s: %w; nothing was added", label, err)
	}
	return keys, nil
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Describe names a key by fingerprint, type and comment.
func Describe(k AuthorizedKey) string {
	return strings.TrimSpace(k.Fingerprint() + " " + k.Type() + " " + k.Comment)
}
