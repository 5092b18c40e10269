package report

import (
	_ "embed"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/ipabr/ipabr/internal/term"
)

// The page's style and script, inline in every report.
var (
	//go:embed report.css
	pageStyle string
	//go:embed report.js
	pageScript string
)

// Page sizes of the charts, in SVG user units.
const (
	treemapW, treemapH = 1100.0, 620.0
	barLabelW          = 190.0
	barW               = 760.0
	barRowH            = 18.0
)

// Render writes r as one self-contained HTML page: styles, the script
// and every chart inline, nothing fetched when it is viewed. It is written
// in Go rather than with html/template: executing a template makes the
// linker keep every exported method in the binary (reflect's
// MethodByName), 5 MB more to load and a slower start for every command.
func Render(w io.Writer, r *Report, generated time.Time) error {
	v := view{R: r, Generated: generated.UTC().Format(time.RFC3339)}
	v.Treemap = layoutTreemap(r.Rootfs)
	v.Budget = budgetBars(r)
	v.Times = timeBars(r.BuildTime)
	v.Steps = usedSteps(r.BuildTime)
	if c := r.Against; c != nil {
		v.SizeDiff = diffBars(c.Size, func(d int64) string { return signedBytes(d) })
		v.TimeDiff = diffBars(c.Time, func(d float64) string { return sign(d) + seconds(math.Abs(d)) })
	}
	p := &page{}
	p.head(v)
	p.budget(v)
	p.treemap(v)
	p.buildTime(v)
	p.raw("\n\n")
	if c := r.Against; c != nil {
		p.against(v, c)
	}
	p.raw("\n\n")
	p.agent(r.IPA)
	p.raw("\n\n<script>\n", pageScript, "</script>\n</body>\n</html>\n\n")
	_, err := p.b.WriteTo(w)
	return err
}

type view struct {
	R         *Report
	Generated string
	Treemap   []tile
	Budget    []budgetBar
	Times     []timeBar
	Steps     []string
	SizeDiff  []diffBar
	TimeDiff  []diffBar
}

// tile is one rectangle of the treemap: a package, or a wheel inside the
// agent's package.
type tile struct {
	Rect
	Name, Detail, Color string
	Label, Sub          string // what fits inside; "" when nothing does
	Group               bool   // the agent's package, drawn as a frame around its wheels
	Package             string // the package a wheel belongs to
}

var palette = []string{"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948",
	"#b07aa1", "#ff9da7", "#9c755f", "#86bcb6", "#d37295", "#a0cbe8", "#8cd17d", "#f1ce63"}

// positive keeps the items with a size above zero (a treemap has no room
// for the others), and their sizes.
func positive[T any](items []T, size func(T) int64) (kept []T, sizes []float64) {
	for _, it := range items {
		if n := size(it); n > 0 {
			kept = append(kept, it)
			sizes = append(sizes, float64(n))
		}
	}
	return kept, sizes
}

func layoutTreemap(fs Rootfs) []tile {
	pkgs, values := positive(fs.Packages, func(p PackageSize) int64 { return p.Size })
	var tiles []tile
	for i, rect := range squarify(values, Rect{0, 0, treemapW, treemapH}) {
		p := pkgs[i]
		color := palette[i%len(palette)]
		if p.Name == Unknown {
			color = "#9d9d9d"
		}
		t := tile{Rect: rect, Name: p.Name, Color: color,
			Detail: fmt.Sprintf("%s: %s, %s of the root filesystem, %d files", p.Name, term.HumanBytes(p.Size), pct(p.Size, fs.Total), p.Files)}
		if len(p.Parts) == 0 {
			t.Label, t.Sub = fit(p.Name, term.HumanBytes(p.Size), rect)
			tiles = append(tiles, t)
			continue
		}
		// The agent: a frame with its name, its wheels inside.
		t.Group = true
		t.Label, _ = fit(p.Name+" "+term.HumanBytes(p.Size), "", Rect{W: rect.W, H: 16})
		tiles = append(tiles, t)
		inner := Rect{rect.X + 2, rect.Y + 17, rect.W - 4, rect.H - 19}
		parts, pv := positive(p.Parts, func(w PartSize) int64 { return w.Size })
		for j, wr := range squarify(pv, inner) {
			w := parts[j]
			name := w.Name
			if w.Version != "" {
				name += " " + w.Version
			}
			wt := tile{Rect: wr, Name: w.Name, Package: p.Name, Color: palette[(i+1+j)%len(palette)],
				Detail: fmt.Sprintf("%s (in %s): %s, %d files", name, p.Name, term.HumanBytes(w.Size), w.Files)}
			wt.Label, wt.Sub = fit(w.Name, term.HumanBytes(w.Size), wr)
			tiles = append(tiles, wt)
		}
	}
	return tiles
}

