package jpegdec

// The inverse DCT of T.81 A.3.3, separable: a pass over the columns, then
// over the rows, each a one-dimensional 8-point transform
//
//	x[n] = Σ_k C(k)·X[k]·cos((2n+1)kπ/16),  C(0) = 1/√2, C(k) = 1 otherwise,
//
// (the 1/2 of each dimension is folded into the final shift) split into the
// even coefficients, a 4-point transform, and the odd ones:
//
//	x[n] = E[n] + O[n],  x[7-n] = E[n] - O[n],  n = 0..3.
//
// Fixed point: the cosines are scaled by 2^13; the column pass keeps two
// extra bits of precision in its output; the row pass removes the rest
// (13 + 2 + 2 bits, the last 2 being the two 1/2 factors) with rounding.
const (
	constBits = 13
	pass1Bits = 2

	c1 = 8035 // cos(1π/16)·2^13
	c2 = 7568 // cos(2π/16)·2^13
	c3 = 6811
	c4 = 5793
	c5 = 4551
	c6 = 3135
	c7 = 1598
)

// idct transforms blk (dequantised, row-major) and writes 8×8 samples,
// level-shifted and clamped, to dst with the given stride.
func idct(blk *[64]int32, dst []uint8, stride int) {
	var tmp [64]int32
	for x := range 8 {
		col := func(k int) int32 { return blk[8*k+x] }
		if col(1)|col(2)|col(3)|col(4)|col(5)|col(6)|col(7) == 0 {
			// Only the DC term: the column is flat.
			v := (col(0)*c4 + 1<<(constBits-pass1Bits-1)) >> (constBits - pass1Bits)
			for n := range 8 {
				tmp[8*n+x] = v
			}
			continue
		}
		var out [8]int32
		transform1D(col(0), col(1), col(2), col(3), col(4), col(5), col(6), col(7), &out)
		for n := range 8 {
			tmp[8*n+x] = (out[n] + 1<<(constBits-pass1Bits-1)) >> (constBits - pass1Bits)
		}
	}
	const shift = constBits + pass1Bits + 2
	// Rounding and the level shift of 128, in the scale of the row pass.
	const bias = 1<<(shift-1) + 128<<shift
	for y := range 8 {
		r := tmp[8*y : 8*y+8 : 8*y+8]
		d := dst[y*stride : y*stride+8 : y*stride+8]
		if r[1]|r[2]|r[3]|r[4]|r[5]|r[6]|r[7] == 0 {
			v := clamp((r[0]*c4 + bias) >> shift)
			for n := range d {
				d[n] = v
			}
			continue
		}
		var out [8]int32
		transform1D(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], &out)
		for n := range d {
			d[n] = clamp((out[n] + bias) >> shift)
		}
	}
}

// transform1D computes the 8 outputs of one dimension, scaled by 2^13.
//
// The odd part shares its products: with S = x1+x3+x5+x7,
//
//	O0 = t1·x1 + m1(x1+x7) + m4(x1+x5) + c3·S
//	O1 = t3·x3 + m2(x3+x5) + m3(x3+x7) + c3·S
//	O2 = t5·x5 + m2(x3+x5) + m4(x1+x5) + c3·S
//	O3 = t7·x7 + m1(x1+x7) + m3(x3+x7) + c3·S
//
// which expands to the sums of the package comment (the constants below
// are chosen so that it does, exactly, in integers): 9 multiplications
// instead of 16.
func transform1D(x0, x1, x2, x3, x4, x5, x6, x7 int32, out *[8]int32) {
	// Even part.
	a := (x0 + x4) * c4
	b := (x0 - x4) * c4
	z := (x2 + x6) * c6
	p := z + x2*(c2-c6) // c2·x2 + c6·x6
	q := z - x6*(c2+c6) // c6·x2 - c2·x6
	e0, e3 := a+p, a-p
	e1, e2 := b+q, b-q
	// Odd part.
	const (
		m1 = c7 - c3
		m2 = -c1 - c3
		m3 = -c5 - c3
		m4 = c5 - c3
		t1 = c1 + c3 - c5 - c7
		t3 = c1 + c3 + c5 - c7
		t5 = c1 + c3 - c5 + c7
		t7 = -c1 + c3 + c5 - c7
	)
	s := (x1 + x3 + x5 + x7) * c3
	z17, z35 := (x1+x7)*m1, (x3+x5)*m2
	z37, z15 := (x3+x7)*m3+s, (x1+x5)*m4+s
	o0 := x1*t1 + z17 + z15
	o1 := x3*t3 + z35 + z37
	o2 := x5*t5 + z35 + z15
	o3 := x7*t7 + z17 + z37
	out[0], out[7] = e0+o0, e0-o0
	out[1], out[6] = e1+o1, e1-o1
	out[2], out[5] = e2+o2, e2-o2
	out[3], out[4] = e3+o3, e3-o3
}

func clamp(v int32) uint8 {
	if uint32(v) > 255 {
		if v < 0 {
			return 0
		}
		return 255
	}
	return uint8(v)
}

// flatSample is the sample idct gives everywhere in a block whose only
// coefficient is dc, computed the same way.
func flatSample(dc int32) uint8 {
	const shift = constBits + pass1Bits + 2
	v := (dc*c4 + 1<<(constBits-pass1Bits-1)) >> (constBits - pass1Bits)
	return clamp((v*c4 + 1<<(shift-1) + 128<<shift) >> shift)
}

// fill8x8 sets an 8×8 block of dst to v.
func fill8x8(dst []uint8, stride int, v uint8) {
	for y := range 8 {
		row := dst[y*stride : y*stride+8 : y*stride+8]
		for i := range row {
			row[i] = v
		}
	}
}
