package ipatest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// Index is a PEP 503 simple index over the wheels in Dir, served on
// 127.0.0.1: /simple/, /simple/<project>/ (links with #sha256= as PyPI
// has them) and /files/<wheel>.
type Index struct {
	URL string // http://127.0.0.1:PORT/simple
	// Base is the server's root URL, where /files/ lives.
	Base string
	Dir  string

	mu        sync.Mutex
	tampered  map[string][]byte
	noHash    bool
	downloads map[string]int
	srv       *http.Server
}

// StartIndex serves the wheels in dir. Close it when done.
func StartIndex(dir string) (*Index, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	ix := &Index{
		Base:      "http://" + ln.Addr().String(),
		Dir:       dir,
		tampered:  map[string][]byte{},
		downloads: map[string]int{},
	}
	ix.URL = ix.Base + "/simple"
	ix.srv = &http.Server{Handler: http.HandlerFunc(ix.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = ix.srv.Serve(ln) }()
	return ix, nil
}

// Close stops the server.
func (ix *Index) Close() error { return ix.srv.Close() }

// Tamper makes the server hand out data for file from now on, while the
// index pages keep the original's sha256.
func (ix *Index) Tamper(file string, data []byte) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.tampered[file] = data
}

// OmitHashes leaves the #sha256= fragments out of the index pages.
func (ix *Index) OmitHashes(omit bool) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.noHash = omit
}

// Downloads is how many times file was fetched with GET.
func (ix *Index) Downloads(file string) int {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.downloads[file]
}

// FileURL is the URL a wheel is served at.
func (ix *Index) FileURL(file string) string { return ix.Base + "/files/" + file }

func (ix *Index) wheels() map[string][]string {
	entries, _ := os.ReadDir(ix.Dir)
	byProject := map[string][]string{}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".whl") {
			continue
		}
		project := Normalize(strings.SplitN(name, "-", 2)[0])
		byProject[project] = append(byProject[project], name)
	}
	return byProject
}

func (ix *Index) serve(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case p == "/simple/" || p == "/simple":
		var b bytes.Buffer
		b.WriteString("<!DOCTYPE html>\n<html><body>\n")
		byProject := ix.wheels()
		for _, proj := range sortedKeys(byProject) {
			fmt.Fprintf(&b, "<a href=\"%s/\">%s</a>\n", proj, proj)
		}
		b.WriteString("</body></html>\n")
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write(b.Bytes())
	case strings.HasPrefix(p, "/simple/"):
		proj := Normalize(strings.Trim(strings.TrimPrefix(p, "/simple/"), "/"))
		files := ix.wheels()[proj]
		if len(files) == 0 {
			http.NotFound(w, r)
			return
		}
		sort.Strings(files)
		ix.mu.Lock()
		noHash := ix.noHash
		ix.mu.Unlock()
		var b bytes.Buffer
		fmt.Fprintf(&b, "<!DOCTYPE html>\n<html><body><h1>Links for %s</h1>\n", proj)
		for _, f := range files {
			href := "../../files/" + f
			if !noHash {
				data, err := os.ReadFile(filepath.Join(ix.Dir, f))
				if err != nil {
					http.Error(w, err.Error(), http.StatusInternalServerError)
					return
				}
				sum := sha256.Sum256(data)
				href += "#sha256=" + hex.EncodeToString(sum[:])
			}
			fmt.Fprintf(&b, "<a href=\"%s\">%s</a><br/>\n", html.EscapeString(href), html.EscapeString(f))
		}
		b.WriteString("</body></html>\n")
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write(b.Bytes())
	case strings.HasPrefix(p, "/files/"):
		name := filepath.Base(p)
		ix.mu.Lock()
		data, tampered := ix.tampered[name]
		if r.Method == http.MethodGet {
			ix.downloads[name]++
		}
		ix.mu.Unlock()
		if !tampered {
			var err error
			data, err = os.ReadFile(filepath.Join(ix.Dir, name))
			if err != nil {
				http.NotFound(w, r)
				return
			}
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(data))
	default:
		http.NotFound(w, r)
	}
}
