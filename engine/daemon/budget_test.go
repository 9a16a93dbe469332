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
// and the resident memory stay within what two jobs need. The decoded
// source lives in a shared file that plugins map, outside the Go heap, so
// the heap alone would not show it: the resident high-water mark does.
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
	rssBefore, rssMeasured := peakRSS(t, true)
	stop := heapPeak()
	var logs syncBuffer
	start := time.Now()
	startDaemon(t, e, &logs)
	recs := e.collect(t, n, 5*time.Minute, 0)
	peak := stop()
	rssPeak, _ := peakRSS(t, false)
	for _, r := range recs {
		if r.Status != outbox.StatusProcessed {
			t.Errorf("%s: %s %+v", r.Source.Key, r.Status, r.Error)
		}
	}
	if len(recs) != n {
		t.Fatalf("%d of %d processed", len(recs), n)
	}
	// One 24 MP job holds its decoded YCbCr (36 MB) and resampling scratch
	// in the heap, and its decoded source (96 MB of NRGBA) in a shared file
	// that is resident but not in the heap. Allow 300 MiB of heap per job
	// (room for garbage until the collector runs, GOGC 100%) and 400 MiB
	// resident, the shared file included. On two cores, two jobs in flight
	// measured about +250 MiB of heap and +400 MiB resident; without the
	// budget (20 in flight), +750 to +950 MiB of heap and +1.6 GiB
	// resident, over both bounds.
	const heapPerJob, rssPerJob = 300 << 20, 400 << 20
	bound := before.HeapInuse + 2*heapPerJob
	t.Logf("%d jobs of %d MP in %v: peak heap %d MiB (before %d MiB), bound %d MiB for 2 jobs in flight",
		n, mp/1_000_000, time.Since(start).Round(time.Millisecond), peak>>20, before.HeapInuse>>20, bound>>20)
	if peak > bound {
		t.Errorf("peak heap %d MiB over the %d MiB bound", peak>>20, bound>>20)
	}
	if rssMeasured {
		rssBound := rssBefore + 2*rssPerJob
		t.Logf("peak resident %d MiB (before %d MiB), bound %d MiB for 2 jobs in flight", rssPeak>>20, rssBefore>>20, rssBound>>20)
		if rssPeak > rssBound {
			t.Errorf("peak resident %d MiB over the %d MiB bound", rssPeak>>20, rssBound>>20)
		}
	}
}
