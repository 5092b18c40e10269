// Package ironic plays Ironic's side of the conversation with an Ironic
// Python Agent: a stand-in for the parts of Ironic's API the agent calls
// (version discovery, lookup, heartbeat, the inspection callback) and a
// client for the agent's own API (status, commands). Its contract comes
// from IPA's client code; doc/qemu.md writes it down. It never prints.
package ironic

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ipabr/ipabr/internal/lazyregexp"
)

// Node is the one bare-metal node the stand-in knows: the machine under test.
type Node struct {
	UUID  string
	MACs  []string // its ports, lower case
	Token string   // the agent token handed out on the first lookup
	// HeartbeatTimeout is the lookup's config.heartbeat_timeout in seconds;
	// the agent heartbeats at a fraction of it.
	HeartbeatTimeout int
}

// NewNode makes a node with a random UUID and agent token for the given
// MAC addresses.
func NewNode(macs ...string) (Node, error) {
	b := make([]byte, 16+32)
	if _, err := rand.Read(b); err != nil {
		return Node{}, err
	}
	u := b[:16]
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	n := Node{
		UUID: fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16]),
		// IPA ignores tokens shorter than 32 characters (agent.py,
		// process_lookup_data); 32 random bytes give 43.
		Token:            base64.RawURLEncoding.EncodeToString(b[16:]),
		HeartbeatTimeout: 300,
	}
	for _, m := range macs {
		n.MACs = append(n.MACs, strings.ToLower(m))
	}
	return n, nil
}

// HasMAC reports whether mac is one of the node's ports.
func (n Node) HasMAC(mac string) bool {
	mac = strings.ToLower(strings.TrimSpace(mac))
	for _, m := range n.MACs {
		if m == mac {
			return true
		}
	}
	return false
}

// Body limits: the inspection document carries the agent's logs (a base64
// tarball of the journal), the other requests a few hundred bytes.
const (
	MaxInspectionBytes = 64 << 20
	MaxRequestBytes    = 1 << 20
)

// Observed is what the agent did, as the stand-in saw it.
type Observed struct {
	// Inspection is the latest inventory posted to the callback.
	Inspection *InspectionRecord
	// Lookup is the first lookup that found the node.
	Lookup *LookupRecord
	// LookupMisses counts lookups answered 404; LastMiss says why.
	LookupMisses int
	LastMiss     string
	// Heartbeat is the first accepted heartbeat.
	Heartbeat *HeartbeatRecord
	// Refused is the first heartbeat refused for its token, if any.
	Refused *HeartbeatRecord
	// Rejected are the last requests answered with an error (up to 8).
	Rejected []Rejection
}

// InspectionRecord is one inventory the agent posted.
type InspectionRecord struct {
	At       time.Time
	Raw      []byte // the document as sent
	Parsed   *Inspection
	NodeSeen bool // one of its interfaces is the node's
}

// LookupRecord is a lookup request.
type LookupRecord struct {
	At        time.Time
	Addresses []string
	NodeUUID  string
	Version   Version
}

// HeartbeatRecord is a heartbeat request.
type HeartbeatRecord struct {
	At           time.Time
	CallbackURL  string
	AgentVersion string
	AgentToken   string
	VerifyCA     string // the agent's certificate when it serves TLS
	Version      Version
	Reason       string // why it was refused
}

// Rejection is a request the stand-in answered with an error.
type Rejection struct {
	At     time.Time
	Method string
	Path   string
	Status int
	Reason string
}

func (r Rejection) String() string {
	return fmt.Sprintf("%s %s → %d %s", r.Method, r.Path, r.Status, r.Reason)
}

// API is the stand-in Ironic: an http.Handler that records what the agent
// does. Serve it with Listen, or directly in tests.
type API struct {
	node Node
	now  func() time.Time

	mu      sync.Mutex
	obs     Observed
	issued  bool // the token went out once; later lookups get it masked
	changed chan struct{}
}

