package buildroot

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Image is one file in <output>/images.
type Image struct {
	File   string `json:"file"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// SumsFile is the checksum list written beside the images.
const SumsFile = "SHA256SUMS"

// Images lists the regular files in dir (not SHA256SUMS) with their hashes.
func Images(dir string) ([]Image, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []Image
	for _, e := range entries {
		if !e.Type().IsRegular() || e.Name() == SumsFile {
			continue
		}
		sum, size, err := hashFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, Image{File: e.Name(), Size: size, SHA256: sum})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].File < out[j].File })
	return out, nil
}

func hashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	return hex.EncodeToString(h.Sum(nil)), n, err
}

// SumsText renders images in sha256sum(1) format.
func SumsText(images []Image) string {
	var b strings.Builder
	for _, im := range images {
		fmt.Fprintf(&b, "%s  %s\n", im.SHA256, im.File)
	}
	return b.String()
}
