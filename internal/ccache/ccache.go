// Package ccache configures the compiler cache Buildroot uses (its host
// ccache, 4.12 in Buildroot 2026.02) for a build farm: the remote storage
// line of $BR2_CCACHE_DIR/ccache.conf and the cache statistics.
//
// Buildroot patches its ccache to read BR_CACHE_DIR instead of CCACHE_DIR and
// exports BR_CACHE_DIR from BR2_CCACHE_DIR, so the configuration file of a
// build is <BR2_CCACHE_DIR>/ccache.conf. A plain ccache (Debian's) reads the
// same file when CCACHE_DIR points there.
package ccache

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ipabr/ipabr/internal/process"
)

// ConfFile is ccache's configuration file inside the cache directory.
const ConfFile = "ccache.conf"

// remoteKeys name the remote storage setting: remote_storage since ccache
// 4.8, secondary_storage before (4.4-4.7 read both).
var remoteKeys = []string{"remote_storage", "secondary_storage"}

// ValidateRemoteStorage checks a remote_storage value: space-separated
// storage URLs, each optionally followed by |attribute=value parts, with a
// scheme ccache 4.12 has a backend for (file, http, redis, redis+unix).
func ValidateRemoteStorage(v string) error {
	if strings.ContainsAny(v, "\n\r\x00") {
		return errors.New("the remote storage must be one line")
	}
	for _, entry := range strings.Fields(v) {
		raw, _, _ := strings.Cut(entry, "|")
		u, err := url.Parse(raw)
		if err != nil {
			return fmt.Errorf("%q is not a URL: %v", raw, err)
		}
		switch u.Scheme {
		case "redis", "http":
			if u.Host == "" {
				return fmt.Errorf("%q names no host (e.g. redis://cache:6379 or http://cache/ccache/)", raw)
			}
		case "file":
			if u.Path == "" {
				return fmt.Errorf("%q names no directory (e.g. file:///srv/ccache)", raw)
			}
		case "redis+unix":
			if u.Path == "" && u.Opaque == "" {
				return fmt.Errorf("%q names no socket (e.g. redis+unix:///run/redis.sock)", raw)
			}
		case "https":
			return fmt.Errorf("%q: ccache's HTTP backend has no TLS; use http:// to a local TLS-terminating proxy (see doc/farm.md)", raw)
		case "":
			return fmt.Errorf("%q has no scheme: use redis://HOST[:PORT], http://HOST/PATH, file:///DIR or redis+unix:///SOCKET", raw)
		default:
			return fmt.Errorf("%q: ccache has no %s backend (it has redis, http, file and redis+unix)", raw, u.Scheme)
		}
	}
	return nil
}

// confKey is the key of a ccache.conf line ("key = value"), or "".
func confKey(line string) string {
	t := strings.TrimSpace(line)
	if t == "" || t[0] == '#' {
		return ""
	}
	k, _, ok := strings.Cut(t, "=")
	if !ok {
		return ""
	}
	return strings.TrimSpace(k)
}

func isRemoteKey(k string) bool {
	for _, r := range remoteKeys {
		if k == r {
			return true
		}
	}
	return false
}

// EditConf returns ccache.conf content with the remote storage set to value:
// the first remote_storage (or older secondary_storage) line is replaced in
// place, later ones are dropped, and every other line is kept as it was. With
// no such line the setting is appended.
func EditConf(data []byte, value string) []byte {
	want := "remote_storage = " + value
	var out []string
	done := false
	text := string(data)
	if text != "" {
		for _, line := range strings.SplitAfter(text, "\n") {
			if line == "" {
				continue
			}
			if isRemoteKey(confKey(line)) {
				if !done {
					out = append(out, want+"\n")
					done = true
				}
				continue
			}
			out = append(out, line)
		}
	}
	if !done {
		if n := len(out); n > 0 && !strings.HasSuffix(out[n-1], "\n") {
			out[n-1] += "\n"
		}
		out = append(out, want+"\n")
	}
	return []byte(strings.Join(out, ""))
}

// RemoteStorage is the remote storage a ccache.conf sets, or "" (the last
// line wins, as in ccache).
func RemoteStorage(data []byte) string {
	v := ""
	for _, line := range strings.Split(string(data), "\n") {
		if isRemoteKey(confKey(line)) {
			_, val, _ := strings.Cut(line, "=")
			v = strings.TrimSpace(val)
		}
	}
	return v
}

// SetRemoteStorage writes the remote storage into dir/ccache.conf, creating
// the directory and the file when needed. changed is false when the file
// already said so.
func SetRemoteStorage(dir, value string) (changed bool, err error) {
	if err := ValidateRemoteStorage(value); err != nil {
		return false, err
	}
	path := filepath.Join(dir, ConfFile)
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return false, err
	}
	data := EditConf(old, value)
	if bytes.Equal(data, old) {
		return false, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, err
	}
	mode := os.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	}
	tmp, err := os.CreateTemp(dir, ".ccache.conf-*")
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return false, err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return false, err
	}
	if err := tmp.Close(); err != nil {
		return false, err
	}
	return true, os.Rename(tmp.Name(), path)
}

// ReadRemoteStorage is the remote storage dir/ccache.conf sets, or "".
func ReadRemoteStorage(dir string) string {
	data, _ := os.ReadFile(filepath.Join(dir, ConfFile))
	return RemoteStorage(data)
}

// Stats are ccache's counters by name, as `ccache --print-stats` prints them.
type Stats map[string]int64

// ParseStats reads `ccache --print-stats` output: one "name<TAB>value" line
// per counter. Lines that are not a counter are skipped.
func ParseStats(out []byte) Stats {
	st := Stats{}
	for _, line := range strings.Split(string(out), "\n") {
		k, v, ok := strings.Cut(strings.TrimRight(line, "\r"), "\t")
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			continue
		}
		st[k] = n
	}
	return st
}

// Hits are results served from a cache (direct or preprocessed mode, local
// or remote).
func (s Stats) Hits() int64 { return s["direct_cache_hit"] + s["preprocessed_cache_hit"] }

// Misses are compilations ccache had to run.
func (s Stats) Misses() int64 { return s["cache_miss"] }

// RemoteHits are hits served by the remote storage.
func (s Stats) RemoteHits() int64 { return s["remote_storage_hit"] }

// RemoteMisses are lookups the remote storage could not answer.
func (s Stats) RemoteMisses() int64 { return s["remote_storage_miss"] }

// RemoteErrors are failed or timed-out remote operations.
func (s Stats) RemoteErrors() int64 {
	return s["remote_storage_error"] + s["remote_storage_timeout"]
}

// Recorded reports whether the counters were ever updated.
func (s Stats) Recorded() bool { return s["stats_updated_timestamp"] > 0 || s.Hits()+s.Misses() > 0 }

// StatsCmd is the process that prints dir's statistics with the ccache at
// bin: CCACHE_DIR for a plain ccache, BR_CACHE_DIR for Buildroot's.
func StatsCmd(bin, dir string) process.Cmd {
	return process.Cmd{
		Name: bin,
		Args: []string{"--print-stats"},
		Env:  []string{"CCACHE_DIR=" + dir, "BR_CACHE_DIR=" + dir},
	}
}