// NewAPI serves node. now is the clock (time.Now when nil).
func NewAPI(node Node, now func() time.Time) *API {
	if now == nil {
		now = time.Now
	}
	return &API{node: node, now: now, changed: make(chan struct{}, 1)}
}

// Node is the node the API serves.
func (a *API) Node() Node { return a.node }

// Changed receives a value after each request that changed Observed.
func (a *API) Changed() <-chan struct{} { return a.changed }

// Observed returns a copy of what was seen so far.
func (a *API) Observed() Observed {
	a.mu.Lock()
	defer a.mu.Unlock()
	o := a.obs
	o.Rejected = append([]Rejection(nil), a.obs.Rejected...)
	return o
}

func (a *API) update(f func(o *Observed)) {
	a.mu.Lock()
	f(&a.obs)
	a.mu.Unlock()
	select {
	case a.changed <- struct{}{}:
	default:
	}
}

// apiError is an error answer: the status and Ironic's faultstring.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func fail(status int, format string, a ...any) *apiError {
	return &apiError{status: status, msg: fmt.Sprintf(format, a...)}
}

// ServeHTTP routes a request; every answer carries the version headers.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set(MinVersionHeader, MinVersion.String())
	w.Header().Set(MaxVersionHeader, MaxVersion.String())
	v, err := requestVersion(r)
	if err == nil {
		w.Header().Set(VersionHeader, v.String())
		err = a.route(w, r, v)
	}
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			ae = fail(http.StatusInternalServerError, "%v", err)
		}
		a.update(func(o *Observed) {
			o.Rejected = append(o.Rejected, Rejection{At: a.now(), Method: r.Method, Path: r.URL.Path, Status: ae.status, Reason: ae.msg})
			if len(o.Rejected) > 8 {
				o.Rejected = o.Rejected[len(o.Rejected)-8:]
			}
		})
		writeError(w, ae)
	}
}

// requestVersion is the microversion asked for: MinVersion without the
// header, 406 outside MinVersion..MaxVersion, as Ironic answers.
func requestVersion(r *http.Request) (Version, error) {
	h := r.Header.Get(VersionHeader)
	if h == "" {
		return MinVersion, nil
	}
	v, err := ParseVersion(h)
	if err != nil {
		return Version{}, fail(http.StatusNotAcceptable, "%v", err)
	}
	if v.Less(MinVersion) || MaxVersion.Less(v) {
		return Version{}, fail(http.StatusNotAcceptable, "Version %s was requested but is not supported by this service. The supported version range is: [%s, %s].", v, MinVersion, MaxVersion)
	}
	return v, nil
}

var heartbeatPath = lazyregexp.New(`^/v1/heartbeat/([^/]+)/?$`)

func (a *API) route(w http.ResponseWriter, r *http.Request, v Version) error {
	p := r.URL.Path
	switch {
	case p == "/" || p == "":
		return a.get(w, r, a.root)
	case p == "/v1" || p == "/v1/":
		return a.get(w, r, a.v1)
	case p == "/v1/lookup" || p == "/v1/lookup/":
		if v.Less(LookupVersion) {
			return fail(http.StatusNotFound, "The lookup endpoint needs API version %s or newer, %s was requested.", LookupVersion, v)
		}
		if r.Method != http.MethodGet {
			return methodNotAllowed(w, http.MethodGet)
		}
		return a.lookup(w, r, v)
	case heartbeatPath.MatchString(p):
		if v.Less(LookupVersion) {
			return fail(http.StatusNotFound, "The heartbeat endpoint needs API version %s or newer, %s was requested.", LookupVersion, v)
		}
		if r.Method != http.MethodPost {
			return methodNotAllowed(w, http.MethodPost)
		}
		return a.heartbeat(w, r, v, heartbeatPath.FindStringSubmatch(p)[1])
	case p == "/v1/continue_inspection" || p == "/v1/continue_inspection/":
		if r.Method != http.MethodPost {
			return methodNotAllowed(w, http.MethodPost)
		}
		return a.continueInspection(w, r)
	}
	return fail(http.StatusNotFound, "The resource could not be found.")
}