// fit returns the label lines that fit in r at the page's font size (about
// 7 units a character, 14 a line).
func fit(name, sub string, r Rect) (string, string) {
	chars := int((r.W - 6) / 7)
	if r.H < 15 || chars < 3 {
		return "", ""
	}
	if len(name) > chars {
		name = name[:chars-1] + "…"
	}
	if r.H < 30 || len(sub) > chars {
		sub = ""
	}
	return name, sub
}

func pct(part, whole int64) string {
	return fmt.Sprintf("%.1f%%", 100*float64(part)/float64(max(whole, 1)))
}

// budgetBar is an image size against its budget.
type budgetBar struct {
	Name, Size, Budget string
	Y, W, BudgetX      float64
	Over               bool
}

func budgetBars(r *Report) []budgetBar {
	var bars []budgetBar
	add := func(name string, size, budget int64) {
		scale := barW / float64(max(size, budget)) / 1.15
		bars = append(bars, budgetBar{Name: name, Size: term.HumanBytes(size), Budget: fmt.Sprintf("budget %d MB", budget/1_000_000),
			Y: float64(len(bars)) * 34, W: float64(size) * scale, BudgetX: float64(budget) * scale, Over: size > budget})
	}
	if r.Images.Initramfs != nil {
		add(r.Images.Initramfs.File+" (compressed)", r.Images.Initramfs.Size, r.Budget.Initramfs)
	}
	add("root filesystem (unpacked)", r.Rootfs.Total, r.Budget.Rootfs)
	return bars
}

// timeBar is one package's steps as a stacked bar.
type timeBar struct {
	Name, Total string
	Y           float64
	Segments    []segment
}

type segment struct {
	Step, Detail string
	X, W         float64
}

func timeBars(bt BuildTime) []timeBar {
	var longest float64
	for _, p := range bt.Packages {
		longest = max(longest, p.Seconds)
	}
	if longest <= 0 {
		longest = 1
	}
	var bars []timeBar
	for i, p := range bt.Packages {
		b := timeBar{Name: p.Name, Total: seconds(p.Seconds), Y: float64(i) * barRowH}
		x := 0.0
		for _, s := range p.Steps {
			w := s.Seconds / longest * barW
			b.Segments = append(b.Segments, segment{Step: s.Step, X: x, W: w,
				Detail: fmt.Sprintf("%s %s: %s", p.Name, s.Step, seconds(s.Seconds))})
			x += w
		}
		bars = append(bars, b)
	}
	return bars
}

func usedSteps(bt BuildTime) []string {
	var steps []string
	for _, p := range bt.Packages {
		for _, s := range p.Steps {
			if !slices.Contains(steps, s.Step) {
				steps = append(steps, s.Step)
			}
		}
	}
	slices.SortFunc(steps, func(a, b string) int { return strings.Compare(stepRank(a), stepRank(b)) })
	return steps
}

func stepColor(step string) string {
	if i := slices.Index(Steps, step); i >= 0 {
		return palette[i%len(palette)]
	}
	return "#9d9d9d"
}

// diffBar is one package's change, drawn from the middle: growth to the
// right, shrinking to the left.
type diffBar struct {
	Name, Change, Label string
	Y, X, W             float64
	Grew                bool
}

// diffShown is how many changes the charts draw; the tables list all.
const diffShown = 30

func diffBars[T int64 | float64](ds []Delta[T], label func(T) string) []diffBar {
	ds = ds[:min(diffShown, len(ds))]
	var biggest T
	for _, d := range ds {
		biggest = max(biggest, abs(d.Diff))
	}
	if biggest == 0 {
		return nil
	}
	half := barW / 2
	var bars []diffBar
	for i, d := range ds {
		w := float64(abs(d.Diff)) / float64(biggest) * (half - 10)
		b := diffBar{Name: d.Package, Change: d.Change, Label: label(d.Diff), Y: float64(i) * barRowH, W: w, Grew: d.Diff > 0, X: half}
		if !b.Grew {
			b.X = half - w
		}
		bars = append(bars, b)
	}
	return bars
}

func signedBytes(n int64) string {
	if n < 0 {
		return "-" + term.HumanBytes(-n)
	}
	return "+" + term.HumanBytes(n)
}

func sign(v float64) string {
	if v < 0 {
		return "-"
	}
	return "+"
}

// seconds renders a duration the way the build-time chart labels it.
func seconds(s float64) string {
	switch {
	case s < 10:
		return fmt.Sprintf("%.2fs", s)
	case s < 120:
		return fmt.Sprintf("%.0fs", s)
	}
	return (time.Duration(s) * time.Second).Round(time.Second).String()
}
