package pipeline

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestCompareSequencers(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"0066030E82E2A48DFE", "0066030E82E2A48DFE", 0},
		{"0066030E82E2A48DFF", "0066030E82E2A48DFE", 1},
		{"0055AED6DCD90281E5", "0055AED6DCD90281E6", -1},
		// Different lengths: the shorter is padded on the right.
		{"0055AED6DCD9028", "0055AED6DCD90281E5", -1},
		{"0055AED6DCD9029", "0055AED6DCD90281E5", 1},
		{"abc", "ABC", 0},
	}
	for _, tt := range tests {
		if got := compareSequencers(tt.a, tt.b); got != tt.want {
			t.Errorf("compareSequencers(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestSequencersNewerThan(t *testing.T) {
	var s sequencers
	if s.newerThan("k", "0002") {
		t.Fatal("nothing recorded yet")
	}
	s.record("k", "0005")
	s.record("k", "0003") // older: does not replace
	if !s.newerThan("k", "0004") {
		t.Error("0005 was processed: 0004 is older")
	}
	if s.newerThan("k", "0006") || s.newerThan("k", "") || s.newerThan("other", "0001") {
		t.Error("newer, unsequenced or other keys must not give way")
	}
}

func TestKeyLocksSerialiseOneKey(t *testing.T) {
	var k keyLocks
	var inside, overlap atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			unlock := k.lock("bucket/a.jpg")
			if inside.Add(1) > 1 {
				overlap.Add(1)
			}
			time.Sleep(2 * time.Millisecond)
			inside.Add(-1)
			unlock()
		}()
	}
	// Another key is not held up by the busy one.
	done := make(chan struct{})
	go func() { k.lock("bucket/b.jpg")(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Fatal("a different key waited for a busy one")
	}
	wg.Wait()
	if overlap.Load() != 0 {
		t.Fatal("two jobs held the same key at once")
	}
	if len(k.locks) != 0 {
		t.Fatalf("%d key locks left after every job ended", len(k.locks))
	}
}
