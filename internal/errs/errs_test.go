package errs

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

type libraryError struct{}

func (libraryError) Error() string   { return "no such series" }
func (libraryError) ErrorKind() Kind { return BadInput }

func TestKindOf(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want Kind
	}{
		{"plain", errors.New("boom"), Failed},
		{"bad input", BadInputf("x"), BadInput},
		{"wrapped bad input", fmt.Errorf("line 3: %w", BadInputf("x")), BadInput},
		{"a library's kind", fmt.Errorf("lock: %w", libraryError{}), BadInput},
		{"outermost kind wins", &Error{Kind: Failed, Err: BadInputf("inner")}, Failed},
		{"not configured", NotConfiguredf("run init"), NotConfigured},
		{"cancelled anywhere", Failedf("make: %w", context.Canceled), Interrupted},
		{"joined", errors.Join(errors.New("a"), libraryError{}), BadInput},
		{"detail keeps the kind", WithDetail(BadInputf("x"), "make -C ..."), BadInput},
	}
	for _, c := range cases {
		if got := KindOf(c.err); got != c.want {
			t.Errorf("%s: KindOf(%v) = %v, want %v", c.name, c.err, got, c.want)
		}
	}
}

// The wording names where a bad value came from.
func TestOrigin(t *testing.T) {
	cases := []struct {
		origin Origin
		want   string
	}{
		{Flag("--extra"), `--extra: "a b" is not one requirement`},
		{Env("IPABR_COLOR"), `IPABR_COLOR: "a b" is not one requirement`},
		{FileKey("ipabr.yaml", 3, "color"), `ipabr.yaml:3: color: "a b" is not one requirement`},
		{Symbol("output/.config", "BR2_PACKAGE_IRONIC_PYTHON_AGENT_EXTRA_REQUIREMENTS"), `BR2_PACKAGE_IRONIC_PYTHON_AGENT_EXTRA_REQUIREMENTS in output/.config: "a b" is not one requirement`},
		{Arg("SERIES"), `SERIES: "a b" is not one requirement`},
	}
	for _, c := range cases {
		err := At(c.origin, fmt.Errorf("%q is not one requirement", "a b"))
		if err.Error() != c.want || KindOf(err) != BadInput {
			t.Errorf("At(%+v) = %q (%v), want %q", c.origin, err, KindOf(err), c.want)
		}
	}
	// An error that names its origin keeps it.
	inner := At(Flag("--extra"), errors.New("bad"))
	if got := At(Env("X"), fmt.Errorf("wrapped: %w", inner)).Error(); got != "wrapped: --extra: bad" {
		t.Errorf("re-marked: %q", got)
	}
}

func TestDetail(t *testing.T) {
	err := fmt.Errorf("configure: %w", WithDetail(Failedf("make failed (exit 2)"), "make -C buildroot O=output"))
	if DetailOf(err) != "make -C buildroot O=output" || KindOf(err) != Failed {
		t.Errorf("detail %q, kind %v", DetailOf(err), KindOf(err))
	}
	if DetailOf(errors.New("x")) != "" {
		t.Error("detail from nowhere")
	}
}
