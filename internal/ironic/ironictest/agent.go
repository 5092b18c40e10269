// Package ironictest is a stand-in Ironic Python Agent for tests: it walks
// through IPA's protocol over real HTTP (ironic_python_agent/agent.py, run:
// inspection, lookup, API, heartbeat) against an Ironic API, and answers
// status and clean.get_clean_steps on its own API, like the boot tier's
// busybox agent does inside a guest.
//
// inspection.json is an inspection document shaped as IPA stable/2026.1
// (8a4b97ec77797fa9d8f6bb50ae5fb8fc9a953acc) posts it: inspector.py's keys
// (inventory, root_disk, boot_interface, configuration, logs, error; Python
// json's default separators) and the serializable_fields of hardware.py's
// NetworkInterface, CPU, BlockDevice, Memory, SystemVendorInfo,
// SystemFirmware and BootInfo, with the values of a QEMU q35 guest given
// the scratch disks of ipabr qemu --check; logs is a small real tar.gz.
package ironictest

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Inspection is the sample inspection document; its NIC is
// 52:54:00:12:34:56, its disks /dev/vda (1 GiB) and /dev/nvme0n1 (2 GiB).
//
//go:embed inspection.json
var Inspection []byte

// SampleMAC is the sample's NIC.
const SampleMAC = "52:54:00:12:34:56"

// Variants of the agent: the ones the boot tier's fixture also plays.
const (
	OK          = ""
	NoHeartbeat = "noheartbeat" // never heartbeats
	WrongToken  = "wrongtoken"  // heartbeats with a token of its own
	NoDisks     = "nodisks"     // an inventory without disks
	UEFI        = "uefi"        // reports UEFI boot mode
)

// Agent plays IPA.
type Agent struct {
	API      string // Ironic, as reachable from here
	Callback string // the inspection callback
	Listen   string // host:port the agent's API listens on
	Variant  string
	Version  string // agent version; default 11.3.0

	token string
}

// FromKernelArgs reads ipa-api-url and ipa-inspection-callback-url from
// kernel arguments, reaching QEMU's guest view of the host (10.0.2.2) on
// 127.0.0.1, as a forwarded guest would.
func FromKernelArgs(args string) (*Agent, error) {
	a := &Agent{}
	for _, f := range strings.Fields(args) {
		k, v, _ := strings.Cut(f, "=")
		v = strings.Replace(v, "//10.0.2.2:", "//127.0.0.1:", 1)
		switch k {
		case "ipa-api-url":
			a.API = v
		case "ipa-inspection-callback-url":
			a.Callback = v
		case "fixture.agent":
			a.Variant = v
		}
	}
	if a.API == "" || a.Callback == "" {
		return nil, fmt.Errorf("no ipa-api-url or ipa-inspection-callback-url in %q", args)
	}
	return a, nil
}

// Run goes through the protocol and then serves the agent's API until ctx
// ends. It returns early only on a failure.
func (a *Agent) Run(ctx context.Context) error {
	if a.Version == "" {
		a.Version = "11.3.0"
	}
	l, err := net.Listen("tcp", a.Listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.HandlerFunc(a.serve)}
	go func() { _ = srv.Serve(l) }()
	defer srv.Close()

	if _, err := a.call(ctx, "GET", a.API+"/", "", nil); err != nil {
		return err
	}
	answer, err := a.call(ctx, "POST", a.Callback, "", a.inventory())
	if err != nil {
		return err
	}
	var insp struct{ UUID string }
	_ = json.Unmarshal(answer, &insp)
	q := url.Values{"addresses": {SampleMAC}}
	if insp.UUID != "" {
		q.Set("node_uuid", insp.UUID)
	}
	var lookup struct {
		Node   struct{ UUID string }
		Config struct {
			AgentToken string `json:"agent_token"`
		}
	}
	for {
		answer, err = a.call(ctx, "GET", a.API+"/v1/lookup?"+q.Encode(), "1.62", nil)
		if err == nil {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	if err := json.Unmarshal(answer, &lookup); err != nil {
		return err
	}
	a.token = lookup.Config.AgentToken
	if a.Variant != NoHeartbeat {
		token := a.token
		if a.Variant == WrongToken {
			token = strings.Repeat("w", 43)
		}
		body, _ := json.Marshal(map[string]string{"callback_url": "http://10.0.2.15:9999", "agent_token": token, "agent_version": a.Version})
		_, _ = a.call(ctx, "POST", a.API+"/v1/heartbeat/"+lookup.Node.UUID, "1.68", body)
	}
	<-ctx.Done()
	return nil
}

// inventory is the sample, edited for the variant.
func (a *Agent) inventory() []byte {
	var doc map[string]any
	_ = json.Unmarshal(Inspection, &doc)
	inv := doc["inventory"].(map[string]any)
	switch a.Variant {
	case NoDisks:
		inv["disks"] = []any{}
	case UEFI:
		inv["boot"].(map[string]any)["current_boot_mode"] = "uefi"
	}
	b, _ := json.Marshal(doc)
	return b
}

func (a *Agent) call(ctx context.Context, method, u, version string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if version != "" {
		req.Header.Set("X-OpenStack-Ironic-API-Version", version)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return nil, fmt.Errorf("%s %s: %s: %s", method, u, resp.Status, b)
	}
	return b, nil
}

// serve is the agent's API: the root, status, and clean.get_clean_steps.
func (a *Agent) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == "GET" && r.URL.Path == "/":
		_, _ = io.WriteString(w, `{"name": "OpenStack Ironic Python Agent API", "versions": [{"id": "v1"}], "default_version": {"id": "v1"}}`)
	case r.Method == "GET" && r.URL.Path == "/v1/status":
		_, _ = fmt.Fprintf(w, `{"started_at": 1764624000.0, "version": %q}`, a.Version)
	case r.Method == "POST" && r.URL.Path == "/v1/commands/":
		if a.token == "" || r.URL.Query().Get("agent_token") != a.token {
			w.WriteHeader(401)
			_, _ = io.WriteString(w, `{"faultcode": "Client", "faultstring": "Token invalid."}`)
			return
		}
		var cmd struct{ Name string }
		if err := json.NewDecoder(r.Body).Decode(&cmd); err != nil || cmd.Name != "clean.get_clean_steps" {
			w.WriteHeader(400)
			_, _ = io.WriteString(w, `{"faultcode": "Client", "faultstring": "Unknown command"}`)
			return
		}
		_, _ = io.WriteString(w, CleanStepsAnswer)
	default:
		w.WriteHeader(404)
		_, _ = io.WriteString(w, `{"faultcode": "Client", "faultstring": "Not Found"}`)
	}
}

// CleanStepsAnswer is shaped as IPA's API answers clean.get_clean_steps
// (api/app.py's jsonify of a SyncCommandResult, extensions/clean.py's
// result: deduplicated steps by manager class, and manager versions).
const CleanStepsAnswer = `{"id": "5d1b0f49-5d06-4f4b-9d02-0a4e4f5f0f11", "command_name": "get_clean_steps", "command_status": "SUCCEEDED", "command_error": null, "command_result": {"clean_steps": {"GenericHardwareManager": [{"step": "erase_devices", "priority": 10, "interface": "deploy", "reboot_requested": false, "abortable": true}, {"step": "erase_devices_metadata", "priority": 99, "interface": "deploy", "reboot_requested": false, "abortable": true}, {"step": "delete_configuration", "priority": 0, "interface": "raid", "reboot_requested": false, "abortable": true}]}, "hardware_manager_version": {"generic_hardware_manager": "1.2"}}}`
