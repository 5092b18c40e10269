package ironic

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ipabr/ipabr/internal/ironic/ironictest"
)

// fakeAgent answers like IPA's API and records the command request.
type fakeAgent struct {
	token   string
	command struct {
		query string
		body  map[string]any
	}
}

func (f *fakeAgent) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == "GET" && r.URL.Path == "/v1/status":
		_, _ = io.WriteString(w, `{"started_at": 1764624000.25, "version": "11.3.0"}`)
	case r.Method == "POST" && r.URL.Path == "/v1/commands/":
		f.command.query = r.URL.RawQuery
		if r.URL.Query().Get("agent_token") != f.token {
			w.WriteHeader(401)
			_, _ = io.WriteString(w, `{"faultcode": "Client", "faultstring": "Token invalid."}`)
			return
		}
		_ = json.NewDecoder(r.Body).Decode(&f.command.body)
		if r.URL.Query().Get("wait") != "true" {
			w.WriteHeader(400)
			return
		}
		_, _ = io.WriteString(w, ironictest.CleanStepsAnswer)
	default:
		http.NotFound(w, r)
	}
}

func TestAgentCalls(t *testing.T) {
	node, _ := NewNode(guestMAC)
	fa := &fakeAgent{token: node.Token}
	srv := httptest.NewServer(fa)
	defer srv.Close()
	a, err := NewAgent("http://10.0.2.15:9999", "", srv.Listener.Addr().String(), node.Token)
	if err != nil {
		t.Fatal(err)
	}
	st, err := a.Status(context.Background())
	if err != nil || st.Version != "11.3.0" || st.StartedAt != 1764624000.25 {
		t.Fatalf("status %+v %v", st, err)
	}
	cs, err := a.GetCleanSteps(context.Background(), node)
	if err != nil {
		t.Fatal(err)
	}
	// Ironic's agent client: wait=true and the token in the query, the
	// command's name and params (node, ports) in the body.
	if fa.command.query != "agent_token="+node.Token+"&wait=true" {
		t.Errorf("query %q", fa.command.query)
	}
	params, _ := fa.command.body["params"].(map[string]any)
	n, _ := params["node"].(map[string]any)
	ports, _ := params["ports"].([]any)
	if fa.command.body["name"] != "clean.get_clean_steps" || n["uuid"] != node.UUID || n["properties"] == nil || n["instance_info"] == nil || len(ports) != 1 || ports[0].(map[string]any)["address"] != guestMAC {
		t.Errorf("command body %v", fa.command.body)
	}
	var names []string
	for _, s := range cs.Steps {
		names = append(names, s.Manager+"."+s.Step)
	}
	if strings.Join(names, " ") != "GenericHardwareManager.erase_devices_metadata GenericHardwareManager.erase_devices GenericHardwareManager.delete_configuration" ||
		cs.Steps[0].Priority != 99 || cs.Steps[2].Interface != "raid" || !cs.Steps[0].Abortable {
		t.Errorf("steps %+v", cs.Steps)
	}
	if len(cs.Managers) != 1 || cs.Managers[0] != (HardwareManager{"generic_hardware_manager", "1.2"}) {
		t.Errorf("managers %+v", cs.Managers)
	}

	a.Token = "not-the-token"
	if _, err := a.GetCleanSteps(context.Background(), node); err == nil || err.Error() != "POST /v1/commands/: 401 Unauthorized: Token invalid." {
		t.Errorf("wrong token: %v", err)
	}
}

func TestAgentCommandFailures(t *testing.T) {
	for _, tc := range []struct{ answer, want string }{
		{`{"command_name": "get_clean_steps", "command_status": "FAILED", "command_error": {"type": "HardwareManagerNotFound", "code": 500, "message": "No valid HardwareManager found.", "details": "No valid HardwareManager found."}}`,
			"clean.get_clean_steps: FAILED: HardwareManagerNotFound: No valid HardwareManager found."},
		{`{"command_status": "SUCCEEDED", "command_result": {"clean_steps": []}}`, "clean.get_clean_steps: unexpected result"},
		{`{"command_status": "SUCCEEDED", "command_result": null}`, "lacks clean_steps or hardware_manager_version"},
		{`{"name": "OpenStack Ironic Python Agent API"}`, "the answer is no command result"},
		{`<html>`, `not the JSON the agent sends: "<html>"`},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, tc.answer) }))
		a, _ := NewAgent("http://10.0.2.15:9999", "", srv.Listener.Addr().String(), "t")
		node, _ := NewNode(guestMAC)
		_, err := a.GetCleanSteps(context.Background(), node)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want %q", tc.answer, err, tc.want)
		}
		srv.Close()
	}
	a, _ := NewAgent("http://10.0.2.15:9999", "", "127.0.0.1:1", "t")
	if _, err := a.Status(context.Background()); err == nil || err.Error() != "GET /v1/status: connection refused" {
		t.Errorf("nothing listening: %v", err)
	}
}

