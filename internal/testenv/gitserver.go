package testenv

import (
	"net"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
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

	stallMu  sync.Mutex
	stalled  chan struct{} // receives when a pack response is held back
	released chan struct{} // closed to let held responses finish
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
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/git-upload-pack") {
			if stalled, released := s.stallState(); stalled != nil {
				stallPack(w, r, h, stalled, released)
				return
			}
		}
		h.ServeHTTP(w, r)
	})}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// StallPacks makes the server send only the first half of each pack
// response and then wait (until Release or the client goes away), so that
// a client can be interrupted in the middle of a fetch. The channel receives
// once for each response held back.
func (s *GitServer) StallPacks() <-chan struct{} {
	s.stallMu.Lock()
	defer s.stallMu.Unlock()
	s.stalled, s.released = make(chan struct{}, 16), make(chan struct{})
	return s.stalled
}

// Release lets held-back pack responses finish and serves whole ones
// from now on.
func (s *GitServer) Release() {
	s.stallMu.Lock()
	defer s.stallMu.Unlock()
	if s.released != nil {
		close(s.released)
	}
	s.stalled, s.released = nil, nil
}

func (s *GitServer) stallState() (chan struct{}, chan struct{}) {
	s.stallMu.Lock()
	defer s.stallMu.Unlock()
	return s.stalled, s.released
}

// stallPack answers with h's response cut in half, then waits.
func stallPack(w http.ResponseWriter, r *http.Request, h http.Handler, stalled, released chan struct{}) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	body := rec.Body.Bytes()
	half := len(body) / 2
	_, _ = w.Write(body[:half])
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	select {
	case stalled <- struct{}{}:
	default:
	}
	select {
	case <-released:
		_, _ = w.Write(body[half:])
	case <-r.Context().Done():
	}
}

// Requests is the number of HTTP requests served so far.
func (s *GitServer) Requests() int64 { return s.requests.Load() }

// Close stops the server, releasing held-back responses.
func (s *GitServer) Close() error {
	s.Release()
	return s.srv.Close()
}
