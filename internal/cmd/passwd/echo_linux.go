//go:build linux

package passwd

import "golang.org/x/sys/unix"

// echoOff turns the terminal's echo off (keeping line editing and
// signals) and returns how to restore it. The prompt is shown only after
// this, so nothing typed in answer to it is ever echoed, as getpass(3) does.
func echoOff(fd int) (restore func(), err error) {
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return nil, err
	}
	old := *t
	t.Lflag &^= unix.ECHO
	t.Lflag |= unix.ICANON | unix.ISIG
	t.Iflag |= unix.ICRNL
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, t); err != nil {
		return nil, err
	}
	return func() { _ = unix.IoctlSetTermios(fd, unix.TCSETS, &old) }, nil
}
