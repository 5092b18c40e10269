package ironic

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ipabr/ipabr/internal/ironic/ironictest"
)

const guestMAC = "52:54:00:12:34:56"

// standIn serves a fresh node on 127.0.0.1 for the test.
func standIn(t *testing.T) *Server {
	t.Helper()
	node, err := NewNode(guestMAC)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Listen(NewAPI(node, nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

// call makes a real HTTP request to the stand-in, with headers as
// "Name: value" strings.
func call(t *testing.T, s *Server, method, path string, body io.Reader, headers ...string) answer {
	t.Helper()
	req, err := http.NewRequest(method, s.URL()+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header, b}
}

// faultstring reads an error the way IPA's client does
// (ironic_api_client.py, _error_from_response): error_message holds a JSON
// string whose faultstring is the message.
func (a answer) faultstring(t *testing.T) string {
	t.Helper()
	var outer struct {
		ErrorMessage string `json:"error_message"`
	}
	if err := json.Unmarshal(a.body, &outer); err != nil {
		t.Fatalf("error body %s: %v", a.body, err)
	}
	var inner struct {
		Faultcode   string `json:"faultcode"`
		Faultstring string `json:"faultstring"`
	}
	if err := json.Unmarshal([]byte(outer.ErrorMessage), &inner); err != nil || inner.Faultstring == "" || inner.Faultcode != "Client" {
		t.Fatalf("error_message %q is not Ironic's format: %v", outer.ErrorMessage, err)
	}
	return inner.Faultstring
}

// IPA's requests as ironic_python_agent/ironic_api_client.py sends them.
// requests encodes the lookup parameters (: as %3A, , as %2C); lookup asks
// for min(server version, 1.62), the heartbeat for min(server, 1.68).
const (
	lookupPath     = "/v1/lookup?addresses=52%3A54%3A00%3A12%3A34%3A56%2C52%3A54%3A00%3Aab%3Acd%3Aef"
	lookupVersion  = "X-OpenStack-Ironic-API-Version: 1.62"
	beatVersion    = "X-OpenStack-Ironic-API-Version: 1.68"
	jsonType       = "Content-Type: application/json"
	jsonAccept     = "Accept: application/json"
	heartbeatShape = `{"callback_url": "http://10.0.2.15:9999", "agent_token": "%s", "agent_version": "11.3.0"}`
)

func TestVersionDiscovery(t *testing.T) {
	s := standIn(t)
	a := call(t, s, "GET", "/", nil, jsonType, jsonAccept)
	if a.status != 200 {
		t.Fatalf("GET / → %d", a.status)
	}
	for h, want := range map[string]string{MinVersionHeader: "1.1", MaxVersionHeader: "1.68", VersionHeader: "1.1"} {
		if got := a.header.Get(h); got != want {
			t.Errorf("%s: %q, want %q", h, got, want)
		}
	}
	// What IPA reads: data['default_version']['version'].
	var root struct {
		DefaultVersion struct{ Version, MinVersion string } `json:"default_version"`
		Versions       []struct{ ID string }
	}
	if err := json.Unmarshal(a.body, &root); err != nil || root.DefaultVersion.Version != "1.68" || len(root.Versions) != 1 || root.Versions[0].ID != "v1" {
		t.Fatalf("root %s: %v", a.body, err)
	}
	a = call(t, s, "GET", "/v1/", nil, "X-OpenStack-Ironic-API-Version: 1.40")
	if a.status != 200 || a.header.Get(VersionHeader) != "1.40" || !bytes.Contains(a.body, []byte(`"lookup"`)) {
		t.Fatalf("GET /v1/ → %d %v %s", a.status, a.header, a.body)
	}
	for _, v := range []string{"1.69", "2.0", "1.0", "one"} {
		a = call(t, s, "GET", "/", nil, "X-OpenStack-Ironic-API-Version: "+v)
		if a.status != http.StatusNotAcceptable || a.header.Get(MaxVersionHeader) != "1.68" {
			t.Errorf("version %s: %d, max header %q", v, a.status, a.header.Get(MaxVersionHeader))
		}
	}
	if a := call(t, s, "GET", "/", nil, "X-OpenStack-Ironic-API-Version: latest"); a.status != 200 || a.header.Get(VersionHeader) != "1.68" {
		t.Errorf("latest: %d %q", a.status, a.header.Get(VersionHeader))
	}
	if a := call(t, s, "POST", "/", nil); a.status != http.StatusMethodNotAllowed {
		t.Errorf("POST /: %d", a.status)
	}
}

type lookupAnswer struct {
	Node struct {
		UUID         string         `json:"uuid"`
		Properties   map[string]any `json:"properties"`
		InstanceInfo map[string]any `json:"instance_info"`
	} `json:"node"`
	Config struct {
		HeartbeatTimeout   int    `json:"heartbeat_timeout"`
		AgentToken         string `json:"agent_token"`
		AgentTokenRequired bool   `json:"agent_token_required"`
	} `json:"config"`
}

func lookup(t *testing.T, s *Server, path string) lookupAnswer {
	t.Helper()
	a := call(t, s, "GET", path, nil, lookupVersion, jsonType, jsonAccept)
	if a.status != 200 {
		t.Fatalf("GET %s → %d %s", path, a.status, a.body)
	}
	var l lookupAnswer
	if err := json.Unmarshal(a.body, &l); err != nil {
		t.Fatal(err)
	}
	return l
}

func TestLookup(t *testing.T) {
	s := standIn(t)
	node := s.Node()
	if a := call(t, s, "GET", "/v1/lookup?addresses=52%3A54%3A00%3A00%3A00%3A01", nil, lookupVersion); a.status != 404 || !strings.Contains(a.faultstring(t), "name none of the node's ports (52:54:00:12:34:56)") {
		t.Fatalf("unknown MAC: %d %s", a.status, a.body)
	}
	l := lookup(t, s, lookupPath)
	// IPA's process_lookup_data reads these, and keeps tokens of 32+ characters.
	if l.Node.UUID != node.UUID || l.Node.Properties == nil || l.Node.InstanceInfo == nil ||
		l.Config.HeartbeatTimeout != 300 || l.Config.AgentToken != node.Token || len(l.Config.AgentToken) < 32 || !l.Config.AgentTokenRequired {
		t.Fatalf("lookup %+v", l)
	}
	// Ironic hands the token out once.
	if again := lookup(t, s, lookupPath+"&node_uuid="+node.UUID); again.Config.AgentToken != "******" {
		t.Fatalf("second lookup token %q", again.Config.AgentToken)
	}
	obs := s.Observed()
	if obs.Lookup == nil || strings.Join(obs.Lookup.Addresses, ",") != "52:54:00:12:34:56,52:54:00:ab:cd:ef" || obs.Lookup.Version != (Version{1, 62}) {
		t.Fatalf("recorded lookup %+v", obs.Lookup)
	}
	if obs.LookupMisses != 1 || !strings.Contains(obs.LastMiss, "52:54:00:00:00:01") {
		t.Fatalf("misses %d %q", obs.LookupMisses, obs.LastMiss)
	}
	for _, tc := range []struct {
		path, version string
		status        int
		want          string
	}{
		{"/v1/lookup", lookupVersion, 400, "needs addresses"},
		{"/v1/lookup?addresses=not-a-mac", lookupVersion, 400, "needs addresses"},
		{lookupPath + "&node_uuid=0b8a7c3e-0000-4000-8000-000000000000", lookupVersion, 404, "is not the node"},
		{lookupPath, "X-OpenStack-Ironic-API-Version: 1.21", 404, "needs API version 1.22"},
	} {
		a := call(t, s, "GET", tc.path, nil, tc.version)
		if a.status != tc.status || !strings.Contains(a.faultstring(t), tc.want) {
			t.Errorf("GET %s: %d %s; want %d %q", tc.path, a.status, a.body, tc.status, tc.want)
		}
	}
}

func TestHeartbeat(t *testing.T) {
	s := standIn(t)
	node := s.Node()
	path := "/v1/heartbeat/" + node.UUID
	beat := func(body string, version string) answer {
		return call(t, s, "POST", path, strings.NewReader(body), version, jsonType, jsonAccept)
	}
	// Before lookup no token has been handed out.
	if a := beat(fmt.Sprintf(heartbeatShape, node.Token), beatVersion); a.status != 400 || a.faultstring(t) != "Invalid or missing agent token received." {
		t.Fatalf("heartbeat before lookup: %d %s", a.status, a.body)
	}
	if r := s.Observed().Refused; r == nil || !strings.Contains(r.Reason, "before any lookup") {
		t.Fatalf("refused %+v", r)
	}
	lookup(t, s, lookupPath)
	// Change the first character to one it is not: a fixed "x" would equal a token that starts with x.
	wrong := "x" + node.Token[1:]
	if node.Token[0] == 'x' {
		wrong = "y" + node.Token[1:]
	}
	if a := beat(fmt.Sprintf(heartbeatShape, wrong), beatVersion); a.status != 400 {
		t.Fatalf("wrong token: %d", a.status)
	}
	if s.Observed().Heartbeat != nil {
		t.Fatal("a refused heartbeat was accepted")
	}
	start := time.Now()
	a := beat(fmt.Sprintf(heartbeatShape, node.Token), beatVersion)
	if a.status != http.StatusAccepted || len(a.body) != 0 {
		t.Fatalf("heartbeat: %d %s", a.status, a.body)
	}
	h := s.Observed().Heartbeat
	if h == nil || h.CallbackURL != "http://10.0.2.15:9999" || h.AgentVersion != "11.3.0" || h.AgentToken != node.Token || h.Version != (Version{1, 68}) || h.At.Before(start) {
		t.Fatalf("recorded heartbeat %+v", h)
	}
	// With automatic TLS the agent also sends its certificate.
	if a := beat(`{"callback_url": "https://10.0.2.15:9999", "agent_token": "`+node.Token+`", "agent_version": "11.3.0", "agent_verify_ca": "-----BEGIN CERTIFICATE-----"}`, beatVersion); a.status != 202 {
		t.Fatalf("heartbeat with agent_verify_ca: %d %s", a.status, a.body)
	}
	for _, tc := range []struct {
		path, body, version string
		status              int
		want                string
	}{
		{path, `{"agent_token": "` + node.Token + `"}`, beatVersion, 400, "no callback_url"},
		{path, `{"callback_url": "10.0.2.15:9999", "agent_token": "` + node.Token + `"}`, beatVersion, 400, "not an http(s) URL"},
		{path, fmt.Sprintf(heartbeatShape, node.Token), "X-OpenStack-Ironic-API-Version: 1.31", 400, "agent_version, which needs API version 1.36"},
		{path, `{"callback_url": "http://10.0.2.15:9999", "agent_version": "1", "agent_token": "` + node.Token + `"}`, "X-OpenStack-Ironic-API-Version: 1.36", 400, "agent_token, which needs API version 1.62"},
		{path, `{"callback_url": "http://10.0.2.15:9999"}`, beatVersion, 400, "Invalid or missing agent token"},
		{path, `{"callback_url": 9999}`, beatVersion, 400, "callback_url is a JSON number where IPA sends a string"},
		{"/v1/heartbeat/someone-else", fmt.Sprintf(heartbeatShape, node.Token), beatVersion, 404, "could not be found"},
	} {
		a := call(t, s, "POST", tc.path, strings.NewReader(tc.body), tc.version, jsonType)
		if a.status != tc.status || !strings.Contains(a.faultstring(t), tc.want) {
			t.Errorf("%s %s: %d %s; want %d %q", tc.path, tc.body, a.status, a.body, tc.status, tc.want)
		}
	}
	if a := call(t, s, "GET", path, nil, beatVersion); a.status != http.StatusMethodNotAllowed || a.header.Get("Allow") != "POST" {
		t.Errorf("GET heartbeat: %d", a.status)
	}
}

func TestContinueInspection(t *testing.T) {
	s := standIn(t)
	doc := ironictest.Inspection
	// inspector.py's call_inspector sends no version header.
	a := call(t, s, "POST", "/v1/continue_inspection", bytes.NewReader(doc), jsonType, jsonAccept)
	var got struct{ UUID string }
	if a.status != http.StatusAccepted || json.Unmarshal(a.body, &got) != nil || got.UUID != s.Node().UUID {
		t.Fatalf("continue_inspection: %d %s", a.status, a.body)
	}
	rec := s.Observed().Inspection
	if rec == nil || !bytes.Equal(rec.Raw, doc) || !rec.NodeSeen {
		t.Fatalf("recorded %+v", rec)
	}
	inv := rec.Parsed.Inventory
	if len(inv.Disks) != 2 || inv.Disks[1].Name != "/dev/nvme0n1" || inv.Disks[1].Size != 2<<30 || inv.Disks[1].Model != "QEMU NVMe Ctrl" ||
		inv.CPU.Count != 2 || inv.Memory.PhysicalMB != 2048 || inv.Boot.CurrentBootMode != "bios" ||
		inv.Interfaces[0].Driver != "e1000" || rec.Parsed.Configuration.Managers[0] != (HardwareManager{"generic_hardware_manager", "1.2"}) {
		t.Fatalf("parsed %+v", rec.Parsed)
	}
	// An inventory of another machine is kept (it says what the agent saw)
	// but matches no node.
	other := bytes.ReplaceAll(doc, []byte(guestMAC), []byte("52:54:00:99:99:99"))
	if a := call(t, s, "POST", "/v1/continue_inspection", bytes.NewReader(other)); a.status != 404 || !strings.Contains(a.faultstring(t), "No node matches") {
		t.Fatalf("other machine: %d %s", a.status, a.body)
	}
	if rec := s.Observed().Inspection; rec.NodeSeen || !bytes.Equal(rec.Raw, other) {
		t.Fatal("the other machine's inventory was not recorded as unmatched")
	}
}

// The guest is untrusted input: broken and oversized bodies get a 400 and
// the stand-in keeps serving.
func TestBadRequests(t *testing.T) {
	s := standIn(t)
	lookup(t, s, lookupPath)
	beat := "/v1/heartbeat/" + s.Node().UUID
	huge := func(n int64) io.Reader { return io.LimitReader(repeat('{'), n) }
	for _, tc := range []struct {
		name, path string
		body       io.Reader
		want       string
	}{
		{"malformed inventory", "/v1/continue_inspection", strings.NewReader(`{"inventory": {"disks": [`), "not a JSON object"},
		{"inventory list", "/v1/continue_inspection", strings.NewReader(`[1, 2]`), "not a JSON object"},
		{"no inventory", "/v1/continue_inspection", strings.NewReader(`{"error": null}`), "no inventory"},
		{"inventory string", "/v1/continue_inspection", strings.NewReader(`{"inventory": "yes"}`), "not a JSON object"},
		{"disk size word", "/v1/continue_inspection", strings.NewReader(`{"inventory": {"disks": [{"size": "big"}]}}`), "not a number"},
		{"disks object", "/v1/continue_inspection", strings.NewReader(`{"inventory": {"disks": {}}}`), "inventory.disks is a JSON object where IPA sends a list"},
		{"empty heartbeat", beat, strings.NewReader(``), "not a JSON object"},
		{"malformed heartbeat", beat, strings.NewReader(`{"callback_url": "http://10.0.2.15:9999",`), "not a JSON object"},
		{"huge heartbeat", beat, huge(MaxRequestBytes + 1), "limit"},
		{"huge inventory", "/v1/continue_inspection", huge(MaxInspectionBytes + 1), "limit"},
		{"huge inventory, length unknown", "/v1/continue_inspection", struct{ io.Reader }{huge(MaxInspectionBytes + 1)}, "larger than the limit"},
	} {
		a := call(t, s, "POST", tc.path, tc.body, beatVersion, jsonType)
		if a.status != 400 || !strings.Contains(a.faultstring(t), tc.want) {
			t.Errorf("%s: %d %s; want 400 %q", tc.name, a.status, a.body, tc.want)
		}
	}
	obs := s.Observed()
	if len(obs.Rejected) != 8 || obs.Inspection != nil || obs.Heartbeat != nil {
		t.Fatalf("observed %+v", obs)
	}
	if last := obs.Rejected[7].String(); !strings.HasPrefix(last, "POST /v1/continue_inspection → 400 The request body is larger") {
		t.Fatalf("last rejection %q", last)
	}
	if a := call(t, s, "GET", "/", nil); a.status != 200 {
		t.Fatalf("the stand-in stopped serving: %d", a.status)
	}
	if a := call(t, s, "GET", "/v1/nodes", nil); a.status != 404 {
		t.Fatalf("GET /v1/nodes: %d", a.status)
	}
}

type repeat byte

func (r repeat) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

func TestCloseStopsListening(t *testing.T) {
	node, _ := NewNode(guestMAC)
	s, err := Listen(NewAPI(node, nil))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") {
		t.Fatalf("listening on %s", s.URL())
	}
	s.Close()
	if _, err := http.Get(s.URL() + "/"); err == nil {
		t.Fatal("still answering after Close")
	}
}

func TestNewNode(t *testing.T) {
	a, _ := NewNode("52:54:00:AA:BB:CC")
	b, _ := NewNode()
	if a.UUID == b.UUID || a.Token == b.Token || len(a.Token) < 32 || len(a.UUID) != 36 || a.UUID[14] != '4' || !a.HasMAC("52:54:00:aa:bb:cc") {
		t.Fatalf("%+v %+v", a, b)
	}
}

// FuzzAPI sends arbitrary bodies to every endpoint: the answer is always a
// well-formed status, never a crash.
func FuzzAPI(f *testing.F) {
	doc := ironictest.Inspection
	f.Add("/v1/continue_inspection", doc)
	f.Add("/v1/heartbeat/", []byte(fmt.Sprintf(heartbeatShape, "t")))
	f.Add("/v1/lookup", []byte(`{}`))
	f.Add("/v1/continue_inspection", []byte(`{"inventory": {"cpu": {"count": "1e400"}}}`))
	node, _ := NewNode(guestMAC)
	f.Fuzz(func(t *testing.T, path string, body []byte) {
		api := NewAPI(node, nil)
		if strings.HasPrefix(path, "/v1/heartbeat/") {
			path = "/v1/heartbeat/" + node.UUID
		}
		req, err := http.NewRequest("POST", "http://10.0.2.2"+path, bytes.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set(VersionHeader, "1.68")
		w := httptest.NewRecorder()
		api.ServeHTTP(w, req)
		if w.Code != 202 && (w.Code < 400 || w.Code >= 500) {
			t.Fatalf("%s %q → %d", path, body, w.Code)
		}
	})
}
