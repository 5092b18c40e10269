package prefault

import (
	"syscall"
	"unsafe"
)

// madvise advice of Linux 5.14: an older kernel answers EINVAL, and the
// pages fault in one at a time as they would have.
const (
	madvPopulateRead  = 22
	madvPopulateWrite = 23
)

// heapAhead is how much of the heap is populated, upwards from the first
// object this package allocates: about what `ipabr version` and
// `ipabr --help` touch after it.
const heapAhead = 1 << 20

// heapPopulated is the part of the heap init populated, for the tests.
var heapPopulated struct{ start, end uintptr }

func init() {
	if v, _ := syscall.Getenv("IPABR_PREFAULT"); v == "0" {
		return
	}
	maps := readMaps()
	if len(maps) == 0 {
		return
	}
	heap := uintptr(unsafe.Pointer(unsafe.SliceData(maps))) // readMaps' buffer is on the heap
	pageSize := uintptr(syscall.Getpagesize())
	heapPage := heap &^ (pageSize - 1)
	// The heap's memory is anonymous and writable, and may show as several
	// mappings side by side (the runtime's advice on huge pages splits
	// them): run is the one that holds heap, with its neighbours.
	var run mapping
	populateHeap := func() {
		if run.start <= heap && heap < run.end {
			heapPopulated.start, heapPopulated.end = heapPage, min(run.end, heapPage+heapAhead)
			madvise(heapPopulated.start, heapPopulated.end, madvPopulateWrite)
		}
	}
	for len(maps) > 0 {
		var line []byte
		line, maps = cutLine(maps)
		m, ok := parseMapping(line)
		switch {
		case !ok:
		case m.file && m.exec:
			if resident(m.start, m.end, pageSize) {
				madvise(m.start, m.end, madvPopulateRead)
			}
		case !m.file && m.writable && m.start == run.end:
			run.end = m.end
		case !m.file && m.writable:
			populateHeap()
			run = m
		}
	}
	populateHeap()
}

// mapping is one line of /proc/self/maps.
type mapping struct {
	start, end     uintptr
	writable, exec bool
	file           bool // backed by a file (here: the executable), its inode not 0
}

// parseMapping reads "start-end perms offset dev inode [path]".
func parseMapping(line []byte) (mapping, bool) {
	var m mapping
	var i int
	m.start, i = hexAt(line, 0)
	if i >= len(line) || line[i] != '-' {
		return m, false
	}
	m.end, i = hexAt(line, i+1)
	if i+5 > len(line) || line[i] != ' ' {
		return m, false
	}
	m.writable, m.exec = line[i+2] == 'w', line[i+3] == 'x'
	// After the permissions: offset, device, inode.
	rest := line[i+5:]
	var inode []byte
	for range 3 {
		inode, rest = nextField(rest)
	}
	if len(inode) == 0 {
		return m, false
	}
	m.file = string(inode) != "0"
	return m, m.start < m.end
}

// nextField is b's first space-separated field and what follows it.
func nextField(b []byte) (field, rest []byte) {
	for len(b) > 0 && b[0] == ' ' {
		b = b[1:]
	}
	i := 0
	for i < len(b) && b[i] != ' ' {
		i++
	}
	return b[:i], b[i:]
}

func hexAt(b []byte, i int) (uintptr, int) {
	var v uintptr
	for ; i < len(b); i++ {
		c := b[i]
		switch {
		case '0' <= c && c <= '9':
			v = v<<4 | uintptr(c-'0')
		case 'a' <= c && c <= 'f':
			v = v<<4 | uintptr(c-'a'+10)
		default:
			return v, i
		}
	}
	return v, i
}

func cutLine(b []byte) (line, rest []byte) {
	for i, c := range b {
		if c == '\n' {
			return b[:i], b[i+1:]
		}
	}
	return b, nil
}

// readMaps is /proc/self/maps (a statically linked Go program has some
// twenty mappings), or nothing.
func readMaps() []byte {
	fd, err := syscall.Open("/proc/self/maps", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	defer syscall.Close(fd)
	buf := make([]byte, 0, 16<<10)
	for len(buf) < cap(buf) {
		n, err := syscall.Read(fd, buf[len(buf):cap(buf)])
		if n <= 0 || err != nil {
			break
		}
		buf = buf[:len(buf)+n]
	}
	return buf
}

// resident reports whether every page of [start, end) is in the page
// cache: on a cold cache, populating would read all of the code from disk
// where faults read only what runs.
func resident(start, end, pageSize uintptr) bool {
	vec := make([]byte, (end-start+pageSize-1)/pageSize)
	if _, _, errno := syscall.Syscall(syscall.SYS_MINCORE, start, end-start, uintptr(unsafe.Pointer(unsafe.SliceData(vec)))); errno != 0 {
		return false
	}
	for _, v := range vec {
		if v&1 == 0 {
			return false
		}
	}
	return true
}

// madvise gives advice for [start, end); failing changes nothing that
// matters, so its error is not looked at.
func madvise(start, end, advice uintptr) {
	syscall.Syscall(syscall.SYS_MADVISE, start, end-start, advice)
}
