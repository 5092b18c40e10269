package status

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ipabr/ipabr/internal/config"
	"github.com/ipabr/ipabr/internal/process"
	"github.com/ipabr/ipabr/internal/process/processtest"
	"github.com/ipabr/ipabr/internal/project"
	"github.com/ipabr/ipabr/internal/term"
)

func TestCCacheState(t *testing.T) {
	root := t.TempDir()
	p := &project.Project{Root: root, Output: filepath.Join(root, "output"), CCache: filepath.Join(root, "ccache")}
	os.MkdirAll(p.CCache, 0o755)
	os.WriteFile(filepath.Join(p.CCache, "ccache.conf"), []byte("max_size = 5G\nremote_storage = redis://cache:6379\n"), 0o644)
	s := &config.Settings{Project: p}
	stats := "cache_miss\t2\ndirect_cache_hit\t6\npreprocessed_cache_hit\t0\nremote_storage_hit\t5\nremote_storage_miss\t2\nremote_storage_error\t1\nstats_updated_timestamp\t1795653287\n"
	stub := processtest.New(t)
	answer := func(c process.Cmd) error {
		io.WriteString(c.Stdout, stats)
		return nil
	}
	stub.Register(`^/usr/bin/ccache --print-stats$`, answer)
	opts := &Options{Runner: stub, LookPath: func(string) (string, error) { return "/usr/bin/ccache", nil }}
	rep := ccacheState(context.Background(), opts, s)
	if rep.RemoteStorage != "redis://cache:6379" || !rep.Stats || rep.Hits != 6 || rep.Misses != 2 || rep.RemoteHits != 5 || rep.RemoteErrors != 1 || rep.Program != "/usr/bin/ccache" {
		t.Fatalf("report %+v", rep)
	}
	if got := strings.Join(stub.Commands(), "\n"); got != "/usr/bin/ccache --print-stats" {
		t.Errorf("commands %q", got)
	}
	if env := strings.Join(stub.Calls()[0].Env, " "); env != "CCACHE_DIR="+p.CCache+" BR_CACHE_DIR="+p.CCache {
		t.Errorf("env %q", env)
	}
	var b bytes.Buffer
	io2, _, _, _ := term.Test()
	printCCache(&b, io2.Styles(), rep)
	if want := "CCache:     remote redis://cache:6379; 6 hits / 8 cacheable calls (75%), remote 5 hits / 2 misses, ! 1 errors\n"; b.String() != want {
		t.Errorf("line %q, want %q", b.String(), want)
	}

	// Buildroot's own ccache wins over PATH's once the output has one.
	bin := filepath.Join(p.Output, "host", "bin", "ccache")
	os.MkdirAll(filepath.Dir(bin), 0o755)
	os.WriteFile(bin, nil, 0o755)
	stub.Register("^"+regexp.QuoteMeta(bin)+" --print-stats$", answer)
	ccacheState(context.Background(), opts, s)
	if got := stub.Commands(); len(got) != 2 || !strings.HasPrefix(got[1], bin+" ") {
		t.Errorf("commands %q", got)
	}

	// No ccache anywhere: the configuration only; a failing ccache: said so.
	os.Remove(bin)
	opts.LookPath = func(string) (string, error) { return "", errors.New("not found") }
	rep = ccacheState(context.Background(), opts, &config.Settings{Project: p, Farm: config.Farm{CCacheRemoteStorage: "http://c/"}})
	b.Reset()
	printCCache(&b, io2.Styles(), rep)
	if b.String() != "CCache:     remote redis://cache:6379; ! statistics unreadable: no ccache to read them (Buildroot builds its own host-ccache; or install ccache)\n" || rep.Configured != "http://c/" {
		t.Errorf("without ccache: %q %+v", b.String(), rep)
	}
	opts.LookPath = func(string) (string, error) { return "/usr/bin/ccache", nil }
	stub.Register(`^/usr/bin/ccache --print-stats$`, func(process.Cmd) error { return errors.New("boom") })
	rep = ccacheState(context.Background(), opts, s)
	b.Reset()
	printCCache(&b, io2.Styles(), rep)
	if !strings.Contains(b.String(), "statistics unreadable: boom") {
		t.Errorf("failing ccache: %q", b.String())
	}
}
