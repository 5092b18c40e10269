// Command benchpair times a command of ipabr against the plain tool doing
// the same work and prints one row of a Markdown table: each side's median
// wall time, median CPU time and peak RSS over RUNS paired runs (ipabr, then
// the plain tool, RUNS times), their ratios, the goal and whether it is met.
// It is what `make bench` (bench/everyday.sh) prints; it asserts nothing.
//
//	benchpair -header
//	benchpair [-runs N] -row TEXT [-goal-ratio X] [-goal-cpu X] [-goal-rss MIB] [-goal-wall DUR]
//	          [-setup-a SH] [-setup-b SH] -- IPABR ARGS... [::: PLAIN ARGS...]
//
// The commands run without a shell, so a shell's start-up is not timed;
// -setup-a and -setup-b are shell commands run, untimed, before each run of
// the first and the second command (to lay out a fresh project, say).
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"
)

type sample struct {
	wall, cpu time.Duration
	rssKiB    int64
}

type side struct {
	argv  []string
	setup string
	runs  []sample
}

func main() {
	header := flag.Bool("header", false, "print the table's header and exit")
	runs := flag.Int("runs", 5, "paired runs")
	row := flag.String("row", "", "the row's first column")
	goalRatio := flag.Float64("goal-ratio", 0, "goal: wall-time ratio at most this")
	goalCPU := flag.Float64("goal-cpu", 0, "goal: CPU-time ratio at most this")
	goalRSS := flag.Float64("goal-rss", 0, "goal: ipabr's peak RSS at most this many MiB")
	goalWall := flag.Duration("goal-wall", 0, "goal: ipabr's median wall time at most this")
	setupA := flag.String("setup-a", "", "shell command run before each run of the first command")
	setupB := flag.String("setup-b", "", "shell command run before each run of the second command")
	flag.Parse()
	if *header {
		fmt.Println("| command | ipabr | plain tool | ratio | goal | met |")
		fmt.Println("| --- | --- | --- | --- | --- | --- |")
		return
	}
	a, b := splitCommands(flag.Args())
	if len(a) == 0 || *row == "" || *runs < 1 {
		fmt.Fprintln(os.Stderr, "usage: benchpair [-runs N] -row TEXT [goals] [-setup-a SH] [-setup-b SH] -- CMD... [::: PLAIN...]")
		os.Exit(2)
	}
	sides := []*side{{argv: a, setup: *setupA}}
	if len(b) > 0 {
		sides = append(sides, &side{argv: b, setup: *setupB})
	}
	for i := 0; i < *runs; i++ {
		for _, s := range sides {
			smp, err := s.run()
			if err != nil {
				fmt.Fprintf(os.Stderr, "benchpair: %s: %v\n", strings.Join(s.argv, " "), err)
				os.Exit(1)
			}
			s.runs = append(s.runs, smp)
		}
	}

	ipabr := sides[0].summary()
	cols := []string{*row, describe(ipabr), "—", "—"}
	var goals []string
	met := true
	check := func(goal string, ok bool) {
		goals = append(goals, goal)
		met = met && ok
	}
	if len(sides) == 2 {
		plain := sides[1].summary()
		wallRatio := ipabr.wall.Seconds() / plain.wall.Seconds()
		cpuRatio := ipabr.cpu.Seconds() / plain.cpu.Seconds()
		cols[2] = describe(plain)
		cols[3] = fmt.Sprintf("%.2f× wall, %.1f× CPU", wallRatio, cpuRatio)
		if *goalRatio > 0 {
			check(fmt.Sprintf("≤ %g× wall", *goalRatio), wallRatio <= *goalRatio)
		}
		if *goalCPU > 0 {
			check(fmt.Sprintf("≤ %g× CPU", *goalCPU), cpuRatio <= *goalCPU)
		}
	}
	if *goalWall > 0 {
		check(fmt.Sprintf("≤ %s", *goalWall), ipabr.wall <= *goalWall)
	}
	if *goalRSS > 0 {
		check(fmt.Sprintf("≤ %g MiB", *goalRSS), float64(ipabr.rssKiB)/1024 <= *goalRSS)
	}
	verdict := "yes"
	switch {
	case len(goals) == 0:
		goals, verdict = []string{"—"}, "—"
	case !met:
		verdict = "**no**"
	}
	cols = append(cols, strings.Join(goals, ", "), verdict)
	fmt.Printf("| %s |\n", strings.Join(cols, " | "))
}

// splitCommands splits "A... ::: B..." into its two commands.
func splitCommands(args []string) ([]string, []string) {
	if i := slices.Index(args, ":::"); i >= 0 {
		return args[:i], args[i+1:]
	}
	return args, nil
}

func (s *side) run() (sample, error) {
	if s.setup != "" {
		setup := exec.Command("bash", "-euc", s.setup)
		setup.Stdout, setup.Stderr = os.Stderr, os.Stderr
		if err := setup.Run(); err != nil {
			return sample{}, fmt.Errorf("setup %q: %v", s.setup, err)
		}
	}
	cmd := exec.Command(s.argv[0], s.argv[1:]...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return sample{}, fmt.Errorf("%v: %s", err, stderr.String())
	}
	if err != nil {
		return sample{}, err
	}
	smp := sample{wall: wall, cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		smp.rssKiB = ru.Maxrss
	}
	return smp, nil
}

// summary is the median wall and CPU time and the highest peak RSS.
func (s *side) summary() sample {
	median := func(f func(sample) time.Duration) time.Duration {
		v := make([]time.Duration, len(s.runs))
		for i, r := range s.runs {
			v[i] = f(r)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	out := sample{
		wall: median(func(r sample) time.Duration { return r.wall }),
		cpu:  median(func(r sample) time.Duration { return r.cpu }),
	}
	for _, r := range s.runs {
		out.rssKiB = max(out.rssKiB, r.rssKiB)
	}
	return out
}

func describe(s sample) string {
	return fmt.Sprintf("%s, %s CPU, %.0f MiB", seconds(s.wall), seconds(s.cpu), float64(s.rssKiB)/1024)
}

func seconds(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}
