// Package budget bounds the decoded pixels held by jobs in flight, so that
// memory follows image sizes rather than the number of workers.
package budget

import (
	"context"
	"fmt"
	"sync"
)

// Pixels is a budget of decoded pixels shared by concurrent jobs. Requests
// are served in arrival order: a large job is not starved by small ones.
type Pixels struct {
	mu      sync.Mutex
	max     int64
	used    int64
	peak    int64
	waiters []*waiter
}

type waiter struct {
	n     int64
	ready chan struct{}
}

// New returns a budget of max pixels.
func New(max int64) *Pixels {
	return &Pixels{max: max}
}

// Acquire waits until n pixels fit in the budget, takes them and returns the
// function that gives them back (call it once). A request larger than the
// whole budget is refused at once.
func (p *Pixels) Acquire(ctx context.Context, n int64) (release func(), err error) {
	if n > p.max {
		return nil, fmt.Errorf("%d pixels exceed the whole pixel budget of %d", n, p.max)
	}
	p.mu.Lock()
	if len(p.waiters) == 0 && p.used+n <= p.max {
		p.take(n)
		p.mu.Unlock()
		return p.releaser(n), nil
	}
	w := &waiter{n: n, ready: make(chan struct{})}
	p.waiters = append(p.waiters, w)
	p.mu.Unlock()

	select {
	case <-w.ready:
		return p.releaser(n), nil
	case <-ctx.Done():
		p.mu.Lock()
		defer p.mu.Unlock()
		select {
		case <-w.ready:
			// Granted while giving up: hand the pixels back.
			p.used -= n
			p.wake()
		default:
			for i, x := range p.waiters {
				if x == w {
					p.waiters = append(p.waiters[:i], p.waiters[i+1:]...)
					break
				}
			}
			// The head may have changed: later waiters may fit now.
			p.wake()
		}
		return nil, ctx.Err()
	}
}

func (p *Pixels) take(n int64) {
	p.used += n
	p.peak = max(p.peak, p.used)
}

func (p *Pixels) releaser(n int64) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			p.mu.Lock()
			defer p.mu.Unlock()
			p.used -= n
			p.wake()
		})
	}
}

// wake grants waiting requests in order while they fit. Called with mu held.
func (p *Pixels) wake() {
	for len(p.waiters) > 0 && p.used+p.waiters[0].n <= p.max {
		w := p.waiters[0]
		p.waiters = p.waiters[1:]
		p.take(w.n)
		close(w.ready)
	}
}

// InUse returns the pixels held now.
func (p *Pixels) InUse() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.used
}

// Peak returns the most pixels ever held at once.
func (p *Pixels) Peak() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.peak
}

// Max returns the size of the budget.
func (p *Pixels) Max() int64 { return p.max }