func methodNotAllowed(w http.ResponseWriter, allow string) error {
	w.Header().Set("Allow", allow)
	return fail(http.StatusMethodNotAllowed, "The method is not allowed for the requested URL.")
}

func (a *API) get(w http.ResponseWriter, r *http.Request, doc func(base string) any) error {
	if r.Method != http.MethodGet {
		return methodNotAllowed(w, http.MethodGet)
	}
	// Links use the address the client called: the guest's view of the host.
	writeJSON(w, http.StatusOK, doc("http://"+r.Host))
	return nil
}

// versionDoc is the v1 entry of the root document; IPA reads
// default_version.version to pick its microversion.
func versionDoc(base string) map[string]any {
	return map[string]any{
		"id":          "v1",
		"links":       []map[string]string{{"href": base + "/v1/", "rel": "self"}},
		"status":      "CURRENT",
		"min_version": MinVersion.String(),
		"version":     MaxVersion.String(),
	}
}

func (a *API) root(base string) any {
	return map[string]any{
		"name":            "OpenStack Ironic API",
		"description":     "Ironic is an OpenStack project which enables the provision and management of baremetal machines. (The ipabr stand-in: lookup, heartbeat and inspection only.)",
		"versions":        []any{versionDoc(base)},
		"default_version": versionDoc(base),
	}
}

func (a *API) v1(base string) any {
	doc := versionDoc(base)
	doc["media_types"] = []map[string]string{{"base": "application/json", "type": "application/vnd.openstack.ironic.v1+json"}}
	for _, name := range []string{"lookup", "heartbeat", "continue_inspection"} {
		doc[name] = []map[string]string{{"href": base + "/v1/" + name + "/", "rel": "self"}}
	}
	return doc
}

var macRE = lazyregexp.New(`^[0-9a-f]{2}(:[0-9a-f]{2}){5}$`)

// lookup answers GET /v1/lookup?addresses=MAC,MAC[&node_uuid=UUID] with the
// node and its agent configuration, or 404.
func (a *API) lookup(w http.ResponseWriter, r *http.Request, v Version) error {
	q := r.URL.Query()
	var addrs []string
	for _, s := range strings.Split(q.Get("addresses"), ",") {
		if s = strings.ToLower(strings.TrimSpace(s)); macRE.MatchString(s) {
			addrs = append(addrs, s)
		}
	}
	uuid := q.Get("node_uuid")
	if len(addrs) == 0 && uuid == "" {
		return fail(http.StatusBadRequest, "Lookup needs addresses (valid MAC addresses) or node_uuid; got addresses=%q.", q.Get("addresses"))
	}
	rec := &LookupRecord{At: a.now(), Addresses: addrs, NodeUUID: uuid, Version: v}
	miss := ""
	switch {
	case uuid != "" && uuid != a.node.UUID:
		miss = fmt.Sprintf("node_uuid %s is not the node (%s)", uuid, a.node.UUID)
	case len(addrs) > 0 && !a.anyMAC(addrs):
		miss = fmt.Sprintf("addresses %s name none of the node's ports (%s)", strings.Join(addrs, ","), strings.Join(a.node.MACs, ","))
	}
	if miss != "" {
		a.update(func(o *Observed) { o.LookupMisses++; o.LastMiss = miss })
		return fail(http.StatusNotFound, "Node could not be found: %s.", miss)
	}
	a.mu.Lock()
	token := a.node.Token
	if a.issued {
		token = "******"
	}
	a.issued = true
	a.mu.Unlock()
	a.update(func(o *Observed) {
		if o.Lookup == nil {
			o.Lookup = rec
		}
	})
	writeJSON(w, http.StatusOK, map[string]any{
		"node": a.lookupNode(),
		"config": map[string]any{
			"heartbeat_timeout":    a.node.HeartbeatTimeout,
			"agent_token":          token,
			"agent_token_required": true,
		},
	})
	return nil
}

