package process

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestStartedReportsPid(t *testing.T) {
	var got int
	out, err := Output(context.Background(), OS{}, Cmd{
		Name:    "sh",
		Args:    []string{"-c", "echo $$"},
		Started: func(pid int) { got = pid },
	})
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := strconv.Atoi(strings.TrimSpace(out)); got == 0 || got != want {
		t.Fatalf("Started got pid %d, the child says it is %s", got, strings.TrimSpace(out))
	}
}

// helperEnv makes the test binary act as a parent that starts `sleep` with
// KillWithParent, reports its pid, and dies without cleaning up.
const helperEnv = "IPABR_PROCESS_HELPER_PIDFILE"

func TestHelperKillWithParent(t *testing.T) {
	pidFile := os.Getenv(helperEnv)
	if pidFile == "" {
		return // only meaningful as the re-executed helper
	}
	_ = OS{}.Run(context.Background(), Cmd{
		Name:           "sleep",
		Args:           []string{"300"},
		KillWithParent: true,
		Group:          true,
		Started: func(pid int) {
			_ = os.WriteFile(pidFile, []byte(strconv.Itoa(pid)), 0o644)
			go func() {
				time.Sleep(100 * time.Millisecond)
				os.Exit(0) // the parent dies, no deferred cleanup runs
			}()
		},
	})
}

// A child started with KillWithParent dies with its parent, even though the
// parent never signalled it (and it sits in its own process group).
func TestKillWithParentDiesWithParent(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("PR_SET_PDEATHSIG is Linux-only")
	}
	pidFile := filepath.Join(t.TempDir(), "pid")
	helper := exec.Command(os.Args[0], "-test.run=^TestHelperKillWithParent$")
	helper.Env = append(os.Environ(), helperEnv+"="+pidFile)
	if out, err := helper.CombinedOutput(); err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(string(b))
	for i := 0; i < 200; i++ {
		if !alive(pid) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	t.Fatalf("child %d survived its parent", pid)
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	return !strings.Contains(string(b), ") Z ")
}
