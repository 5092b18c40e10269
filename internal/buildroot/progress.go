package buildroot

import (
	"bytes"
	"io"
	"strings"
)

// Step is one of Buildroot's ">>> NAME VERSION Step" progress lines. Top-level
// steps (finalizing, post-build scripts) have an empty Package.
type Step struct {
	Package string
	Version string
	Step    string
}

func (s Step) String() string {
	if s.Package == "" {
		return s.Step
	}
	if s.Version == "" {
		return s.Package + " " + s.Step
	}
	return s.Package + " " + s.Version + " " + s.Step
}

// ParseStep parses one line of make output. Buildroot wraps the message in
// the terminal's standout codes (tput smso / rmso) when TERM is set; they
// are stripped.
func ParseStep(line []byte) (Step, bool) {
	i := bytes.Index(line, []byte(">>> "))
	if i < 0 || (i > 0 && !isEscapePrefix(line[:i])) {
		return Step{}, false
	}
	rest := stripEscapes(line[i+4:])
	rest = strings.TrimRight(rest, "\r\n")
	// ">>> NAME VERSION Step..." where NAME and VERSION may both be empty
	// (">>>   Finalizing target directory") or VERSION alone may be.
	name, after, ok := strings.Cut(rest, " ")
	if !ok {
		return Step{}, false
	}
	version, step, ok := strings.Cut(after, " ")
	if !ok {
		return Step{}, false
	}
	step = strings.TrimSpace(step)
	if step == "" {
		return Step{}, false
	}
	return Step{Package: name, Version: version, Step: step}, true
}

func isEscapePrefix(b []byte) bool {
	return len(b) > 0 && b[0] == 0x1b
}

func stripEscapes(b []byte) string {
	if bytes.IndexByte(b, 0x1b) < 0 {
		return string(b)
	}
	var out strings.Builder
	for i := 0; i < len(b); i++ {
		if b[i] != 0x1b {
			out.WriteByte(b[i])
			continue
		}
		// CSI: ESC [ params final-byte (0x40-0x7e)
		if i+1 < len(b) && b[i+1] == '[' {
			j := i + 2
			for j < len(b) && (b[j] < 0x40 || b[j] > 0x7e) {
				j++
			}
			i = j
			continue
		}
		i++ // ESC + one byte
	}
	return out.String()
}

// Installed reports whether the step is a package's install step; a
// package that reached one counts as done.
func (s Step) Installed() bool {
	return s.Package != "" && strings.HasPrefix(s.Step, "Installing to ")
}

// StreamScanner copies make's output to a log and hands every progress line
// to a callback. It works on whole chunks: bytes go to the log as they come,
// and only lines that contain ">>> " are parsed, so it keeps up with make.
type StreamScanner struct {
	Log    io.Writer
	OnStep func(Step)
	carry  []byte
}

// Write implements io.Writer.
func (s *StreamScanner) Write(p []byte) (int, error) {
	if _, err := s.Log.Write(p); err != nil {
		return 0, err
	}
	data := p
	if len(s.carry) > 0 {
		nl := bytes.IndexByte(p, '\n')
		if nl < 0 {
			s.carry = appendCapped(s.carry, p)
			return len(p), nil
		}
		s.carry = append(s.carry, p[:nl+1]...)
		s.scanLine(s.carry)
		s.carry = s.carry[:0]
		data = p[nl+1:]
	}
	for {
		i := bytes.Index(data, []byte(">>> "))
		if i < 0 {
			break
		}
		start := bytes.LastIndexByte(data[:i], '\n') + 1
		end := bytes.IndexByte(data[i:], '\n')
		if end < 0 {
			s.carry = appendCapped(s.carry[:0], data[start:])
			return len(p), nil
		}
		s.scanLine(data[start : i+end+1])
		data = data[i+end+1:]
	}
	// Keep an unterminated tail: the next chunk may complete a ">>> " line.
	if nl := bytes.LastIndexByte(data, '\n'); nl < len(data)-1 {
		s.carry = appendCapped(s.carry[:0], data[nl+1:])
	}
	return len(p), nil
}

// ReadFrom copies r through the scanner with large reads, so a fast
// producer is drained in few system calls (io.Copy prefers this method).
func (s *StreamScanner) ReadFrom(r io.Reader) (int64, error) {
	buf := make([]byte, 1<<20)
	var total int64
	for {
		n, err := r.Read(buf)
		if n > 0 {
			total += int64(n)
			if _, werr := s.Write(buf[:n]); werr != nil {
				return total, werr
			}
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// Flush parses a final unterminated line.
func (s *StreamScanner) Flush() {
	if len(s.carry) > 0 {
		s.scanLine(s.carry)
		s.carry = s.carry[:0]
	}
}

func (s *StreamScanner) scanLine(line []byte) {
	if st, ok := ParseStep(line); ok && s.OnStep != nil {
		s.OnStep(st)
	}
}

// appendCapped bounds the carried partial line: progress lines are short,
// and a pathological line without newlines must not grow memory.
func appendCapped(dst, p []byte) []byte {
	const max = 4096
	dst = append(dst, p...)
	if len(dst) > max {
		dst = append(dst[:0], dst[len(dst)-max:]...)
	}
	return dst
}
