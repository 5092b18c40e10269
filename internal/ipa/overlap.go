package ipa

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"sort"
	"strings"
	"sync"
)

// OverlapError is two wheels installing the same file with different
// contents: installing the second would fail (or replace the first's).
type OverlapError struct {
	Path          string // relative to the scheme: site-packages/..., bin/...
	First, Second string // wheel file names, in the lock's order
}

func (e *OverlapError) Error() string {
	return fmt.Sprintf("%s and %s both install %s, with different contents: the image can hold only one of them. "+
		"Lock without one of them (drop its --extra), or have their authors ship the same file "+
		"(a namespace package needs no __init__.py, PEP 420)", e.First, e.Second, e.Path)
}

// checkOverlaps lists the files each wheel installs (reading only the end
// of each remote wheel, where its zip directory is) and fails on a path
// two of them install with different contents; identical files are fine.
// Files are compared by CRC-32 and size here; the install step compares
// them byte for byte.
func checkOverlaps(ctx context.Context, c *http.Client, ws []Wheel) error {
	lists := make([]map[string]string, len(ws))
	err := eachWheel(ws, func(i int, w *Wheel) error {
		zr, err := openWheel(ctx, c, w)
		if err != nil {
			return err
		}
		lists[i], err = installedFiles(zr)
		return err
	})
	if err != nil {
		return err
	}
	type owner struct{ wheel, content string }
	seen := map[string]owner{}
	for i, files := range lists {
		paths := make([]string, 0, len(files))
		for p := range files {
			paths = append(paths, p)
		}
		sort.Strings(paths)
		for _, p := range paths {
			prev, ok := seen[p]
			if ok && prev.content != files[p] {
				return &OverlapError{Path: p, First: prev.wheel, Second: ws[i].Filename}
			}
			if !ok {
				seen[p] = owner{ws[i].Filename, files[p]}
			}
		}
	}
	return nil
}

// eachWheel runs f for every wheel, four at a time, and returns the first
// error (naming the wheel).
func eachWheel(ws []Wheel, f func(i int, w *Wheel) error) error {
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		sem      = make(chan struct{}, 4)
	)
	for i := range ws {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if err := f(i, &ws[i]); err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = fmt.Errorf("%s: %w", ws[i].Filename, err)
				}
				mu.Unlock()
			}
		}(i)
	}
	wg.Wait()
	return firstErr
}

// installedFiles maps each file a wheel installs to a content key, by the
// rule install-wheels.py applies: files under <name>.data/<scheme>/ go to
// that scheme (purelib and platlib are both site-packages), console and
// GUI scripts are made in bin/ from their entry points, everything else
// goes to site-packages; tests and byte-code caches, which the install
// step removes, do not count.
func installedFiles(zr *zip.Reader) (map[string]string, error) {
	out := map[string]string{}
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/") {
			continue
		}
		dest := "site-packages/" + f.Name
		top, rest, _ := strings.Cut(f.Name, "/")
		if strings.HasSuffix(top, ".data") {
			scheme, inside, ok := strings.Cut(rest, "/")
			if !ok {
				continue
			}
			switch scheme {
			case "purelib", "platlib":
				dest = "site-packages/" + inside
			case "scripts":
				dest = "bin/" + inside
			case "headers":
				dest = "include/" + inside
			default:
				dest = scheme + "/" + inside
			}
		}
		if dropped(dest) {
			continue
		}
		out[dest] = fmt.Sprintf("crc32 %08x size %d", f.CRC32, f.UncompressedSize64)
		if strings.HasSuffix(top, ".dist-info") && rest == "entry_points.txt" {
			scripts, err := wheelScripts(f)
			if err != nil {
				return nil, err
			}
			for name, target := range scripts {
				out["bin/"+name] = "script " + target
			}
		}
	}
	return out, nil
}

