package budget

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestNeverOverBudget(t *testing.T) {
	p := New(100)
	var wg sync.WaitGroup
	var over atomic.Bool
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := int64(10 + (i*37)%60)
			release, err := p.Acquire(context.Background(), n)
			if err != nil {
				t.Error(err)
				return
			}
			if p.InUse() > 100 {
				over.Store(true)
			}
			time.Sleep(time.Millisecond)
			release()
			release() // a second call gives nothing back twice
		}()
	}
	wg.Wait()
	if over.Load() || p.Peak() > 100 {
		t.Fatalf("budget exceeded: peak %d of 100", p.Peak())
	}
	if p.InUse() != 0 {
		t.Fatalf("%d pixels still held", p.InUse())
	}
}

func TestLargeRequestIsNotStarved(t *testing.T) {
	p := New(100)
	small, _ := p.Acquire(context.Background(), 30)
	granted := make(chan struct{})
	go func() {
		release, err := p.Acquire(context.Background(), 100)
		if err == nil {
			close(granted)
			release()
		}
	}()
	time.Sleep(20 * time.Millisecond) // the large request is queued first
	// A small request behind it waits, although it would fit.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := p.Acquire(ctx, 10); err == nil {
		t.Fatal("a later small request jumped the queue")
	}
	small()
	select {
	case <-granted:
	case <-time.After(time.Second):
		t.Fatal("the large request was never granted")
	}
}

func TestCancelWhileWaiting(t *testing.T) {
	p := New(10)
	hold, _ := p.Acquire(context.Background(), 10)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := p.Acquire(ctx, 5)
		errc <- err
	}()
	time.Sleep(10 * time.Millisecond)
	cancel()
	if err := <-errc; err != context.Canceled {
		t.Fatalf("Acquire = %v, want context.Canceled", err)
	}
	hold()
	if p.InUse() != 0 {
		t.Fatalf("%d pixels held after a cancelled wait", p.InUse())
	}
}

func TestTooLarge(t *testing.T) {
	if _, err := New(10).Acquire(context.Background(), 11); err == nil {
		t.Fatal("a request over the whole budget was accepted")
	}
}
