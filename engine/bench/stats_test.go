package bench

import (
	"math"
	"testing"
)

func TestPercentile(t *testing.T) {
	tests := []struct {
		name string
		xs   []float64
		p    float64
		want float64
	}{
		{"one value", []float64{7}, 90, 7},
		{"median of odd", []float64{3, 1, 2}, 50, 2},
		{"median of even is the middle pair's mean", []float64{4, 1, 3, 2}, 50, 2.5},
		{"p0 is the minimum", []float64{5, 9, 1}, 0, 1},
		{"p100 is the maximum", []float64{5, 9, 1}, 100, 9},
		{"interpolates between ranks", []float64{10, 20, 30, 40, 50, 60, 70, 80, 90, 100}, 90, 91},
		{"p99 of ten", []float64{10, 20, 30, 40, 50, 60, 70, 80, 90, 100}, 99, 99.1},
		{"out of range is clamped", []float64{1, 2}, 150, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Percentile(tt.xs, tt.p); math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("Percentile(%v, %v) = %v, want %v", tt.xs, tt.p, got, tt.want)
			}
		})
	}
	if got := Percentile(nil, 50); !math.IsNaN(got) {
		t.Errorf("Percentile of nothing = %v, want NaN", got)
	}
}

func TestSummarizeLeavesItsInputAlone(t *testing.T) {
	xs := []float64{9, 1, 5, 3, 7}
	s := Summarize(xs)
	want := Summary{N: 5, Min: 1, P50: 5, P90: 8.2, P99: 8.92, Max: 9}
	if math.Abs(s.P90-want.P90) > 1e-9 || math.Abs(s.P99-want.P99) > 1e-9 {
		t.Errorf("Summarize = %+v, want %+v", s, want)
	}
	s.P90, s.P99 = want.P90, want.P99
	if s != want {
		t.Errorf("Summarize = %+v, want %+v", s, want)
	}
	if xs[0] != 9 || xs[4] != 7 {
		t.Errorf("Summarize sorted its input: %v", xs)
	}
	if (Summarize(nil) != Summary{}) {
		t.Errorf("Summarize(nil) = %+v, want zero", Summarize(nil))
	}
}

func TestSpreadOf(t *testing.T) {
	got := SpreadOf([]float64{1.2, 0.8, 1.0})
	if got != (Spread{Median: 1.0, Min: 0.8, Max: 1.2}) {
		t.Errorf("SpreadOf = %+v", got)
	}
	if (SpreadOf(nil) != Spread{}) {
		t.Errorf("SpreadOf(nil) = %+v, want zero", SpreadOf(nil))
	}
}
