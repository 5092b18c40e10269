package buildroot

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// ValidatePrimarySite checks a BR2_PRIMARY_SITE value: what Buildroot's
// download helpers accept (http, https, ftp, file:///ABSOLUTE and
// scp://[user@]host:path), on one line and without the characters kconfig
// strings or the helpers' shell quoting cannot carry. "" means unset.
func ValidatePrimarySite(site string) error {
	if site == "" {
		return nil
	}
	if strings.ContainsAny(site, "\n\r\t \"'\\`$") {
		return fmt.Errorf("%q contains whitespace, a quote, a backslash or '$'", site)
	}
	if rest, ok := strings.CutPrefix(site, "scp://"); ok {
		// scp://[user@]host:path is no URL (the path follows a colon).
		hostPart, _, found := strings.Cut(rest, ":")
		host := hostPart[strings.LastIndexByte(hostPart, '@')+1:]
		if !found || host == "" || strings.ContainsAny(hostPart, "/") {
			return fmt.Errorf("%q: an scp mirror is scp://[user@]host:path", site)
		}
		return nil
	}
	u, err := url.Parse(site)
	if err != nil {
		return fmt.Errorf("%q is not a URL: %v", site, err)
	}
	switch u.Scheme {
	case "http", "https", "ftp":
		if u.Host == "" {
			return fmt.Errorf("%q names no host", site)
		}
	case "file":
		if !strings.HasPrefix(u.Path, "/") || u.Host != "" {
			return fmt.Errorf("%q: a local mirror is file:///ABSOLUTE/PATH", site)
		}
	default:
		return fmt.Errorf("%q: Buildroot downloads from http://, https://, ftp://, file:// or scp:// sites", site)
	}
	return nil
}

// Download is one file a package needs in BR2_DL_DIR: dl/<DLDir>/<Source>.
type Download struct {
	Package string   `json:"package"`
	DLDir   string   `json:"dl_dir"`
	Source  string   `json:"source"`
	URIs    []string `json:"uris,omitempty"`
}

// Path is where the file lives under dl.
func (d Download) Path(dl string) string { return filepath.Join(dl, d.DLDir, d.Source) }

// showInfoPackage is the part of `make show-info` this package reads.
type showInfoPackage struct {
	Type      string `json:"type"`
	Virtual   bool   `json:"virtual"`
	DLDir     string `json:"dl_dir"`
	Downloads []struct {
		Source string   `json:"source"`
		URIs   []string `json:"uris"`
	} `json:"downloads"`
}

// ParseDownloads reads Buildroot's `make show-info` JSON and lists every
// file the configuration downloads, sorted by path. Names that would leave
// the download directory are an error: show-info is read from a Buildroot
// tree and its packages, which may be anyone's.
func ParseDownloads(showInfo []byte) ([]Download, error) {
	var info map[string]showInfoPackage
	if err := json.Unmarshal(showInfo, &info); err != nil {
		return nil, fmt.Errorf("show-info is not the JSON object Buildroot prints: %v", err)
	}
	var out []Download
	seen := map[string]bool{}
	for name, p := range info {
		for _, d := range p.Downloads {
			dlDir := p.DLDir
			if dlDir == "" {
				dlDir = name
			}
			if !safeName(dlDir) || !safeName(d.Source) {
				return nil, fmt.Errorf("show-info: package %q downloads %q into %q, which is not a plain name inside the download directory", name, d.Source, dlDir)
			}
			key := dlDir + "/" + d.Source
			if seen[key] {
				continue
			}
			seen[key] = true
			out = append(out, Download{Package: name, DLDir: dlDir, Source: d.Source, URIs: d.URIs})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].DLDir != out[j].DLDir {
			return out[i].DLDir < out[j].DLDir
		}
		return out[i].Source < out[j].Source
	})
	return out, nil
}

// safeName is one path element: not empty, not . or .., no separator.
func safeName(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.ContainsAny(s, "/\\\x00") && path.Clean(s) == s
}

// MissingDownloads lists the downloads with no non-empty file under dl.
func MissingDownloads(dl string, downloads []Download) []Download {
	var missing []Download
	for _, d := range downloads {
		st, err := os.Stat(d.Path(dl))
		if err != nil || !st.Mode().IsRegular() || st.Size() == 0 {
			missing = append(missing, d)
		}
	}
	return missing
}
