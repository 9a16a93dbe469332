// Package suggest finds the name someone probably meant, for "did you
// mean" hints in configuration and recipe errors.
package suggest

import "strings"

// Closest returns the name in names that s abbreviates (at least three
// letters, any case), or else the one within two edits of s, or "".
func Closest(s string, names []string) string {
	lower := strings.ToLower(s)
	best, bestDist := "", 3
	for _, n := range names {
		if len(s) >= 3 && strings.HasPrefix(n, lower) {
			return n
		}
		if d := Distance(lower, n); d < bestDist {
			best, bestDist = n, d
		}
	}
	return best
}

// Distance is the optimal string alignment distance between a and b:
// insertions, deletions, substitutions and swaps of neighbours each cost
// one. Strings longer than 64 runes are 64 apart from anything.
func Distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 64 || len(rb) > 64 {
		return 64
	}
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
