package bench

import (
	"math"
	"slices"
)

// Summary describes a sample of durations or rates: how many values, and
// the percentiles the report prints.
type Summary struct {
	N   int     `json:"n"`
	Min float64 `json:"min"`
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// Summarize computes the summary of xs; xs is not modified. An empty
// sample gives a zero Summary.
func Summarize(xs []float64) Summary {
	if len(xs) == 0 {
		return Summary{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return Summary{
		N:   len(s),
		Min: s[0],
		P50: percentileSorted(s, 50),
		P90: percentileSorted(s, 90),
		P99: percentileSorted(s, 99),
		Max: s[len(s)-1],
	}
}

// Percentile returns the p-th percentile (0 to 100) of xs, interpolating
// linearly between the two nearest ranks, so that the 50th of an even
// sample is the mean of its middle pair, as a median is. NaN for an empty
// sample.
func Percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return percentileSorted(s, p)
}

// Median is the 50th percentile.
func Median(xs []float64) float64 { return Percentile(xs, 50) }

func percentileSorted(s []float64, p float64) float64 {
	p = min(max(p, 0), 100)
	rank := p / 100 * float64(len(s)-1)
	lo := int(math.Floor(rank))
	hi := min(lo+1, len(s)-1)
	frac := rank - float64(lo)
	return s[lo] + (s[hi]-s[lo])*frac
}

// Spread is the median of repeated measurements of one figure and the
// range they covered, so that a reader sees how noisy the figure was.
type Spread struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
}

// SpreadOf summarizes repeated measurements; zero for none.
func SpreadOf(xs []float64) Spread {
	if len(xs) == 0 {
		return Spread{}
	}
	return Spread{Median: Median(xs), Min: slices.Min(xs), Max: slices.Max(xs)}
}