// selfSigned makes a certificate for ip shaped as IPA's automatic TLS makes
// one for its advertised address (tls_utils.py: self-signed, a common name,
// the address as its one subject alternative name, no CA or usage
// extensions), and returns it as PEM with its key pair.
func selfSigned(t *testing.T, ip string) (string, tls.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: ip},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP(ip)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// An agent with automatic TLS is verified with the certificate it sent in
// its heartbeat, for the address it advertised, through the forwarded port.
func TestAgentTLS(t *testing.T) {
	pemCert, cert := selfSigned(t, "10.0.2.15")
	srv := httptest.NewUnstartedServer(&fakeAgent{})
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	defer srv.Close()
	forward := srv.Listener.Addr().String()
	a, err := NewAgent("https://10.0.2.15:9999", pemCert, forward, "t")
	if err != nil {
		t.Fatal(err)
	}
	if st, err := a.Status(context.Background()); err != nil || st.Version != "11.3.0" {
		t.Fatalf("status over TLS: %+v %v", st, err)
	}
	otherPEM, _ := selfSigned(t, "10.0.2.15")
	a, _ = NewAgent("https://10.0.2.15:9999", otherPEM, forward, "t")
	if _, err := a.Status(context.Background()); err == nil || !strings.Contains(err.Error(), "certificate signed by unknown authority") {
		t.Fatalf("another certificate: %v", err)
	}
	a, _ = NewAgent("https://10.0.2.16:9999", pemCert, forward, "t")
	if _, err := a.Status(context.Background()); err == nil || !strings.Contains(err.Error(), "10.0.2.16") {
		t.Fatalf("another address: %v", err)
	}
	for _, tc := range []struct{ url, ca, want string }{
		{"https://10.0.2.15:9999", "", "sent no certificate"},
		{"https://10.0.2.15:9999", "junk", "holds no PEM certificate"},
		{"ftp://10.0.2.15:9999", "", "neither http nor https"},
		{"10.0.2.15", "", "is not a URL"},
	} {
		if _, err := NewAgent(tc.url, tc.ca, forward, "t"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %q: %v", tc.url, tc.ca, err)
		}
	}
}

func TestAdvertisedPort(t *testing.T) {
	for in, want := range map[string]string{"http://10.0.2.15:9999": "9999", "https://[fec0::5]:8443": "8443", "https://host": "443", "http://host": "80"} {
		if got := AdvertisedPort(in); got != want {
			t.Errorf("%s: %q, want %q", in, got, want)
		}
	}
}

// The test agent and the stand-in agree on the whole protocol: inventory,
// lookup, heartbeat with the token, then the agent's API with that token.
func TestProtocolRoundTrip(t *testing.T) {
	s := standIn(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	listen := l.Addr().String()
	l.Close()
	ag, err := ironictest.FromKernelArgs("console=ttyS0 ipa-api-url=" + strings.Replace(s.URL(), "127.0.0.1", "10.0.2.2", 1) +
		" ipa-inspection-callback-url=" + s.URL() + "/v1/continue_inspection")
	if err != nil {
		t.Fatal(err)
	}
	ag.Listen = listen
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- ag.Run(ctx) }()
	for s.Observed().Heartbeat == nil {
		select {
		case err := <-errc:
			t.Fatalf("agent: %v", err)
		case <-s.Changed():
		case <-time.After(10 * time.Second):
			t.Fatalf("no heartbeat: %+v", s.Observed())
		}
	}
	obs := s.Observed()
	if obs.Inspection == nil || !obs.Inspection.NodeSeen || obs.Lookup == nil || obs.Lookup.NodeUUID != s.Node().UUID || len(obs.Rejected) != 0 {
		t.Fatalf("observed %+v", obs)
	}
	a, err := NewAgent(obs.Heartbeat.CallbackURL, "", listen, s.Node().Token)
	if err != nil {
		t.Fatal(err)
	}
	if cs, err := a.GetCleanSteps(ctx, s.Node()); err != nil || len(cs.Steps) != 3 {
		t.Fatalf("clean steps %+v %v", cs, err)
	}
}
