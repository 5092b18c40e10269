package report

// Rect is a rectangle in SVG user units.
type Rect struct{ X, Y, W, H float64 }

// squarify lays values (largest first, all positive) out in r as a
// squarified treemap (Bruls, Huizing and van Wijk): each rectangle's area
// is proportional to its value, and rows are filled along the shorter side
// while that keeps the worst aspect ratio falling. out[i] belongs to
// values[i].
func squarify(values []float64, r Rect) []Rect {
	out := make([]Rect, len(values))
	var total float64
	for _, v := range values {
		total += v
	}
	if total <= 0 || r.W <= 0 || r.H <= 0 {
		return out
	}
	scale := r.W * r.H / total
	areas := make([]float64, len(values))
	for i, v := range values {
		areas[i] = v * scale
	}
	for i := 0; i < len(areas); {
		side := min(r.W, r.H)
		j := i + 1
		for j < len(areas) && worstRatio(areas[i:j+1], side) <= worstRatio(areas[i:j], side) {
			j++
		}
		var rowArea float64
		for _, a := range areas[i:j] {
			rowArea += a
		}
		if r.W >= r.H {
			// A column at the left edge, as tall as r.
			w := rowArea / r.H
			y := r.Y
			for k := i; k < j; k++ {
				h := areas[k] / w
				out[k] = Rect{r.X, y, w, h}
				y += h
			}
			r.X, r.W = r.X+w, r.W-w
		} else {
			// A row along the top edge, as wide as r.
			h := rowArea / r.W
			x := r.X
			for k := i; k < j; k++ {
				w := areas[k] / h
				out[k] = Rect{x, r.Y, w, h}
				x += w
			}
			r.Y, r.H = r.Y+h, r.H-h
		}
		i = j
	}
	return out
}

// worstRatio is the largest aspect ratio of a row of areas laid along side.
func worstRatio(row []float64, side float64) float64 {
	var sum, hi, lo float64
	lo = row[0]
	for _, a := range row {
		sum += a
		hi, lo = max(hi, a), min(lo, a)
	}
	s2, w2 := sum*sum, side*side
	return max(w2*hi/s2, s2/(w2*lo))
}
