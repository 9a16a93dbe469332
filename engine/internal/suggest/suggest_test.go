package suggest

import "testing"

func TestClosest(t *testing.T) {
	names := []string{"width", "height", "workers", "format"}
	for _, c := range []struct{ in, want string }{
		{"widht", "width"},   // a swap
		{"heigth", "height"}, // a swap
		{"WORK", "workers"},  // an abbreviation, any case
		{"fromat", "format"},
		{"wo", ""}, // too short to abbreviate, too far to correct
		{"colour", ""},
	} {
		if got := Closest(c.in, names); got != c.want {
			t.Errorf("Closest(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "abc", 0}, {"abc", "acb", 1}, {"abc", "ab", 1}, {"kitten", "sitting", 3},
	} {
		if got := Distance(c.a, c.b); got != c.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}
