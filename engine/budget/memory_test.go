package budget

import (
	"math"
	"testing"
)

func TestForMemory(t *testing.T) {
	const mp = 1_000_000
	for _, c := range []struct {
		limit, maxPixels, want int64
	}{
		{math.MaxInt64, 50 * mp, DefaultPixels},     // no limit
		{0, 200 * mp, 200 * mp},                     // no limit, a larger cap
		{4 << 30, 50 * mp, (4 << 30) / 10 * 6 / 12}, // 4 GiB: about 214 MP
		{512 << 20, 50 * mp, 50 * mp},               // too small: still one largest image
	} {
		if got := ForMemory(c.limit, c.maxPixels); got != c.want {
			t.Errorf("ForMemory(%d, %d) = %d, want %d", c.limit, c.maxPixels, got, c.want)
		}
	}
}
