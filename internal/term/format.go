package term

import (
	"fmt"

	"github.com/ipabr/ipabr/internal/lazyregexp"
)

// escapeSeq matches terminal escape sequences: CSI (colours, reverse
// video: ESC [ ... m), OSC (ESC ] ... BEL or ESC \), character-set
// selection (ESC ( B, part of tput sgr0) and the other two-byte ones.
var escapeSeq = lazyregexp.New(`\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[()*+][0-~]|[@-_])`)

// StripEscapes removes terminal escape sequences from s.
func StripEscapes(s string) string { return escapeSeq.ReplaceAllString(s, "") }

// HumanBytes formats a size with binary units.
func HumanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
