package app_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ipabr/ipabr/internal/testenv"
)

// TestConcurrentUniqueBuilds: two `ipabr build --unique` at once on one
// machine share dl/ and ccache/ and both succeed. The fake Buildroot
// downloads under flock on dl/<pkg>/.lock as Buildroot does, holding the
// lock a while, so the builds contend for it: the journal must show each
// file downloaded exactly once, never two downloads of one file at the same
// time. Both also write the shared ccache.conf (a remote storage is
// configured) at the same moment. A third build on the first's output is
// refused by ipabr's output lock while the first runs.
func TestConcurrentUniqueBuilds(t *testing.T) {
	testenv.Program(t, "concurrency", "flock")
	dir := fakeProject(t)
	exe := ipabrExecutable(t)
	journal := filepath.Join(t.TempDir(), "downloads")
	env := append(os.Environ(),
		"FAKE_SLEEP=1", "FAKE_DL_SLEEP=1", "FAKE_DL_JOURNAL="+journal,
		"IPABR_CCACHE_REMOTE_STORAGE=redis://127.0.0.1:1", // written, never contacted by the fake
		"NO_COLOR=1")

	type run struct {
		cmd            *exec.Cmd
		stdout, stderr bytes.Buffer
		done           chan error
	}
	var runs []*run
	for i := 0; i < 2; i++ {
		r := &run{cmd: exec.Command(exe, "--repo", dir, "build", "--unique"), done: make(chan error, 1)}
		r.cmd.Env = env
		r.cmd.Stdout, r.cmd.Stderr = &r.stdout, &r.stderr
		if err := r.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { r.done <- r.cmd.Wait() }()
		runs = append(runs, r)
	}
	defer func() {
		for _, r := range runs {
			if r.cmd.ProcessState == nil {
				_ = r.cmd.Process.Kill()
			}
		}
	}()

	// Both outputs locked at once: each holds a pid of ours.
	pids := map[string]bool{strconv.Itoa(runs[0].cmd.Process.Pid): true, strconv.Itoa(runs[1].cmd.Process.Pid): true}
	locked := map[string]string{} // output dir -> pid
	deadline := time.Now().Add(30 * time.Second)
	for len(locked) < 2 && time.Now().Before(deadline) {
		entries, _ := os.ReadDir(filepath.Join(dir, "output"))
		for _, e := range entries {
			data, _ := os.ReadFile(filepath.Join(dir, "output", e.Name(), ".ipabr.lock"))
			if pid := strings.TrimSpace(string(data)); pids[pid] {
				locked[e.Name()] = pid
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(locked) != 2 {
		t.Fatalf("the two builds never held two outputs at once: %v\nbuild 1: %s\nbuild 2: %s", locked, runs[0].stderr.String(), runs[1].stderr.String())
	}

	// A third build on the first's output is refused while it runs.
	var first, firstPid string
	for d, pid := range locked {
		first, firstPid = d, pid
		break
	}
	out, code := runIpabr(dir, "-O", filepath.Join("output", first), "build")
	if code != 1 || !strings.Contains(out, "output/"+first+" is in use by pid "+firstPid) {
		t.Errorf("third build on output/%s: exit %d\n%s", first, code, out)
	}

	for i, r := range runs {
		select {
		case err := <-r.done:
			if err != nil {
				t.Errorf("build %d: %v\nstdout:\n%s\nstderr:\n%s", i+1, err, r.stdout.String(), r.stderr.String())
			}
		case <-time.After(3 * time.Minute):
			t.Fatalf("build %d did not finish", i+1)
		}
	}
	for d := range locked {
		if _, err := os.Stat(filepath.Join(dir, "output", d, "images", "bzImage")); err != nil {
			t.Errorf("output/%s has no image: %v", d, err)
		}
	}

	// Each file was downloaded once, by whichever build got the lock first;
	// the other found it in dl/ when the lock was free again.
	data, err := os.ReadFile(journal)
	if err != nil {
		t.Fatalf("no download happened: %v", err)
	}
	starts, open := map[string]int{}, map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			t.Fatalf("journal line %q", line)
		}
		switch f[0] {
		case "start":
			if who, busy := open[f[2]]; busy {
				t.Errorf("%s downloaded by %s and %s at the same time", f[2], who, f[1])
			}
			open[f[2]] = f[1]
			starts[f[2]]++
		case "end":
			delete(open, f[2])
		}
	}
	if len(starts) == 0 {
		t.Fatal("the journal records no download")
	}
	for file, n := range starts {
		if n != 1 {
			t.Errorf("%s downloaded %d times", file, n)
		}
		if m, _ := filepath.Glob(filepath.Join(dir, "dl", "*", file)); len(m) != 1 {
			t.Errorf("%s is not in dl/<package>/: %v", file, m)
		}
	}
	conf, err := os.ReadFile(filepath.Join(dir, "ccache", "ccache.conf"))
	if err != nil || string(conf) != "remote_storage = redis://127.0.0.1:1\n" {
		t.Errorf("shared ccache.conf: %q, %v", conf, err)
	}
	t.Logf("downloads: %v; outputs %v", starts, locked)
}
