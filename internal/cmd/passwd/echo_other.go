//go:build !linux

package passwd

// echoOff is a no-op here: golang.org/x/term's ReadPassword turns echo off
// itself, a moment after the prompt is shown.
func echoOff(int) (func(), error) { return func() {}, nil }
