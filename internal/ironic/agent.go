package ironic

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"syscall"
	"time"
)

// Agent calls an agent's API (ironic_python_agent/api/app.py) the way
// Ironic's conductor does, at the address the agent is reachable on from
// here (a forwarded port) rather than the one it advertised.
type Agent struct {
	URL    string // scheme://host:port, no trailing slash
	Token  string
	Client *http.Client
}

// MaxAgentAnswer bounds what ipabr reads from the agent.
const MaxAgentAnswer = 16 << 20

// NewAgent is the client for an agent that advertised callbackURL in its
// heartbeat and is reachable at forward (host:port). An https callback
// (IPA's automatic TLS) is verified against the certificate the agent sent
// as agent_verify_ca, for the advertised host, as Ironic does.
func NewAgent(callbackURL, verifyCA, forward, token string) (*Agent, error) {
	u, err := url.Parse(callbackURL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("the agent's callback_url %q is not a URL", callbackURL)
	}
	tr := &http.Transport{Proxy: nil, DisableKeepAlives: true}
	switch u.Scheme {
	case "http":
	case "https":
		if strings.TrimSpace(verifyCA) == "" {
			return nil, fmt.Errorf("the agent advertises %s but sent no certificate (agent_verify_ca) to verify it with", callbackURL)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(verifyCA)) {
			return nil, errors.New("the agent's agent_verify_ca holds no PEM certificate")
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}
	default:
		return nil, fmt.Errorf("the agent's callback_url %q is neither http nor https", callbackURL)
	}
	return &Agent{
		URL:    u.Scheme + "://" + forward,
		Token:  token,
		Client: &http.Client{Transport: tr, Timeout: 5 * time.Minute},
	}, nil
}

// AdvertisedPort is the port in the agent's callback URL (443 or 80 when
// it names none).
func AdvertisedPort(callbackURL string) string {
	u, err := url.Parse(callbackURL)
	if err != nil {
		return ""
	}
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "https" {
		return "443"
	}
	return "80"
}

// AgentStatus is the agent's GET /v1/status.
type AgentStatus struct {
	StartedAt float64 `json:"started_at"`
	Version   string  `json:"version"`
}

