package ccache

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipabr/ipabr/internal/process"
	"github.com/ipabr/ipabr/internal/testenv"
)

// TestRemoteStorageRedis is the shared-cache tier: Debian's ccache (4.7, with
// Redis storage) and redis-server on 127.0.0.1. Two build machines are two
// cache directories configured by SetRemoteStorage; the second compile of
// the same source must be a remote hit. No traffic leaves loopback.
func TestRemoteStorageRedis(t *testing.T) {
	ccacheBin := testenv.Program(t, "ccache", "ccache")
	redis := testenv.Program(t, "ccache", "redis-server")
	gcc := testenv.Program(t, "ccache", "gcc")

	port := startRedis(t, redis)
	remote := fmt.Sprintf("redis://127.0.0.1:%d|connect-timeout=2000|operation-timeout=5000", port)

	work := t.TempDir()
	src := filepath.Join(work, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "agent.c"), []byte("int agent_port(void) { return 9999; }\nint twice(int x) { return 2 * x; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	compile := func(machine string) Stats {
		t.Helper()
		dir := filepath.Join(work, machine, "ccache")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		// The user's own settings stay; ipabr adds the remote storage.
		if err := os.WriteFile(filepath.Join(dir, ConfFile), []byte("# "+machine+"'s own settings\nmax_size = 1G\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if changed, err := SetRemoteStorage(dir, remote); err != nil || !changed {
			t.Fatalf("SetRemoteStorage: %v %v", changed, err)
		}
		cmd := exec.Command(ccacheBin, gcc, "-O2", "-c", "agent.c", "-o", filepath.Join(work, machine, "agent.o"))
		cmd.Dir = src
		cmd.Env = ccacheEnv(dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("ccache gcc on %s: %v\n%s", machine, err, out)
		}
		out, err := process.Output(context.Background(), process.OS{}, withEnv(StatsCmd(ccacheBin, dir), ccacheEnv(dir)))
		if err != nil {
			t.Fatalf("ccache --print-stats: %v", err)
		}
		summary := exec.Command(ccacheBin, "-s", "-v")
		summary.Env = ccacheEnv(dir)
		text, _ := summary.CombinedOutput()
		t.Logf("%s: ccache -s -v\n%s", machine, text)
		return ParseStats([]byte(out))
	}

	first := compile("machine-a")
	if first.Misses() != 1 || first.RemoteHits() != 0 || first["remote_storage_write"] == 0 {
		t.Fatalf("first machine: want one miss written to Redis, got %v", first)
	}
	second := compile("machine-b")
	if second.Misses() != 0 || second.Hits() != 1 || second.RemoteHits() != 1 || second["local_storage_hit"] != 0 {
		t.Fatalf("second machine: want a remote hit, got hits=%d misses=%d remote_hits=%d local_hits=%d errors=%d",
			second.Hits(), second.Misses(), second.RemoteHits(), second["local_storage_hit"], second.RemoteErrors())
	}
	if first.RemoteErrors()+second.RemoteErrors() != 0 {
		t.Fatalf("remote storage errors: %d, %d", first.RemoteErrors(), second.RemoteErrors())
	}
	fmt.Printf("ccache remote hit: machine-a miss=%d remote_write=%d; machine-b hit=%d remote_hit=%d miss=%d (redis on 127.0.0.1:%d)\n",
		first.Misses(), first["remote_storage_write"], second.Hits(), second.RemoteHits(), second.Misses(), port)
}

// ccacheEnv is the environment without any outer ccache settings, with
// CCACHE_DIR set to dir.
func ccacheEnv(dir string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CCACHE_") && !strings.HasPrefix(kv, "BR_CACHE_DIR=") {
			env = append(env, kv)
		}
	}
	return append(env, "CCACHE_DIR="+dir, "CCACHE_CONFIGPATH="+filepath.Join(dir, ConfFile))
}

func withEnv(c process.Cmd, env []string) process.Cmd {
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "CCACHE_") {
			c.Unset = append(c.Unset, strings.SplitN(kv, "=", 2)[0])
		}
	}
	for _, kv := range env {
		if strings.HasPrefix(kv, "CCACHE_") {
			c.Env = append(c.Env, kv)
		}
	}
	return c
}

// startRedis runs redis-server on 127.0.0.1 at a free port, without
// persistence, until the test ends.
func startRedis(t *testing.T, bin string) int {
	t.Helper()
	for try := 0; try < 5; try++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		dir := t.TempDir()
		cmd := exec.Command(bin, "--bind", "127.0.0.1", "--port", fmt.Sprint(port), "--save", "", "--appendonly", "no",
			"--protected-mode", "yes", "--daemonize", "no", "--dir", dir, "--logfile", "")
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			<-done
		})
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
			}
		}()
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			select {
			case <-done:
				deadline = time.Time{} // exited: port taken meanwhile, try another
				continue
			default:
			}
			if ping(port) {
				return port
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	t.Fatal("redis-server did not start on 127.0.0.1")
	return 0
}

// ping sends a Redis PING and waits for +PONG.
func ping(port int) bool {
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "+PONG")
}