func (a *API) anyMAC(addrs []string) bool {
	for _, m := range addrs {
		if a.node.HasMAC(m) {
			return true
		}
	}
	return false
}

// lookupNode is the node as lookup returns it: the fields the agent reads
// (hardware managers index properties and instance_info directly).
func (a *API) lookupNode() map[string]any {
	return map[string]any{
		"uuid":                 a.node.UUID,
		"properties":           map[string]any{},
		"instance_info":        map[string]any{},
		"driver_internal_info": map[string]any{},
	}
}

// AgentNode is the node as Ironic passes it to agent commands.
func (n Node) AgentNode() map[string]any {
	return map[string]any{
		"uuid":                 n.UUID,
		"properties":           map[string]any{},
		"instance_info":        map[string]any{},
		"driver_info":          map[string]any{},
		"driver_internal_info": map[string]any{},
		"extra":                map[string]any{},
	}
}

// AgentPorts are the node's ports as Ironic passes them to agent commands.
func (n Node) AgentPorts() []map[string]any {
	var ports []map[string]any
	for _, m := range n.MACs {
		ports = append(ports, map[string]any{
			"address":               m,
			"node_uuid":             n.UUID,
			"pxe_enabled":           true,
			"extra":                 map[string]any{},
			"local_link_connection": map[string]any{},
		})
	}
	return ports
}

// heartbeatBody is what IPA's heartbeat sends; the fields after
// callback_url depend on the microversion.
type heartbeatBody struct {
	CallbackURL   *string `json:"callback_url"`
	AgentToken    *string `json:"agent_token"`
	AgentVersion  *string `json:"agent_version"`
	AgentVerifyCA *string `json:"agent_verify_ca"`
}

// heartbeat answers POST /v1/heartbeat/{node}: 202 when the token is the
// one lookup handed out.
func (a *API) heartbeat(w http.ResponseWriter, r *http.Request, v Version, ident string) error {
	if ident != a.node.UUID {
		return fail(http.StatusNotFound, "Node %s could not be found.", ident)
	}
	data, err := readBody(w, r, MaxRequestBytes)
	if err != nil {
		return err
	}
	var b heartbeatBody
	if err := decodeObject(data, &b); err != nil {
		return fail(http.StatusBadRequest, "Invalid heartbeat body: %v.", err)
	}
	if b.CallbackURL == nil || *b.CallbackURL == "" {
		return fail(http.StatusBadRequest, "The heartbeat has no callback_url.")
	}
	if u, err := url.Parse(*b.CallbackURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fail(http.StatusBadRequest, "The heartbeat's callback_url %q is not an http(s) URL.", *b.CallbackURL)
	}
	for _, f := range []struct {
		name  string
		set   bool
		since Version
	}{
		{"agent_version", b.AgentVersion != nil, AgentVersionVersion},
		{"agent_token", b.AgentToken != nil, AgentTokenVersion},
		{"agent_verify_ca", b.AgentVerifyCA != nil, AgentVerifyCAVersion},
	} {
		if f.set && v.Less(f.since) {
			return fail(http.StatusBadRequest, "The heartbeat sends %s, which needs API version %s or newer; it asked for %s.", f.name, f.since, v)
		}
	}
	rec := &HeartbeatRecord{At: a.now(), CallbackURL: *b.CallbackURL, Version: v,
		AgentVersion: deref(b.AgentVersion), AgentToken: deref(b.AgentToken), VerifyCA: deref(b.AgentVerifyCA)}
	a.mu.Lock()
	issued := a.issued
	a.mu.Unlock()
	switch {
	case !issued:
		rec.Reason = "a heartbeat before any lookup: no agent token was handed out yet"
	case b.AgentToken == nil || *b.AgentToken == "":
		rec.Reason = "the heartbeat carries no agent_token"
	case *b.AgentToken != a.node.Token:
		rec.Reason = "the heartbeat's agent_token is not the one lookup handed out"
	}
	if rec.Reason != "" {
		a.update(func(o *Observed) {
			if o.Refused == nil {
				o.Refused = rec
			}
		})
		return fail(http.StatusBadRequest, "Invalid or missing agent token received.")
	}
	a.update(func(o *Observed) {
		if o.Heartbeat == nil {
			o.Heartbeat = rec
		}
	})
	w.WriteHeader(http.StatusAccepted)
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// continueInspection answers POST /v1/continue_inspection: the inventory.
// The node is found by the inventory's MAC addresses; IPA reads uuid from
// the answer and passes it to lookup as node_uuid.
func (a *API) continueInspection(w http.ResponseWriter, r *http.Request) error {
	data, err := readBody(w, r, MaxInspectionBytes)
	if err != nil {
		return err
	}
	in, err := ParseInspection(data)
	if err != nil {
		return fail(http.StatusBadRequest, "Invalid inspection data: %v.", err)
	}
	rec := &InspectionRecord{At: a.now(), Raw: data, Parsed: in}
	for _, ifc := range in.Inventory.Interfaces {
		if a.node.HasMAC(ifc.MACAddress) {
			rec.NodeSeen = true
		}
	}
	a.update(func(o *Observed) { o.Inspection = rec })
	if !rec.NodeSeen {
		return fail(http.StatusNotFound, "No node matches the inventory's interfaces; the node's ports are %s.", strings.Join(a.node.MACs, ","))
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"uuid": a.node.UUID})
	return nil
}

