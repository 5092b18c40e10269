package cmdutil

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/ipabr/ipabr/internal/errs"
)

func TestExitCode(t *testing.T) {
	for err, want := range map[error]int{
		nil:                                           ExitOK,
		errors.New("boom"):                            ExitFailure,
		errs.Failedf("make failed"):                   ExitFailure,
		errs.BadInputf("--jobs must be 1"):            ExitUsage,
		errs.NotConfiguredf("run init"):               ExitUsage,
		fmt.Errorf("x: %w", context.Canceled):         ExitInterrupted,
		errs.At(errs.Env("IPABR_COLOR"), nil):         ExitOK,
		fmt.Errorf("line 3: %w", errs.BadInputf("x")): ExitUsage,
	} {
		if got := ExitCode(err); got != want {
			t.Errorf("ExitCode(%v) = %d, want %d", err, got, want)
		}
	}
}
