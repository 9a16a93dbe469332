package budget

import "math"

// BytesPerPixel is what a decoded pixel in flight costs the daemon and its
// plugins together, as `resizer bench` measures it on 12-megapixel JPEGs
// through the default recipe (about 140 MiB per job, with the decoder's
// planes, the source, the outputs and the collector's slack).
const BytesPerPixel = 12

// DefaultPixels is the budget when no memory limit is known: two of the
// largest images the default max_pixels allows.
const DefaultPixels = 100_000_000

// ForMemory returns the pixel budget for a process allowed limit bytes
// (math.MaxInt64 or less than 1 for no limit): the pixels that fit in 60%
// of it, leaving the rest to the runtime, the encoded bytes, the plugins'
// own footprint and the page cache; never less than maxPixels, so the
// largest allowed image can still run.
func ForMemory(limit, maxPixels int64) int64 {
	if limit <= 0 || limit == math.MaxInt64 {
		return max(DefaultPixels, maxPixels)
	}
	return max(limit/10*6/BytesPerPixel, maxPixels)
}
