// Package buildroot talks to upstream Buildroot: make invocations, targets,
// .config and defconfig files, external tree descriptions.
package buildroot

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Version reads BR2_VERSION from a Buildroot checkout's Makefile.
func Version(dir string) (string, error) {
	data, err := os.ReadFile(filepath.Join(dir, "Makefile"))
	if err != nil {
		return "", err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		line = strings.TrimPrefix(line, "export ")
		if k, v, ok := strings.Cut(line, ":="); ok && strings.TrimSpace(k) == "BR2_VERSION" {
			return strings.TrimSpace(v), nil
		}
	}
	return "", fmt.Errorf("%s/Makefile sets no BR2_VERSION; is this a Buildroot tree?", dir)
}

// ExternalName reads the name: field of an external tree's external.desc.
func ExternalName(dir string) (string, error) {
	data, err := os.ReadFile(filepath.Join(dir, "external.desc"))
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "name" {
			return strings.TrimSpace(v), nil
		}
	}
	return "", fmt.Errorf("%s/external.desc has no name: line", dir)
}
