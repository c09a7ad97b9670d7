// Package clock is the one place that reads the wall clock. Everything else
// takes a Clock, so that tests control time and an operator can run the
// program "15 days later" with an offset.
package clock

import (
	"sync"
	"time"
)

// Clock tells the time.
type Clock interface {
	Now() time.Time
}

// System is the wall clock shifted by Offset (zero in production).
type System struct {
	Offset time.Duration
}

var _ Clock = System{}

// Now returns the wall-clock time plus the offset, in UTC.
func (s System) Now() time.Time { return time.Now().Add(s.Offset).UTC() }

// Fake is a clock that moves only when told to. It is safe for concurrent
// use.
type Fake struct {
	mu  sync.Mutex
	now time.Time
}

var _ Clock = (*Fake)(nil)

// NewFake returns a clock stopped at t.
func NewFake(t time.Time) *Fake { return &Fake{now: t.UTC()} }

// Now returns the clock's time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Advance moves the clock forward by d.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

// Set moves the clock to t.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = t.UTC()
}
