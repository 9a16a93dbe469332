package daemon_test

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seed62486500/resizer/engine/outbox"
	"github.com/seed62486500/resizer/engine/samples"
)

// peakRSS returns the process's resident-set high-water mark in bytes, and
// resets it when reset is set (Linux: /proc/self/clear_refs).
func peakRSS(t *testing.T, reset bool) (int64, bool) {
	t.Helper()
	if reset {
		if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
			return 0, false
		}
	}
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10, err == nil
		}
	}
	return 0, false
}

// TestBadInputs sends what careless and hostile uploaders send. Each input
// gives correct outputs or a permanent failure record naming the key and
// the reason; the daemon stays up; the process's peak memory stays under a
// stated bound.
func TestBadInputs(t *testing.T) {
	e := embedded(t)
	jpg := samples.JPEG(800, 600, 1, 85)
	png := samples.PNGWithAlpha(400, 300, 2)
	gif := samples.AnimatedGIF(3, 200, 150)
	longKey := "odd/" + strings.Repeat("long-", 180) + ".jpg" // 1000 bytes: fits S3's key limit with its outputs
	// 1024 bytes, S3's limit: the source is valid, its output keys are not.
	longestKey := "odd/" + strings.Repeat("x", 1024-len("odd/")-len(".jpg")) + ".jpg"
	cases := []struct {
		key  string
		body []byte
		code string // failure code; "" for processed
		w, h int    // source size when processed
	}{
		{"bad/zero.jpg", nil, "unsupported_format", 0, 0},
		{"bad/random.jpg", samples.Random(8192, 3), "unsupported_format", 0, 0},
		{"bad/text.jpg", []byte("GIF89 is how this text starts, but it is only text\n"), "unsupported_format", 0, 0},
		{"bad/truncated.jpg", samples.Truncate(jpg), "corrupt_image", 0, 0},
		{"bad/truncated.png", samples.Truncate(png), "corrupt_image", 0, 0},
		{"bad/truncated.gif", gif[:40], "corrupt_image", 0, 0},
		{"bad/huge.png", samples.PNGHeader(60000, 60000), "image_too_large", 0, 0},
		{"bad/huge.jpg", samples.JPEGHeader(60000, 60000), "image_too_large", 0, 0},
		{"bad/many-frames.gif", samples.AnimatedGIF(1100, 4, 4), "image_too_large", 0, 0},
		{"bad/bomb.png", samples.PNGBomb(20000, 20000, 256), "image_too_large", 0, 0},
		{"good/zeros.png", samples.PNGBomb(3000, 3000, 3000), "", 3000, 3000},
		{"good/16bit.png", samples.PNG16(640, 480), "", 640, 480},
		{"good/gray.png", samples.GrayPNG(640, 480, 4), "", 640, 480},
		{"good/paletted.png", samples.PalettedPNG(300, 300), "", 300, 300},
		{"good/animated.gif", gif, "", 200, 150},
		{"good/cmyk.jpg", samples.CMYKJPEG(0, 255, 255, 0), "", 16, 16},
		{"good/interlaced.png", samples.InterlacedPNG(333, 222, 5), "", 333, 222},
		{"odd/with space.jpg", jpg, "", 800, 600},
		{"odd/plus+sign.jpg", jpg, "", 800, 600},
		{"odd/ünïcødé 写真.jpg", jpg, "", 800, 600},
		{"odd/../dots/./x.jpg", jpg, "", 800, 600},
		{longKey, jpg, "", 800, 600},
		{longestKey, jpg, "output_key_too_long", 0, 0},
	}
	// EXIF orientations 5 to 8 turn the picture a quarter: the source is
	// reported as displayed.
	for o := uint16(1); o <= 8; o++ {
		w, h := 320, 240
		if o >= 5 {
			w, h = h, w
		}
		cases = append(cases, struct {
			key  string
			body []byte
			code string
			w, h int
		}{fmt.Sprintf("good/orientation-%d.jpg", o), samples.JPEGWithOrientation(320, 240, uint64(o), o), "", w, h})
	}
	writeRecipe(t, e, strings.Replace(testRecipe, `match: ["photos/**"]`, `match: ["**"]`, 1))
	base, measured := peakRSS(t, true)
	var logs syncBuffer
	startDaemon(t, e, &logs)
	for _, c := range cases {
		e.put(t, c.key, c.body)
		e.send(t, s3Notification("ObjectCreated:Put", c.key))
	}
	recs := e.collect(t, len(cases), 2*time.Minute, time.Second)
	byKey := map[string]outbox.Record{}
	for _, r := range recs {
		byKey[r.Source.Key] = r
	}
	for _, c := range cases {
		r, ok := byKey[c.key]
		name := c.key
		if len(name) > 40 {
			name = name[:40] + "..."
		}
		switch {
		case !ok:
			t.Errorf("%s: no outbox record", name)
		case c.code == "":
			if r.Status != outbox.StatusProcessed || r.Source.Width != c.w || r.Source.Height != c.h || len(r.Outputs) != 2 {
				t.Errorf("%s: %s %dx%d with %d outputs (%+v), want processed %dx%d", name, r.Status, r.Source.Width, r.Source.Height, len(r.Outputs), r.Error, c.w, c.h)
			}
		default:
			if r.Status != outbox.StatusFailed || r.Error == nil || r.Error.Code != c.code || r.Error.Message == "" {
				t.Errorf("%s: %s %+v, want failed %s", name, r.Status, r.Error, c.code)
			} else {
				t.Logf("%-22s failed: %s: %s", name, r.Error.Code, r.Error.Message)
			}
		}
	}
	// Every failure is logged with the key and the reason.
	for _, c := range cases {
		if c.code != "" && !strings.Contains(logs.String(), "key="+c.key) {
			t.Errorf("%s: no log line names the key", c.key)
		}
	}
	if e.inboxDepth(t) != 0 {
		t.Error("messages left in the inbox")
	}
	// Still up after all that.
	e.put(t, "photos/after.jpg", jpg)
	e.send(t, s3Notification("ObjectCreated:Put", "photos/after.jpg"))
	if after := e.collect(t, 1, time.Minute, 0); len(after) != 1 || after[0].Status != outbox.StatusProcessed {
		t.Fatalf("after the bad inputs: %+v", after)
	}
	if measured {
		// Inputs here are at most 9 megapixels; 512 MiB leaves room for the
		// test's own copies, the emulators and the Go runtime. The race
		// detector's shadow memory triples that.
		bound := int64(512 << 20)
		if raceEnabled {
			bound *= 3
		}
		peak, _ := peakRSS(t, false)
		t.Logf("peak RSS %d MiB (was %d MiB before the daemon started); bound %d MiB", peak>>20, base>>20, bound>>20)
		if peak > bound {
			t.Errorf("peak RSS %d MiB over the %d MiB bound", peak>>20, bound>>20)
		}
	}
}
