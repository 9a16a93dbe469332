package pipeline

import (
	"strings"
	"sync"
)

// keyLocks serialises jobs on the same object key inside one process.
type keyLocks struct {
	mu    sync.Mutex
	locks map[string]*keyLock
}

type keyLock struct {
	mu   sync.Mutex
	refs int
}

func (k *keyLocks) lock(key string) (unlock func()) {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = make(map[string]*keyLock)
	}
	l := k.locks[key]
	if l == nil {
		l = &keyLock{}
		k.locks[key] = l
	}
	l.refs++
	k.mu.Unlock()

	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		k.mu.Lock()
		l.refs--
		if l.refs == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
}

// sequencers remembers, per key, the S3 sequencer of the newest upload
// processed, so that an older event arriving later gives way. It forgets
// everything past a bound: the guard is for events in flight together.
type sequencers struct {
	mu   sync.Mutex
	last map[string]string
}

const maxSequencers = 10000

func (s *sequencers) newerThan(key, seq string) bool {
	if seq == "" {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	prev, ok := s.last[key]
	return ok && compareSequencers(prev, seq) > 0
}

func (s *sequencers) record(key, seq string) {
	if seq == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last == nil || len(s.last) >= maxSequencers {
		s.last = make(map[string]string)
	}
	if prev, ok := s.last[key]; !ok || compareSequencers(seq, prev) > 0 {
		s.last[key] = seq
	}
}

// compareSequencers orders S3 sequencers: hexadecimal strings compared
// after padding the shorter one on the right with zeros, as S3 documents.
func compareSequencers(a, b string) int {
	n := max(len(a), len(b))
	a = a + strings.Repeat("0", n-len(a))
	b = b + strings.Repeat("0", n-len(b))
	return strings.Compare(strings.ToUpper(a), strings.ToUpper(b))
}
