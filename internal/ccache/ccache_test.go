package ccache

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidateRemoteStorage(t *testing.T) {
	good := []string{
		"",
		"redis://cache:6379",
		"redis://127.0.0.1:6379|connect-timeout=50",
		"http://cache/ccache/",
		"http://cache/ccache|layout=bazel redis://other",
		"file:///srv/ccache|read-only",
		"redis+unix:///run/redis.sock",
	}
	for _, v := range good {
		if err := ValidateRemoteStorage(v); err != nil {
			t.Errorf("%q refused: %v", v, err)
		}
	}
	bad := map[string]string{
		"https://cache/ccache/": "no TLS",
		"cache:6379":            "a scheme of cache",
		"redis:///nohost":       "names no host",
		"s3://bucket":           "no s3 backend",
		"redis://a\nb":          "one line",
		"/srv/ccache":           "no scheme",
	}
	for v, why := range bad {
		if err := ValidateRemoteStorage(v); err == nil {
			t.Errorf("%q accepted (%s)", v, why)
		}
	}
}

func TestEditConf(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", "remote_storage = redis://c\n"},
		{"max_size = 20G", "max_size = 20G\nremote_storage = redis://c\n"},
		{"# shared\nmax_size = 20G\nremote_storage=http://old\ncompression = true\n",
			"# shared\nmax_size = 20G\nremote_storage = redis://c\ncompression = true\n"},
		{"secondary_storage = http://old\n  remote_storage = http://older \nx = 1\n",
			"remote_storage = redis://c\nx = 1\n"},
		{"# remote_storage = commented\n", "# remote_storage = commented\nremote_storage = redis://c\n"},
	}
	for _, c := range cases {
		if got := string(EditConf([]byte(c.in), "redis://c")); got != c.want {
			t.Errorf("EditConf(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := RemoteStorage([]byte("remote_storage = a\n# x\nremote_storage=  b  \n")); got != "b" {
		t.Errorf("RemoteStorage = %q", got)
	}
}

func TestSetRemoteStorage(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ccache")
	changed, err := SetRemoteStorage(dir, "redis://cache:6379")
	if err != nil || !changed {
		t.Fatalf("first write: %v %v", changed, err)
	}
	path := filepath.Join(dir, ConfFile)
	if err := os.WriteFile(path, []byte("max_size = 50G\nremote_storage = redis://cache:6379\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if changed, err := SetRemoteStorage(dir, "redis://cache:6379"); err != nil || changed {
		t.Fatalf("same value: changed=%v %v", changed, err)
	}
	if changed, err := SetRemoteStorage(dir, "http://cache/cc/"); err != nil || !changed {
		t.Fatalf("new value: changed=%v %v", changed, err)
	}
	data, _ := os.ReadFile(path)
	if string(data) != "max_size = 50G\nremote_storage = http://cache/cc/\n" {
		t.Errorf("file: %q", data)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want the user's 0600 kept", st.Mode().Perm())
	}
	if got := ReadRemoteStorage(dir); got != "http://cache/cc/" {
		t.Errorf("ReadRemoteStorage = %q", got)
	}
	if _, err := SetRemoteStorage(dir, "https://x/"); err == nil || !strings.Contains(err.Error(), "TLS") {
		t.Errorf("https accepted: %v", err)
	}
}

func TestParseStats(t *testing.T) {
	out := "autoconf_test\t0\ncache_miss\t3\ndirect_cache_hit\t5\npreprocessed_cache_hit\t1\n" +
		"remote_storage_hit\t4\nremote_storage_miss\t2\nremote_storage_error\t1\nremote_storage_timeout\t1\n" +
		"stats_updated_timestamp\t1795653287\nnot a counter\nbad\tx\n"
	st := ParseStats([]byte(out))
	if st.Hits() != 6 || st.Misses() != 3 || st.RemoteHits() != 4 || st.RemoteMisses() != 2 || st.RemoteErrors() != 2 || !st.Recorded() {
		t.Errorf("stats %v", st)
	}
	if ParseStats([]byte("stats_updated_timestamp\t0\n")).Recorded() {
		t.Error("an empty cache counts as recorded")
	}
	c := StatsCmd("/o/host/bin/ccache", "/p/ccache")
	if c.String() != "/o/host/bin/ccache --print-stats" || strings.Join(c.Env, " ") != "CCACHE_DIR=/p/ccache BR_CACHE_DIR=/p/ccache" {
		t.Errorf("StatsCmd = %s %v", c, c.Env)
	}
}

// FuzzEditConf: whatever ccache.conf a user has, ipabr's edit leaves exactly
// one remote storage line with the value and every other line as it was.
func FuzzEditConf(f *testing.F) {
	f.Add([]byte("# shared\nmax_size = 20G\nremote_storage=http://old\n"), "redis://c:6379")
	f.Add([]byte("secondary_storage = x\r\nremote_storage = y"), "http://h/p|layout=flat")
	f.Add([]byte(""), "")
	f.Fuzz(func(t *testing.T, data []byte, value string) {
		if strings.ContainsAny(value, "\n\r") || strings.TrimSpace(value) != value {
			return
		}
		out := EditConf(data, value)
		var kept, others []string
		remote := 0
		for _, line := range strings.SplitAfter(string(out), "\n") {
			if line == "" {
				continue
			}
			if isRemoteKey(confKey(line)) {
				remote++
				if line != "remote_storage = "+value+"\n" {
					t.Fatalf("remote line %q", line)
				}
				continue
			}
			kept = append(kept, strings.TrimSuffix(line, "\n"))
		}
		for _, line := range strings.SplitAfter(string(data), "\n") {
			if line != "" && !isRemoteKey(confKey(line)) {
				others = append(others, strings.TrimSuffix(line, "\n"))
			}
		}
		if remote != 1 {
			t.Fatalf("%d remote storage lines in %q", remote, out)
		}
		if strings.Join(kept, "\n") != strings.Join(others, "\n") {
			t.Fatalf("other lines changed:\n%q\n%q", others, kept)
		}
		if got := RemoteStorage(out); got != value {
			t.Fatalf("RemoteStorage = %q, want %q", got, value)
		}
		if string(EditConf(out, value)) != string(out) {
			t.Fatal("editing twice changes the file again")
		}
		ParseStats(data) // never panics
	})
}
