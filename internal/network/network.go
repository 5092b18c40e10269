// Package network renders, on the build host, the systemd-networkd files
// the image would use for a node: it runs the image's own converter
// (usr/libexec/ipa-network-data of the board overlay, the program
// ipa-network-data.service runs at boot) with the host's python3 on a
// network_data.json and a kernel command line, and adds the fixed files of
// the board's overlay and the user's. networkd applies the first file in
// name order that matches a link, so the directory it writes shows which
// configuration wins for each port (doc/image.md, "Networking").
//
// Like every package below cmd it never prints; errors caused by the
// caller's input satisfy errs.Is(err, errs.BadInput).
package network

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ipabr/ipabr/internal/errs"

	"github.com/ipabr/ipabr/internal/process"
)

// Converter is the converter's path in the external tree.
const Converter = "board/openstack/ipa/rootfs-overlay/usr/libexec/ipa-network-data"

// networkDir is where the image keeps its fixed networkd files, in an overlay.
const networkDir = "etc/systemd/network"

// configDrivePrefix starts the names of the files made from network_data.json.
const configDrivePrefix = "10-config-drive-"

// badInputf is an error of kind errs.BadInput.
func badInputf(format string, a ...any) error { return errs.BadInputf(format, a...) }

// Sources of the files Render writes.
const (
	FromNetworkData = "network_data.json"
	FromCmdline     = "kernel command line"
	FromBoard       = "board overlay"
	FromOverlay     = "overlay"
)

// Request is what to render.
type Request struct {
	External    string // the external tree (buildroot-ipa)
	Overlay     string // the user's overlay; "" when there is none
	NetworkData string // a network_data.json, or "-" for Stdin; "" for none
	Stdin       io.Reader
	Cmdline     string // kernel command line arguments; "" for none
	Out         string // the directory to write
	Python      string // default "python3"
	Generator   string // systemd-network-generator; "" for the host's
}

// File is one file Render wrote, and where it came from.
type File struct {
	Name, Source string
}

// Render writes the files into req.Out: the converter's for
// req.NetworkData and req.Cmdline, then the fixed files of the board's
// overlay and of req.Overlay (which replaces a board file of the same
// name). req.Out must not exist, or hold only networkd files (.network,
// .netdev, .link), which are replaced; files appear whole or not at all,
// and nothing changes when the converter refuses its input.
func Render(ctx context.Context, r process.Runner, req Request) ([]File, error) {
	if req.NetworkData == "" && req.Cmdline == "" {
		return nil, badInputf("nothing to render: give a network_data.json, a kernel command line or both")
	}
	if err := checkOut(req.Out); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(req.Out), 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(req.Out), "."+filepath.Base(req.Out)+".*.tmp~")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)

	generated, err := convert(ctx, r, req, tmp)
	if err != nil {
		return nil, err
	}
	files := make([]File, 0, len(generated))
	for _, name := range generated {
		src := FromCmdline
		if strings.HasPrefix(name, configDrivePrefix) {
			src = FromNetworkData
		}
		files = append(files, File{name, src})
	}
	fixed, err := copyFixed(tmp, req)
	if err != nil {
		return nil, err
	}
	files = append(files, fixed...)
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	return files, replace(tmp, req.Out)
}

// convert runs the converter into dir and returns the names it wrote.
func convert(ctx context.Context, r process.Runner, req Request, dir string) ([]string, error) {
	python := req.Python
	if python == "" {
		python = "python3"
	}
	args := []string{filepath.Join(req.External, Converter), "render", "--out", dir}
	if req.NetworkData != "" {
		args = append(args, "--network-data", req.NetworkData)
	}
	if req.Cmdline != "" {
		args = append(args, "--cmdline", req.Cmdline)
	}
	if req.Generator != "" {
		args = append(args, "--generator", req.Generator)
	}
	var stdout, stderr bytes.Buffer
	err := r.Run(ctx, process.Cmd{Name: python, Args: args, Stdin: req.Stdin, Stdout: &stdout, Stderr: &stderr})
	msg := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(stderr.String()), "ipa-network-data: "))
	switch code := process.ExitCode(err); {
	case err == nil:
	case errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("the image's network converter needs %s on this host: %w", python, err)
	case code == 2:
		return nil, badInputf("%s", msg)
	case msg != "":
		return nil, fmt.Errorf("%s", msg)
	default:
		return nil, err
	}
	return strings.Fields(stdout.String()), nil
}

// isNetworkdFile reports whether name is a file networkd reads.
func isNetworkdFile(name string) bool {
	switch filepath.Ext(name) {
	case ".network", ".netdev", ".link":
		return true
	}
	return false
}

// checkOut refuses an out directory that holds anything but networkd files.
func checkOut(out string) error {
	entries, err := os.ReadDir(out)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		if st, serr := os.Stat(out); serr == nil && !st.IsDir() {
			return badInputf("%s is a file, not a directory", out)
		}
		return err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || !isNetworkdFile(e.Name()) {
			return badInputf("%s holds %s, which is not a networkd file: give a new or empty directory (its .network, .netdev and .link files are replaced)", out, e.Name())
		}
	}
	return nil
}

// copyFixed copies the networkd files of the board's overlay, then the
// user's, into dir.
func copyFixed(dir string, req Request) ([]File, error) {
	found := map[string]string{}
	for _, src := range []struct{ root, label string }{
		{filepath.Join(req.External, "board/openstack/ipa/rootfs-overlay"), FromBoard},
		{req.Overlay, FromOverlay},
	} {
		if src.root == "" {
			continue
		}
		entries, err := os.ReadDir(filepath.Join(src.root, networkDir))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		for _, e := range entries {
			if !isNetworkdFile(e.Name()) {
				continue
			}
			data, err := os.ReadFile(filepath.Join(src.root, networkDir, e.Name()))
			if err != nil {
				return nil, err
			}
			if err := os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644); err != nil {
				return nil, err
			}
			found[e.Name()] = src.label
		}
	}
	var files []File
	for name, label := range found {
		files = append(files, File{name, label})
	}
	return files, nil
}

// replace moves the files of tmp into out, replacing out's networkd files.
func replace(tmp, out string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	old, err := os.ReadDir(out)
	if err != nil {
		return err
	}
	for _, e := range old {
		if err := os.Remove(filepath.Join(out, e.Name())); err != nil {
			return err
		}
	}
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.Rename(filepath.Join(tmp, e.Name()), filepath.Join(out, e.Name())); err != nil {
			return err
		}
	}
	return nil
}
