package daemon_test

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/seed62486500/resizer/engine/outbox"
	"github.com/seed62486500/resizer/engine/samples"
)

// heapPeak samples the Go heap in use until stop is called, and returns the
// highest value seen.
func heapPeak() (stop func() uint64) {
	var mu sync.Mutex
	var peak uint64
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			mu.Lock()
			peak = max(peak, ms.HeapInuse)
			mu.Unlock()
			select {
			case <-done:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-finished
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}

// TestPixelBudgetBoundsMemory runs 20 jobs of 24-megapixel images with 20
// workers but a pixel budget for two: jobs wait for budget, and the heap
// stays within what two jobs need.
func TestPixelBudgetBoundsMemory(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("a memory measurement: skipped in -short and under the race detector, whose shadow memory distorts it")
	}
	e := embedded(t)
	const n, mp = 20, 24_000_000
	e.cfg.Workers = n
	e.cfg.MaxPixels = mp
	e.cfg.PixelBudget = 2 * mp
	writeRecipe(t, e, `name: photos
match: ["photos/**"]
outputs:
  - {name: medium, width: 800, height: 800}
`)
	big := samples.JPEG(6000, 4000, 42, 80)
	for i := range n {
		key := fmt.Sprintf("photos/big-%02d.jpg", i)
		e.put(t, key, big)
		e.send(t, s3Notification("ObjectCreated:Put", key))
	}
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	stop := heapPeak()
	var logs syncBuffer
	start := time.Now()
	startDaemon(t, e, &logs)
	recs := e.collect(t, n, 5*time.Minute, 0)
	peak := stop()
	for _, r := range recs {
		if r.Status != outbox.StatusProcessed {
			t.Errorf("%s: %s %+v", r.Source.Key, r.Status, r.Error)
		}
	}
	if len(recs) != n {
		t.Fatalf("%d of %d processed", len(recs), n)
	}
	// One 24 MP job holds about 36 MB of decoded YCbCr, 96 MB of NRGBA and
	// 100 MB of resampling scratch (800 columns × 4000 rows × 4 float64):
	// 300 MB live per job is generous. The heap in use also holds garbage
	// until the collector runs, up to GOGC (100%) more than the live heap.
	// Without the budget, 20 workers would hold 20 jobs: about ten times
	// this bound.
	const perJob = 300 << 20
	bound := before.HeapInuse + 2*perJob*2
	t.Logf("%d jobs of %d MP in %v: peak heap %d MiB (before %d MiB), bound %d MiB for 2 jobs in flight",
		n, mp/1_000_000, time.Since(start).Round(time.Millisecond), peak>>20, before.HeapInuse>>20, bound>>20)
	if peak > bound {
		t.Errorf("peak heap %d MiB over the %d MiB bound", peak>>20, bound>>20)
	}
}
