package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/ipabr/ipabr/internal/lazyregexp"
)

var sizeRE = lazyregexp.New(`^([0-9]+(?:\.[0-9]+)?)\s*([kKMG]i?B?|B)?$`)

// ParseSize reads a size such as 60MB, 57.5MiB, 800k or 1000000: k, M and
// G are powers of 1000, Ki, Mi and Gi powers of 1024 (a trailing B is
// optional), a plain number is bytes.
func ParseSize(s string) (int64, error) {
	m := sizeRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, fmt.Errorf("%q is not a size: write a number with an optional unit, such as 60MB, 57MiB or 800kB", s)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a size: %v", s, err)
	}
	unit := strings.TrimSuffix(m[2], "B")
	mult := map[string]float64{"": 1, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "ki": 1 << 10, "Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30}[unit]
	n := v * mult
	if n < 1 || n > math.MaxInt64/2 {
		return 0, fmt.Errorf("%q is out of range: give at least one byte", s)
	}
	return int64(n), nil
}

// Top is the n biggest packages of the root filesystem (the agent's wheels
// stay inside their package).
func (r *Report) Top(n int) []PackageSize {
	return r.Rootfs.Packages[:min(n, len(r.Rootfs.Packages))]
}