// readBody reads at most limit bytes; a longer body is a 400.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, fail(http.StatusBadRequest, "The request body is %d bytes; the limit is %d.", r.ContentLength, limit)
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, fail(http.StatusBadRequest, "The request body is larger than the limit of %d bytes.", limit)
		}
		return nil, fail(http.StatusBadRequest, "Reading the request body: %v.", err)
	}
	return data, nil
}

// decodeObject decodes a JSON object into v.
func decodeObject(data []byte, v any) error {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(data, &probe); err != nil {
		return fmt.Errorf("not a JSON object: %s", jsonError(err))
	}
	if err := json.Unmarshal(data, v); err != nil {
		return errors.New(jsonError(err))
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers in Ironic's error format, which IPA's client parses
// (error_message holding a JSON string with faultstring).
func writeError(w http.ResponseWriter, e *apiError) {
	inner, _ := json.Marshal(map[string]any{"faultcode": faultcode(e.status), "faultstring": e.msg, "debuginfo": nil})
	writeJSON(w, e.status, map[string]string{"error_message": string(inner)})
}

func faultcode(status int) string {
	if status >= 500 {
		return "Server"
	}
	return "Client"
}

// Server is the API listening on 127.0.0.1.
type Server struct {
	*API
	srv  *http.Server
	port int
	done chan struct{}
}

// Listen serves api on 127.0.0.1 at a free port.
func Listen(api *API) (*Server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("the stand-in Ironic API cannot listen on 127.0.0.1: %w", err)
	}
	s := &Server{API: api, port: l.Addr().(*net.TCPAddr).Port, done: make(chan struct{}),
		srv: &http.Server{Handler: api, ReadHeaderTimeout: 30 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}}
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(l)
	}()
	return s, nil
}

// Port is the port on 127.0.0.1.
func (s *Server) Port() int { return s.port }

// URL is the API's address on the host.
func (s *Server) URL() string { return "http://127.0.0.1:" + strconv.Itoa(s.port) }

// Close stops listening and drops open connections.
func (s *Server) Close() error {
	err := s.srv.Close()
	<-s.done
	return err
}
