package imaging

import "image"

// Lossy WebP (VP8) stores BT.601 YCbCr in limited ("video") range: Y from
// 16 to 235, chroma from 16 to 240. golang.org/x/image/webp hands the planes
// back as an image.YCbCr (or NYCbCrA), whose conversion assumes the
// full-range JPEG convention, so blacks come out at 16 and whites at 235:
// washed out, and more so each time an image is re-encoded. vp8ToNRGBA
// converts with the limited-range equations instead.

// Fixed-point (16 fractional bits) coefficients of the limited-range
// BT.601 inverse: 255/219 for luma, and the chroma terms scaled by 255/224.
const (
	vp8Y  = 76309  // 1.164383 (255/219)
	vp8RV = 104597 // 1.596027
	vp8GU = 25675  // 0.391762
	vp8GV = 53279  // 0.812968
	vp8BU = 132201 // 2.017232
)

func clampFixed(v int32) uint8 {
	v = (v + 1<<15) >> 16
	return uint8(min(max(v, 0), 255))
}

// vp8ToNRGBA converts a lossy WebP's planes to RGB. Any other image is
// returned as is (lossless WebP decodes to NRGBA already).
func vp8ToNRGBA(img image.Image) image.Image {
	var yc *image.YCbCr
	var alpha []uint8
	var aStride int
	switch m := img.(type) {
	case *image.YCbCr:
		yc = m
	case *image.NYCbCrA:
		yc, alpha, aStride = &m.YCbCr, m.A, m.AStride
	default:
		return img
	}
	b := yc.Rect
	dst := image.NewNRGBA(image.Rectangle{Max: b.Size()})
	for y := b.Min.Y; y < b.Max.Y; y++ {
		row := dst.Pix[(y-b.Min.Y)*dst.Stride:]
		for x := b.Min.X; x < b.Max.X; x++ {
			yy := (int32(yc.Y[yc.YOffset(x, y)]) - 16) * vp8Y
			ci := yc.COffset(x, y)
			u, v := int32(yc.Cb[ci])-128, int32(yc.Cr[ci])-128
			i := 4 * (x - b.Min.X)
			row[i+0] = clampFixed(yy + vp8RV*v)
			row[i+1] = clampFixed(yy - vp8GU*u - vp8GV*v)
			row[i+2] = clampFixed(yy + vp8BU*u)
			row[i+3] = 0xff
			if alpha != nil {
				row[i+3] = alpha[(y-b.Min.Y)*aStride+(x-b.Min.X)]
			}
		}
	}
	return dst
}
