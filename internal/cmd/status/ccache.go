package status

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/ipabr/ipabr/internal/ccache"
	"github.com/ipabr/ipabr/internal/config"
	"github.com/ipabr/ipabr/internal/process"
	"github.com/ipabr/ipabr/internal/term"
)

// CCacheRep is the compiler cache: its remote storage and hit statistics.
type CCacheRep struct {
	Dir           string `json:"dir"`
	RemoteStorage string `json:"remote_storage,omitempty"` // what ccache.conf says builds use
	Configured    string `json:"configured,omitempty"`     // the ccache.remote_storage key, if set
	Program       string `json:"program,omitempty"`        // the ccache that read the statistics
	Stats         bool   `json:"stats"`                    // statistics were recorded
	Hits          int64  `json:"hits"`
	Misses        int64  `json:"misses"`
	RemoteHits    int64  `json:"remote_hits"`
	RemoteMisses  int64  `json:"remote_misses"`
	RemoteErrors  int64  `json:"remote_errors"`
	Error         string `json:"error,omitempty"`
}

// ccacheState reads the cache directory's statistics with Buildroot's own
// ccache (<output>/host/bin/ccache, which reads BR_CACHE_DIR) when the
// output has one, else the ccache on PATH (CCACHE_DIR): what `make
// ccache-stats` prints, without building host-ccache first.
func ccacheState(ctx context.Context, opts *Options, s *config.Settings) *CCacheRep {
	dir := s.Project.CCache
	rep := &CCacheRep{Dir: dir, RemoteStorage: ccache.ReadRemoteStorage(dir), Configured: s.Farm.CCacheRemoteStorage}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return rep
	}
	bin := filepath.Join(s.Project.Output, "host", "bin", "ccache")
	if _, err := os.Stat(bin); err != nil {
		if opts.LookPath != nil {
			bin, err = opts.LookPath("ccache")
		}
		if opts.LookPath == nil || err != nil {
			rep.Error = "no ccache to read them (Buildroot builds its own host-ccache; or install ccache)"
			return rep
		}
	}
	rep.Program = bin
	if opts.Runner == nil {
		return rep
	}
	out, err := process.Output(ctx, opts.Runner, ccache.StatsCmd(bin, dir))
	if err != nil {
		rep.Error = err.Error()
		return rep
	}
	st := ccache.ParseStats([]byte(out))
	rep.Stats = st.Recorded()
	rep.Hits, rep.Misses = st.Hits(), st.Misses()
	rep.RemoteHits, rep.RemoteMisses, rep.RemoteErrors = st.RemoteHits(), st.RemoteMisses(), st.RemoteErrors()
	return rep
}

func printCCache(w io.Writer, st term.Styles, c *CCacheRep) {
	if c == nil {
		return
	}
	remote := "local only"
	switch {
	case c.RemoteStorage != "":
		remote = "remote " + c.RemoteStorage
	case c.Configured != "":
		remote = "remote " + c.Configured + " (written to ccache.conf at the next configure or build)"
	}
	switch {
	case c.Error != "":
		fmt.Fprintf(w, "CCache:     %s; %s statistics unreadable: %s\n", remote, st.Warning("!"), c.Error)
	case !c.Stats:
		fmt.Fprintf(w, "CCache:     %s; no compilations recorded yet\n", remote)
	default:
		calls := c.Hits + c.Misses
		line := fmt.Sprintf("CCache:     %s; %d hits / %d cacheable calls (%s)", remote, c.Hits, calls, percent(c.Hits, calls))
		if c.RemoteHits+c.RemoteMisses+c.RemoteErrors > 0 {
			line += fmt.Sprintf(", remote %d hits / %d misses", c.RemoteHits, c.RemoteMisses)
			if c.RemoteErrors > 0 {
				line += fmt.Sprintf(", %s %d errors", st.Warning("!"), c.RemoteErrors)
			}
		}
		fmt.Fprintln(w, line)
	}
}

func percent(n, total int64) string {
	if total == 0 {
		return "0%"
	}
	return fmt.Sprintf("%.0f%%", 100*float64(n)/float64(total))
}
