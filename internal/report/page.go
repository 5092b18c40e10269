package report

import (
	"bytes"
	"fmt"
	"html"
	"math"

	"github.com/ipabr/ipabr/internal/term"
)

// page is the report's HTML as it is written: markup goes in as given,
// every value from the build is escaped for text and quoted attributes.
type page struct{ b bytes.Buffer }

// raw writes markup.
func (p *page) raw(markup ...string) {
	for _, m := range markup {
		p.b.WriteString(m)
	}
}

// printf writes markup with values: its string arguments are escaped, numbers
// are written as they are.
func (p *page) printf(markup string, values ...any) {
	for i, v := range values {
		if s, ok := v.(string); ok {
			values[i] = html.EscapeString(s)
		}
	}
	fmt.Fprintf(&p.b, markup, values...)
}

// coord is a coordinate or a length in the charts.
func coord(v float64) string { return fmt.Sprintf("%.1f", v) }

func (p *page) head(v view) {
	r := v.R
	p.raw(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
`)
	p.printf("<title>IPA image report: %s</title>\n", r.Output)
	p.raw("<style>\n", pageStyle, "</style>\n</head>\n<body>\n<h1>IPA image report</h1>\n")
	p.printf(`<p class="meta">Output <code>%s</code> · generated %s`, r.Output, v.Generated)
	if m := r.IPA; m != nil {
		p.printf(" · OpenStack %s, ironic-python-agent %s, Python %s", m.Series, m.AgentVersion(), m.Python)
	}
	p.raw("</p>\n\n")
}

func (p *page) budget(v view) {
	r := v.R
	p.raw("<h2>Size against the budget</h2>\n<p>")
	if im := r.Images.Initramfs; im != nil {
		p.printf("Initramfs <code>%s</code>: <strong>%s</strong>. ", im.File, term.HumanBytes(im.Size))
	}
	if k := r.Images.Kernel; k != nil {
		p.printf("Kernel <code>%s</code>: <strong>%s</strong>. ", k.File, term.HumanBytes(k.Size))
	}
	p.printf("Root filesystem: <strong>%s</strong> in %d packages. The budget (doc/image.md): the initramfs at most 60 MB, at most 250 MB unpacked.</p>\n",
		term.HumanBytes(r.Rootfs.Total), len(r.Rootfs.Packages))
	p.printf(`<svg id="budget" viewBox="0 0 %s %s" role="img" aria-label="image sizes against the budget">`+"\n",
		coord(1100), coord(float64(len(v.Budget))*34+6))
	for _, b := range v.Budget {
		class := "ok"
		if b.Over {
			class = "over"
		}
		p.printf(`<g transform="translate(0,%s)">
<text x="0" y="15">%s</text>
<rect x="%s" y="2" width="%s" height="18" class="%s"><title>%s: %s (%s)</title></rect>
<text x="%s" y="15">%s</text>
<line x1="%s" x2="%s" y1="0" y2="24" stroke="#000" stroke-dasharray="4 3"/>
<text x="%s" y="15" fill="#555">%s</text>
</g>
`, coord(b.Y), b.Name, coord(250), coord(b.W), class, b.Name, b.Size, b.Budget, coord(256+b.W), b.Size,
			coord(250+b.BudgetX), coord(250+b.BudgetX), coord(255+b.BudgetX), b.Budget)
	}
	p.raw("</svg>\n\n")
}

func (p *page) treemap(v view) {
	r := v.R
	p.raw("<h2>Root filesystem by package</h2>\n",
		`<p class="note">Each rectangle's area is what the package installs in the root filesystem (Buildroot's <code>build/packages-file-list.txt</code>, counted as <code>make graph-size</code> counts it); `)
	if r.IPA != nil {
		p.raw("ironic-python-agent is split by wheel; ")
	}
	p.raw(`<em>unknown</em> is what no package installed (overlays, post-build scripts). Hover for details.</p>
<svg id="treemap" viewBox="0 0 1100 620" role="img" aria-label="treemap of the root filesystem by package">
`)
	for _, t := range v.Treemap {
		class, pkg := "tile", t.Name
		if t.Group {
			class += " group"
		}
		if t.Package != "" {
			pkg = t.Package
		}
		p.printf(`<g class="%s" data-package="%s"><title>%s</title>`+"\n", class, pkg, t.Detail)
		p.printf(`<rect x="%s" y="%s" width="%s" height="%s" fill="%s"/>`+"\n", coord(t.X), coord(t.Y), coord(t.W), coord(t.H), t.Color)
		if t.Label != "" {
			p.printf(`<text x="%s" y="%s">%s</text>`, coord(t.X+4), coord(t.Y+13), t.Label)
		}
		p.raw("\n")
		if t.Sub != "" {
			p.printf(`<text x="%s" y="%s" fill="#222">%s</text>`, coord(t.X+4), coord(t.Y+27), t.Sub)
		}
		p.raw("\n</g>\n")
	}
	p.raw(`</svg>
<table class="sortable" id="packages">
<thead><tr><th>package</th><th class="n">size</th><th class="n">share</th><th class="n">files</th></tr></thead>
<tbody>
`)
	for _, pk := range r.Rootfs.Packages {
		p.printf(`<tr data-package="%s"><td>%s</td><td class="n" data-v="%d">%s</td><td class="n" data-v="%d">%s</td><td class="n">%d</td></tr>`+"\n",
			pk.Name, pk.Name, pk.Size, term.HumanBytes(pk.Size), pk.Size, pct(pk.Size, r.Rootfs.Total), pk.Files)
	}
	p.raw("</tbody>\n</table>\n\n")
}

func (p *page) buildTime(v view) {
	p.raw("<h2>Build time by package and step</h2>\n")
	if len(v.Times) == 0 {
		p.raw(`<p class="note">No <code>build/build-time.log</code> in this output.</p>`)
		return
	}
	p.printf("<p>%s in package steps (<code>build/build-time.log</code>; a rebuilt package counts its last build).</p>\n", seconds(v.R.BuildTime.TotalSeconds))
	p.raw(`<p class="legend">`)
	for _, s := range v.Steps {
		p.printf(`<span><i style="background:%s"></i>%s</span>`, stepColor(s), s)
	}
	p.raw("</p>\n")
	p.printf(`<svg id="buildtime" viewBox="0 0 1100 %s" role="img" aria-label="build time per package and step">`+"\n", coord(float64(len(v.Times))*barRowH+4))
	for _, b := range v.Times {
		p.printf(`<g transform="translate(0,%s)"><text x="%s" y="13" text-anchor="end">%s</text>`+"\n", coord(b.Y), coord(185), b.Name)
		end := 0.0
		for _, s := range b.Segments {
			p.printf(`<rect x="%s" y="2" width="%s" height="14" fill="%s"><title>%s</title></rect>`, coord(190+s.X), coord(s.W), stepColor(s.Step), s.Detail)
			end = s.X + s.W
		}
		p.printf("\n"+`<text x="%s" y="13" fill="#555">%s</text></g>`+"\n", coord(196+end), b.Total)
	}
	p.raw("</svg>\n")
}

func (p *page) against(v view, c *Comparison) {
	p.printf("<h2>Against <code>%s</code></h2>\n", c.Output)
	p.printf("<p>Root filesystem %s (%s → %s)", signedBytes(c.SizeTotal.Diff), term.HumanBytes(c.SizeTotal.Old), term.HumanBytes(c.SizeTotal.New))
	if d := c.Initramfs; d != nil {
		p.printf(", initramfs %s (%s → %s)", signedBytes(d.Diff), term.HumanBytes(d.Old), term.HumanBytes(d.New))
	}
	p.printf(", build time %s. Per package as Buildroot's <code>utils/size-stats-compare</code> counts it, biggest change first; growth in red.</p>\n", signedSeconds(c.TimeTotal.Diff))
	header := `<table class="sortable"><thead><tr><th>package</th><th>change</th><th class="n">before</th><th class="n">after</th><th class="n">difference</th></tr></thead><tbody>` + "\n"
	row := `<tr><td>%s</td><td>%s</td><td class="n" data-v="%v">%s</td><td class="n" data-v="%v">%s</td><td class="n" data-v="%v">%s</td></tr>` + "\n"

	p.raw("<h3>Size</h3>\n")
	p.diffChart("sizediff", "size change per package", v.SizeDiff)
	p.raw(header)
	for _, d := range c.Size {
		p.printf(row, d.Package, d.Change, d.Old, term.HumanBytes(d.Old), d.New, term.HumanBytes(d.New), d.Diff, signedBytes(d.Diff))
	}
	if len(c.Size) == 0 {
		p.raw(`<tr><td colspan="5">no package changed size</td></tr>`)
	}
	p.raw("</tbody></table>\n<h3>Build time</h3>\n")
	p.diffChart("timediff", "build time change per package", v.TimeDiff)
	p.raw(header)
	for _, d := range c.Time {
		p.printf(row, d.Package, d.Change, d.Old, seconds(d.Old), d.New, seconds(d.New), d.Diff, signedSeconds(d.Diff))
	}
	if len(c.Time) == 0 {
		p.raw(`<tr><td colspan="5">no package changed build time</td></tr>`)
	}
	p.raw("</tbody></table>\n")
}

// diffChart draws changes from a middle line: growth to the right,
// shrinking to the left.
func (p *page) diffChart(id, label string, bars []diffBar) {
	if len(bars) == 0 {
		p.raw("\n")
		return
	}
	height := coord(float64(len(bars))*barRowH + 4)
	p.printf(`<svg id="%s" viewBox="0 0 1100 %s" role="img" aria-label="%s">`, id, height, label)
	p.printf(`<line x1="570" x2="570" y1="0" y2="%s" stroke="#999"/>`+"\n", height)
	for _, b := range bars {
		name := b.Name
		if b.Change != "" {
			name += " (" + b.Change + ")"
		}
		class, labelX, anchor := "grew", coord(194+b.X+b.W), ""
		if !b.Grew {
			class, labelX, anchor = "shrank", coord(186+b.X), ` text-anchor="end"`
		}
		p.printf(`<g transform="translate(0,%s)"><text x="%s" y="13" text-anchor="end">%s</text>`+"\n", coord(b.Y), coord(185), name)
		p.printf(`<rect x="%s" y="2" width="%s" height="14" class="%s"><title>%s: %s</title></rect>`+"\n", coord(190+b.X), coord(b.W), class, b.Name, b.Label)
		p.printf(`<text x="%s" y="13" fill="#555"`+anchor+`>%s</text></g>`+"\n", labelX, b.Label)
	}
	p.raw("</svg>\n")
}

func (p *page) agent(m *Manifest) {
	p.raw("<h2>The agent</h2>\n")
	if m == nil {
		p.raw(`<p class="note">No <code>images/ipa-manifest.json</code> in this output (ironic-python-agent not built).</p>`)
		return
	}
	p.printf("<p>OpenStack series <strong>%s</strong>, ironic-python-agent <strong>%s</strong>, Python %s: %d wheels (<code>images/ipa-manifest.json</code>). Licenses: ",
		m.Series, m.AgentVersion(), m.Python, len(m.Packages))
	for i, l := range m.Licenses() {
		if i > 0 {
			p.raw(", ")
		}
		p.printf("%s (%d)", l.License, l.Wheels)
	}
	p.raw(".</p>\n", `<table class="sortable" id="wheels"><thead><tr><th>name</th><th>version</th><th>license</th><th>wheel</th><th>sha256</th></tr></thead><tbody>`, "\n")
	for _, w := range m.Packages {
		p.printf(`<tr><td>%s</td><td>%s</td><td>%s</td><td><code>%s</code></td><td><code title="%s">%s…</code></td></tr>`+"\n",
			w.Name, w.Version, w.License, w.Wheel, w.SHA256, w.SHA256[:min(12, len(w.SHA256))])
	}
	p.raw("</tbody></table>\n")
}

// signedSeconds is a change of build time, with its sign.
func signedSeconds(s float64) string { return sign(s) + seconds(math.Abs(s)) }