// dropped reports whether the install step removes a site-packages path:
// anything in a tests or __pycache__ directory, and byte code.
func dropped(dest string) bool {
	inside, ok := strings.CutPrefix(dest, "site-packages/")
	if !ok {
		return false
	}
	dirs := strings.Split(path.Dir(inside), "/")
	for _, d := range dirs {
		if d == "tests" || d == "__pycache__" {
			return true
		}
	}
	return strings.HasSuffix(inside, ".pyc")
}

// wheelScripts reads the console_scripts and gui_scripts sections of an
// entry_points.txt: script name → module:function.
func wheelScripts(f *zip.File) (map[string]string, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	out := map[string]string{}
	section := ""
	sc := bufio.NewScanner(io.LimitReader(rc, 1<<20))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[':
			section = strings.Trim(line, "[] ")
		case section == "console_scripts" || section == "gui_scripts":
			if name, target, ok := strings.Cut(line, "="); ok {
				out[strings.TrimSpace(name)] = strings.TrimSpace(target)
			}
		}
	}
	return out, sc.Err()
}

// openWheel opens a wheel of the lock as a zip archive: a kept one from
// memory, a file:// one from disk, any other over HTTP by ranges.
func openWheel(ctx context.Context, c *http.Client, w *Wheel) (*zip.Reader, error) {
	if w.Local != nil {
		return zip.NewReader(bytes.NewReader(w.Local), int64(len(w.Local)))
	}
	if p, ok := strings.CutPrefix(w.URL, "file://"); ok {
		p, _ = url.PathUnescape(p)
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		return zip.NewReader(bytes.NewReader(data), int64(len(data)))
	}
	if w.Size > 0 {
		zr, err := zip.NewReader(&rangeReader{ctx: ctx, c: client(c), url: w.URL, size: w.Size, chunks: map[int64][]byte{}}, w.Size)
		if !errors.Is(err, errNoRanges) {
			return zr, err
		}
	}
	data, status, err := httpGet(ctx, client(c), w.URL)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d", status)
	}
	return zip.NewReader(bytes.NewReader(data), int64(len(data)))
}

// errNoRanges is a server that answers a range request with the whole file.
var errNoRanges = errors.New("the server does not serve byte ranges")

// rangeChunk is how much a rangeReader fetches at least: a wheel's zip
// directory usually fits in one or two.
const rangeChunk = 64 << 10

// rangeReader reads a remote file in aligned chunks with HTTP range
// requests, keeping what it fetched.
type rangeReader struct {
	ctx    context.Context
	c      *http.Client
	url    string
	size   int64
	chunks map[int64][]byte // by chunk index
}

func (r *rangeReader) ReadAt(p []byte, off int64) (int, error) {
	if off >= r.size {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && off+int64(n) < r.size {
		pos := off + int64(n)
		idx := pos / rangeChunk
		chunk, ok := r.chunks[idx]
		if !ok {
			if err := r.fetch(idx, (off+int64(len(p))-1)/rangeChunk); err != nil {
				return n, err
			}
			chunk = r.chunks[idx]
		}
		n += copy(p[n:], chunk[pos-idx*rangeChunk:])
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// fetch gets chunks first..last (clipped to the file) in one request.
func (r *rangeReader) fetch(first, last int64) error {
	start, end := first*rangeChunk, min((last+1)*rangeChunk, r.size)
	req, err := http.NewRequestWithContext(r.ctx, http.MethodGet, r.url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", start, end-1))
	resp, err := r.c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusPartialContent:
	case http.StatusOK:
		return errNoRanges
	default:
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, end-start+1))
	if err != nil {
		return err
	}
	if int64(len(data)) != end-start {
		return fmt.Errorf("asked for %d bytes at %d, got %d", end-start, start, len(data))
	}
	for i := first; i*rangeChunk < end; i++ {
		lo := i*rangeChunk - start
		r.chunks[i] = data[lo:min(lo+rangeChunk, int64(len(data)))]
	}
	return nil
}
