package ipa

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"path"
	"strings"
	"time"
)

func client(c *http.Client) *http.Client {
	if c != nil {
		return c
	}
	return &http.Client{Timeout: 5 * time.Minute}
}

// ProbeIndex checks that the package index answers, by asking it for
// ironic-python-agent's page: any HTTP answer below 500 will do (a private
// index may not have the page). It fails with *UnreachableError.
func ProbeIndex(ctx context.Context, c *http.Client, index string) error {
	u, err := url.Parse(index)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("the package index URL %q is not an http(s) URL", index)
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(index, "/")+"/"+Package+"/", nil)
	if err != nil {
		return err
	}
	resp, err := client(c).Do(req)
	if err != nil {
		return &UnreachableError{What: "package index", URL: Redact(index), Err: err}
	}
	resp.Body.Close()
	if resp.StatusCode >= 500 {
		return &UnreachableError{What: "package index", URL: Redact(index), Err: fmt.Errorf("HTTP %d", resp.StatusCode)}
	}
	return nil
}

// fileInfo returns a wheel's size and, when sum is true, its sha256, from
// a file:// URL or over HTTP (HEAD for the size alone).
func fileInfo(ctx context.Context, c *http.Client, rawURL string, sum bool) (int64, string, error) {
	if p, ok := strings.CutPrefix(rawURL, "file://"); ok {
		p, _ = url.PathUnescape(p)
		return hashFile(p)
	}
	method := http.MethodHead
	if sum {
		method = http.MethodGet
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := client(c).Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, "", fmt.Errorf("%s: HTTP %d", rawURL, resp.StatusCode)
	}
	if !sum {
		return resp.ContentLength, "", nil
	}
	h := sha256.New()
	n, err := io.Copy(h, resp.Body)
	if err != nil {
		return 0, "", fmt.Errorf("%s: %v", rawURL, err)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

func hashFile(path string) (int64, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", err
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// fillInfo sets each wheel's size, and its sha256 where the index gave
// none, four requests at a time.
func fillInfo(ctx context.Context, c *http.Client, ws []Wheel) error {
	return eachWheel(ws, func(_ int, w *Wheel) error {
		var (
			size int64
			sum  string
			err  error
		)
		if w.Local != nil {
			h := sha256.Sum256(w.Local)
			size, sum = int64(len(w.Local)), hex.EncodeToString(h[:])
		} else if size, sum, err = fileInfo(ctx, c, w.URL, w.SHA256 == ""); err != nil {
			return err
		}
		if w.License == "unknown" {
			// pip's report leaves out newer metadata fields (such as
			// License-Expression): read the wheel's own METADATA.
			var lic string
			if w.Local != nil {
				lic, err = licenseFromWheel(w.Local)
			} else {
				lic, err = metadataLicense(ctx, c, w.URL)
			}
			if err != nil {
				return err
			}
			w.License = lic
		}
		if size > 0 {
			w.Size = size
		}
		if sum != "" {
			if w.SHA256 != "" && w.Local == nil && sum != w.SHA256 {
				return fmt.Errorf("the index publishes sha256 %s but serves a file with %s", w.SHA256, sum)
			}
			w.SHA256 = sum
		}
		return nil
	})
}

// metadataLicense reads a wheel's license from its METADATA: the index's
// PEP 658 .metadata file when it has one, else the wheel itself.
func metadataLicense(ctx context.Context, c *http.Client, rawURL string) (string, error) {
	var data []byte
	if p, ok := strings.CutPrefix(rawURL, "file://"); ok {
		p, _ = url.PathUnescape(p)
		wheel, err := os.ReadFile(p)
		if err != nil {
			return "", err
		}
		return licenseFromWheel(wheel)
	}
	data, status, err := httpGet(ctx, client(c), rawURL+".metadata")
	if err == nil && status == http.StatusOK {
		return licenseFromMetadata(data)
	}
	wheel, status, err := httpGet(ctx, client(c), rawURL)
	if err != nil {
		return "", err
	}
	if status != http.StatusOK {
		return "", fmt.Errorf("%s: HTTP %d", rawURL, status)
	}
	return licenseFromWheel(wheel)
}

func licenseFromWheel(wheel []byte) (string, error) {
	zr, err := zip.NewReader(bytes.NewReader(wheel), int64(len(wheel)))
	if err != nil {
		return "", fmt.Errorf("not a wheel: %v", err)
	}
	for _, f := range zr.File {
		dir, name := path.Split(f.Name)
		if name == "METADATA" && strings.HasSuffix(dir, ".dist-info/") && strings.Count(dir, "/") == 1 {
			r, err := f.Open()
			if err != nil {
				return "", err
			}
			data, err := io.ReadAll(io.LimitReader(r, 4<<20))
			r.Close()
			if err != nil {
				return "", err
			}
			return licenseFromMetadata(data)
		}
	}
	return "", errors.New("the wheel has no .dist-info/METADATA")
}

// licenseFromMetadata applies License to core metadata (email headers).
func licenseFromMetadata(data []byte) (string, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(append(bytes.TrimRight(data, "\n"), '\n', '\n')))
	if err != nil {
		return "", fmt.Errorf("reading METADATA: %v", err)
	}
	h := msg.Header
	return License(h.Get("License-Expression"), h.Get("License"), h["Classifier"]), nil
}
