package image

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// RootPasswordFileName is the project's root password file at its root:
// the SHA-512 crypt hash on one line (single dollars), mode 0600, ignored
// by git. ipabr applies it to every output it configures.
const RootPasswordFileName = "root-password.hash"

// LoadRootHash reads the hash in the file at path; "" when there is no
// file. A file that holds anything but one complete SHA-512 crypt hash is
// bad input naming the file and the fix; its content is never shown.
func LoadRootHash(path string) (string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	hash := strings.TrimSuffix(string(data), "\n")
	if err := ValidSHA512Hash(hash); err != nil {
		return "", badInputf("%s does not hold one SHA-512 crypt hash (%v); set the password again with 'ipabr passwd', or 'ipabr passwd --disable' to remove it", path, err)
	}
	return hash, nil
}

// SaveRootHash writes hash, which must be a complete SHA-512 crypt hash,
// to path atomically with mode 0600.
func SaveRootHash(path, hash string) error {
	if err := ValidSHA512Hash(hash); err != nil {
		return fmt.Errorf("refusing to store the root password: %w", err)
	}
	return WriteFileAtomic(path, []byte(hash+"\n"), 0o600)
}
