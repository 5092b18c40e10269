package qemu

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/ipabr/ipabr/internal/ironic"
)

// Answer is what the agent said.
type Answer struct {
	URL      string   // the URL that answered
	Name     string   // the root document's name, if any
	Versions []string // the root document's version ids, if any
}

// Describe is a short human description: the API name and its versions.
func (a *Answer) Describe() string {
	name := a.Name
	if name == "" {
		name = "agent status"
	}
	if len(a.Versions) > 0 {
		name += ", versions " + strings.Join(a.Versions, " ")
	}
	return name
}

// NewClient is the HTTP client probes use: no proxy, no keep-alive, and a
// short per-request timeout, because a guest that is still booting either
// resets the forwarded connection or never answers it.
func NewClient() *http.Client {
	return &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{
			Proxy:             nil,
			DisableKeepAlives: true,
		},
	}
}

// rootDocument is the part of IPA's API root document (GET /) we look at:
//
//	{"name": "OpenStack Ironic Python Agent API", "description": "...",
//	 "versions": [{"id": "v1", ...}], "default_version": {...}}
type rootDocument struct {
	Name     string            `json:"name"`
	Versions []json.RawMessage `json:"versions"`
}

// Probe asks the agent at base (http://127.0.0.1:PORT) whether it is up: GET
// / must return IPA's root document (JSON with a versions list, or a name
// naming the Ironic Python Agent API), or else GET /v1/status must answer
// 200 with a JSON object. The error says what was seen instead.
func Probe(ctx context.Context, client *http.Client, base string) (*Answer, error) {
	base = strings.TrimRight(base, "/")
	a, rootErr := probeRoot(ctx, client, base)
	if rootErr == nil || ctx.Err() != nil {
		return a, rootErr
	}
	body, err := get(ctx, client, base+"/v1/status")
	if err == nil {
		var status map[string]any
		if json.Unmarshal(body, &status) == nil {
			// A guest whose agent came up between the two requests
			// answers the root document now.
			if a, err := probeRoot(ctx, client, base); err == nil {
				return a, nil
			}
			return &Answer{URL: base + "/v1/status"}, nil
		}
		err = fmt.Errorf("GET /v1/status: not a JSON object: %s", ironic.Snippet(body))
	}
	if rootErr == err {
		return nil, rootErr // both requests failed alike (ironic's short connection errors): said once
	}
	return nil, fmt.Errorf("%v; %v", rootErr, err)
}

// probeRoot asks for IPA's root document at base.
func probeRoot(ctx context.Context, client *http.Client, base string) (*Answer, error) {
	body, err := get(ctx, client, base+"/")
	if err != nil {
		return nil, err
	}
	var doc rootDocument
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("GET /: not JSON: %s", ironic.Snippet(body))
	}
	if len(doc.Versions) == 0 && !strings.Contains(strings.ToLower(doc.Name), "ironic python agent") {
		return nil, fmt.Errorf("GET /: not the agent's root document: %s", ironic.Snippet(body))
	}
	a := &Answer{URL: base + "/", Name: doc.Name}
	for _, v := range doc.Versions {
		var ver struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(v, &ver) == nil && ver.ID != "" {
			a.Versions = append(a.Versions, ver.ID)
		}
	}
	return a, nil
}

func get(ctx context.Context, client *http.Client, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, ironic.ConnError(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		path := req.URL.Path
		return nil, fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return body, nil
}
