package term

import (
	"bytes"
	"io"
)

// RemoteProgress adapts a git server's progress stream ("Counting objects:
// 50% (5/10)\r") for w: on a terminal the carriage-return updates pass
// through; elsewhere only finished lines are kept, so CI logs stay readable.
func RemoteProgress(w io.Writer, tty bool, prefix string) io.Writer {
	return &remoteProgress{w: w, tty: tty, prefix: prefix}
}

type remoteProgress struct {
	w      io.Writer
	tty    bool
	prefix string
	line   []byte
}

func (p *remoteProgress) Write(b []byte) (int, error) {
	for _, c := range b {
		switch c {
		case '\r':
			if p.tty {
				p.emit('\r')
			}
			p.line = p.line[:0]
		case '\n':
			p.emit('\n')
			p.line = p.line[:0]
		default:
			p.line = append(p.line, c)
		}
	}
	return len(b), nil
}

func (p *remoteProgress) emit(end byte) {
	text := bytes.TrimSpace(p.line)
	if len(text) == 0 {
		return
	}
	out := append([]byte(p.prefix), text...)
	if end == '\r' {
		out = append([]byte{'\r'}, append(out, "\x1b[K"...)...)
	} else if p.tty {
		out = append([]byte{'\r'}, append(out, "\x1b[K\n"...)...)
	} else {
		out = append(out, '\n')
	}
	_, _ = p.w.Write(out)
}
