package testenv

import (
	"net"
	"net/http"
	"net/http/cgi"
	"os/exec"
	"strings"
	"sync/atomic"
)

// GitServer serves the git repositories under Root over smart HTTP with the
// real `git http-backend`, on 127.0.0.1 only.
type GitServer struct {
	URL      string // http://127.0.0.1:PORT
	Root     string
	requests atomic.Int64
	srv      *http.Server
	ln       net.Listener
}

// StartGitServer starts serving root. Close it when done.
func StartGitServer(root string) (*GitServer, error) {
	backend, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		return nil, err
	}
	h := &cgi.Handler{
		Path: strings.TrimSpace(string(backend)) + "/git-http-backend",
		Env:  []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1"},
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &GitServer{URL: "http://" + ln.Addr().String(), Root: root, ln: ln}
	s.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		h.ServeHTTP(w, r)
	})}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// Requests is the number of HTTP requests served so far.
func (s *GitServer) Requests() int64 { return s.requests.Load() }

// Close stops the server.
func (s *GitServer) Close() error { return s.srv.Close() }
