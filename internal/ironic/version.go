package ironic

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is an Ironic API microversion such as 1.68.
type Version struct{ Major, Minor int }

func (v Version) String() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// Less reports whether v is older than w.
func (v Version) Less(w Version) bool {
	return v.Major < w.Major || v.Major == w.Major && v.Minor < w.Minor
}

// The microversions the stand-in speaks, and the ones whose features IPA's
// client (ironic_python_agent/ironic_api_client.py) switches on.
var (
	// MinVersion is Ironic's oldest microversion, the default when a client
	// sends no version header.
	MinVersion = Version{1, 1}
	// MaxVersion is the newest IPA knows (its MAX_KNOWN_VERSION): with it
	// the agent sends a token, its version, and its TLS certificate when it
	// generated one.
	MaxVersion = Version{1, 68}
	// LookupVersion is the first with /v1/lookup and /v1/heartbeat.
	LookupVersion = Version{1, 22}
	// AgentVersionVersion adds agent_version to the heartbeat.
	AgentVersionVersion = Version{1, 36}
	// AgentTokenVersion adds agent_token to the heartbeat.
	AgentTokenVersion = Version{1, 62}
	// AgentVerifyCAVersion adds agent_verify_ca to the heartbeat.
	AgentVerifyCAVersion = Version{1, 68}
)

// Header names Ironic uses for microversions.
const (
	VersionHeader    = "X-OpenStack-Ironic-API-Version"
	MinVersionHeader = "X-OpenStack-Ironic-API-Minimum-Version"
	MaxVersionHeader = "X-OpenStack-Ironic-API-Maximum-Version"
)

// ParseVersion reads "1.62", or "latest" (MaxVersion).
func ParseVersion(s string) (Version, error) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "latest") {
		return MaxVersion, nil
	}
	major, minor, ok := strings.Cut(s, ".")
	if !ok {
		return Version{}, fmt.Errorf("invalid API version %q: want MAJOR.MINOR", s)
	}
	ma, err1 := strconv.Atoi(major)
	mi, err2 := strconv.Atoi(minor)
	if err1 != nil || err2 != nil || ma < 0 || mi < 0 {
		return Version{}, fmt.Errorf("invalid API version %q: want MAJOR.MINOR", s)
	}
	return Version{ma, mi}, nil
}