// Status asks the agent for its status.
func (a *Agent) Status(ctx context.Context) (*AgentStatus, error) {
	var st AgentStatus
	if err := a.do(ctx, http.MethodGet, "/v1/status", nil, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// CommandResult is a finished agent command (extensions/base.py,
// BaseCommandResult).
type CommandResult struct {
	ID            string          `json:"id"`
	CommandName   string          `json:"command_name"`
	CommandStatus string          `json:"command_status"`
	CommandError  json.RawMessage `json:"command_error"`
	CommandResult json.RawMessage `json:"command_result"`
}

// Run posts a command and waits for its result (?wait=true), with the agent
// token as Ironic passes it.
func (a *Agent) Run(ctx context.Context, name string, params map[string]any) (*CommandResult, error) {
	body, err := json.Marshal(map[string]any{"name": name, "params": params})
	if err != nil {
		return nil, err
	}
	q := url.Values{"wait": {"true"}, "agent_token": {a.Token}}
	var res CommandResult
	if err := a.do(ctx, http.MethodPost, "/v1/commands/?"+q.Encode(), body, &res); err != nil {
		return nil, err
	}
	switch res.CommandStatus {
	case "SUCCEEDED":
		return &res, nil
	case "":
		return nil, fmt.Errorf("%s: the answer is no command result", name)
	default:
		return nil, fmt.Errorf("%s: %s: %s", name, res.CommandStatus, commandError(res.CommandError))
	}
}

// commandError is the message of a serialised agent error
// ({"type": ..., "message": ..., "details": ...}), or the raw JSON.
func commandError(raw json.RawMessage) string {
	var e struct {
		Type    string `json:"type"`
		Message string `json:"message"`
		Details string `json:"details"`
	}
	if json.Unmarshal(raw, &e) == nil && (e.Message != "" || e.Details != "") {
		msg := e.Message
		if e.Details != "" && e.Details != e.Message {
			msg = strings.TrimSpace(msg + " " + e.Details)
		}
		if e.Type != "" {
			msg = e.Type + ": " + msg
		}
		return msg
	}
	return Snippet(raw)
}

// CleanStep is one step a hardware manager offers.
type CleanStep struct {
	Manager         string `json:"manager"`
	Step            string `json:"step"`
	Interface       string `json:"interface"`
	Priority        Number `json:"priority"`
	RebootRequested bool   `json:"reboot_requested"`
	Abortable       bool   `json:"abortable"`
}

// CleanSteps is the answer to clean.get_clean_steps.
type CleanSteps struct {
	Steps    []CleanStep       // by manager, then priority (highest first), then name
	Managers []HardwareManager // hardware_manager_version, by name
}

// GetCleanSteps runs clean.get_clean_steps for node, as Ironic does before
// cleaning.
func (a *Agent) GetCleanSteps(ctx context.Context, node Node) (*CleanSteps, error) {
	res, err := a.Run(ctx, "clean.get_clean_steps", map[string]any{"node": node.AgentNode(), "ports": node.AgentPorts()})
	if err != nil {
		return nil, err
	}
	return ParseCleanSteps(res.CommandResult)
}

// ParseCleanSteps reads clean.get_clean_steps' command_result:
// {"clean_steps": {MANAGER: [STEP, ...]}, "hardware_manager_version": {NAME: VERSION}}.
func ParseCleanSteps(raw json.RawMessage) (*CleanSteps, error) {
	var r struct {
		CleanSteps map[string][]CleanStep `json:"clean_steps"`
		Versions   map[string]string      `json:"hardware_manager_version"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("clean.get_clean_steps: unexpected result %s: %s", Snippet(raw), jsonError(err))
	}
	if r.CleanSteps == nil || r.Versions == nil {
		return nil, fmt.Errorf("clean.get_clean_steps: the result lacks clean_steps or hardware_manager_version: %s", Snippet(raw))
	}
	cs := &CleanSteps{}
	for mgr, steps := range r.CleanSteps {
		for _, s := range steps {
			s.Manager = mgr
			cs.Steps = append(cs.Steps, s)
		}
	}
	sort.Slice(cs.Steps, func(i, j int) bool {
		a, b := cs.Steps[i], cs.Steps[j]
		if a.Manager != b.Manager {
			return a.Manager < b.Manager
		}
		if a.Priority != b.Priority {
			return a.Priority > b.Priority
		}
		return a.Step < b.Step
	})
	for name, v := range r.Versions {
		cs.Managers = append(cs.Managers, HardwareManager{Name: name, Version: v})
	}
	sort.Slice(cs.Managers, func(i, j int) bool { return cs.Managers[i].Name < cs.Managers[j].Name })
	return cs, nil
}

func (a *Agent) do(ctx context.Context, method, path string, body []byte, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.URL+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	what := method + " " + strings.SplitN(path, "?", 2)[0]
	resp, err := a.Client.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %v", what, ConnError(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxAgentAnswer))
	if err != nil {
		return fmt.Errorf("%s: reading the answer: %v", what, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s: %s", what, resp.Status, faultstring(data))
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s: not the JSON the agent sends: %s", what, Snippet(data))
	}
	return nil
}

// faultstring is the message of the agent's error document
// ({"faultcode": ..., "faultstring": ...}), or the body itself.
func faultstring(data []byte) string {
	var f struct {
		Faultstring string `json:"faultstring"`
	}
	if json.Unmarshal(data, &f) == nil && f.Faultstring != "" {
		return f.Faultstring
	}
	return Snippet(data)
}

// The short connection errors ConnError returns: one value each, so that
// two attempts that failed alike compare equal.
var (
	ErrRefused  = errors.New("connection refused")
	ErrReset    = errors.New("connection reset")
	ErrClosed   = errors.New("connection closed without an answer")
	ErrNoAnswer = errors.New("no answer (request timed out)")
)

// ConnError shortens a failed request to what matters while a guest boots,
// without the ephemeral addresses that make every attempt's message differ.
func ConnError(err error) error {
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.Is(err, syscall.ECONNREFUSED):
		return ErrRefused
	case errors.Is(err, syscall.ECONNRESET):
		return ErrReset
	// net/http reports a connection the server closed before answering
	// as EOF (the clients here keep no idle connections to be closed).
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return ErrClosed
	case errors.As(err, &ne) && ne.Timeout():
		return ErrNoAnswer
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// Snippet quotes the start of an unexpected answer for a message.
func Snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return fmt.Sprintf("%q", s)
}
