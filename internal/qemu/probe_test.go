package qemu

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// IPA's API root document, as ironic_python_agent/api/app.py returns it.
const ipaRoot = `{"name": "OpenStack Ironic Python Agent API",
 "description": "Ironic Python Agent is a provisioning agent for OpenStack Ironic",
 "versions": [{"id": "v1", "links": [{"href": "http://10.0.2.15:9999/v1/", "rel": "self"}],
   "min_version": "1.0", "version": "1.16", "status": "CURRENT"}],
 "default_version": {"id": "v1"}}`

func serve(t *testing.T, routes map[string]string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := routes[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Fatalf("test server on %s, not 127.0.0.1", srv.URL)
	}
	return srv.URL
}

func TestProbeAccepts(t *testing.T) {
	for _, tc := range []struct {
		name   string
		routes map[string]string
		url    string
		desc   string
	}{
		{"ipa root", map[string]string{"/": ipaRoot}, "/", "OpenStack Ironic Python Agent API, versions v1"},
		{"versions only", map[string]string{"/": `{"versions": [{"id": "v1"}, {"id": "v2"}]}`}, "/", "agent status, versions v1 v2"},
		{"name only", map[string]string{"/": `{"name": "OpenStack Ironic Python Agent API"}`}, "/", "OpenStack Ironic Python Agent API"},
		{"status", map[string]string{"/v1/status": `{"started_at": 1700000000.0, "version": "10.0.0"}`}, "/v1/status", "agent status"},
		{"status after a foreign root", map[string]string{"/": `{"name": "nginx"}`, "/v1/status": `{}`}, "/v1/status", "agent status"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := serve(t, tc.routes)
			a, err := Probe(context.Background(), NewClient(), base)
			if err != nil {
				t.Fatal(err)
			}
			if a.URL != base+tc.url || a.Describe() != tc.desc {
				t.Fatalf("answer %s %q, want %s %q", a.URL, a.Describe(), base+tc.url, tc.desc)
			}
		})
	}
}

// An agent that comes up between the probe's two requests: GET / is
// refused (the guest's port forward drops it), then /v1/status answers,
// and so does / when asked again.
func TestProbeAsksTheRootAgainWhenTheAgentComesUp(t *testing.T) {
	var up atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/v1/status":
			up.Store(true)
			_, _ = w.Write([]byte(`{"version": "11.3.0"}`))
		case r.URL.Path == "/" && up.Load():
			_, _ = w.Write([]byte(ipaRoot))
		default:
			http.Error(w, "booting", http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	a, err := Probe(context.Background(), NewClient(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if a.URL != srv.URL+"/" || a.Describe() != "OpenStack Ironic Python Agent API, versions v1" {
		t.Fatalf("answer %s %q, want the root document", a.URL, a.Describe())
	}
}

func TestProbeRejects(t *testing.T) {
	for _, tc := range []struct {
		name   string
		routes map[string]string
		want   string
	}{
		{"nothing", map[string]string{}, "GET /: 404 Not Found; GET /v1/status: 404 Not Found"},
		{"html", map[string]string{"/": "<html>It works</html>"}, `GET /: not JSON: "<html>It works</html>"`},
		{"other json", map[string]string{"/": `{"name": "nginx", "versions": []}`}, "not the agent's root document"},
		{"status not json", map[string]string{"/v1/status": "ok"}, "GET /v1/status: not a JSON object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Probe(context.Background(), NewClient(), serve(t, tc.routes))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Probe error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// What a booting guest looks like through QEMU's user-mode forwarding:
// nothing listens yet, or the connection is accepted and dropped.
func TestProbeConnectionErrorsAreShort(t *testing.T) {
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	_, err = Probe(context.Background(), NewClient(), "http://127.0.0.1:"+itoa(port))
	if err == nil || err.Error() != "connection refused" {
		t.Fatalf("refused: %v", err)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	_, err = Probe(context.Background(), NewClient(), "http://"+l.Addr().String())
	// GET / and GET /v1/status each see the close as one or the other,
	// depending on timing.
	if err == nil {
		t.Fatal("dropped: no error")
	}
	for _, part := range strings.Split(err.Error(), "; ") {
		if part != "connection closed without an answer" && part != "connection reset" {
			t.Fatalf("dropped: %v", err)
		}
	}
}

func TestProbeHonoursContext(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := Probe(ctx, NewClient(), srv.URL); err == nil {
		t.Fatal("a hanging server answered")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("Probe took %s after its context ended", d)
	}
}
