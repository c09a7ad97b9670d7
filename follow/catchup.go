package follow

import (
	"context"
	"runtime"
	"sync"

	"github.com/mentorship/mentorship/eventstore"
)

// chunkSize is how many positions (events, on a dense log) one step of a
// catch-up reads and decodes.
const chunkSize = 4096

// chunk is one step of a catch-up: the events after lo up to hi, read and
// decoded by a worker and then applied in order.
type chunk struct {
	lo, hi eventstore.Position
	recs   []eventstore.RecordedEvent // already read, when the reader is sequential
	events []Event
	err    error
	done   chan struct{}
}

// catchUp reads the log after from up to until and hands the decoded events
// to apply in order, in batches. Reading and decoding run on every core
// while apply works on earlier batches: that is most of a rebuild's work,
// and what keeps it near the speed of reading the log raw.
//
// The embedded engine numbers events densely, so the range can be cut into
// chunks of positions that workers read independently. A log with gaps in
// its positions (KurrentDB's) is read page after page by one reader, and
// only decoding runs in parallel. Density is judged from the first page.
//
// It returns the last position handed to apply. A *DecodeError stops it
// after the events before the bad one were applied.
//
// Each batch is taken from slabs and handed to apply, which must give it
// back (put) once nothing reads it any more, so that a catch-up of a
// million events fills the same few batches over and over rather than
// allocating one per chunk.
func catchUp(ctx context.Context, store eventstore.Store, from, until eventstore.Position, slabs *slabs, apply func([]Event) error) (eventstore.Position, error) {
	if from >= until {
		return from, nil
	}
	first, err := store.ReadAll(ctx, from, chunkSize)
	if err != nil {
		return from, err
	}
	if len(first) == 0 {
		return from, nil
	}
	dense := first[0].Position == from+1 && first[len(first)-1].Position == from+eventstore.Position(len(first))

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := max(1, runtime.GOMAXPROCS(0))
	jobs := make(chan *chunk, workers)
	ordered := make(chan *chunk, workers+1)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			w := &worker{in: newInterner()}
			for c := range jobs {
				c.fill(ctx, store, until, slabs, w)
				close(c.done)
			}
		})
	}
	defer wg.Wait()
	go func() {
		defer close(ordered)
		defer close(jobs)
		dispatch(ctx, store, first, dense, from, until, jobs, ordered)
	}()

	last := from
	for c := range ordered {
		<-c.done
		if len(c.events) == 0 {
			slabs.put(c.events)
		} else {
			// Once handed to apply, the events may be applied and their
			// slice filled again at any time: read them before.
			end := c.events[len(c.events)-1].Position
			if err := apply(c.events); err != nil {
				cancel()
				drain(ordered)
				return last, err
			}
			last = end
		}
		if c.err != nil {
			cancel()
			drain(ordered)
			return last, c.err
		}
	}
	return last, ctx.Err()
}

func drain(ordered <-chan *chunk) {
	for c := range ordered {
		<-c.done
	}
}

// slabs are the event slices of a catch-up that passed every follower,
// kept to be filled again. A slice handed back may still hold the events
// it last carried past its length; they are overwritten when it is filled
// again, and dropped with the slabs when the catch-up ends.
type slabs struct{ free chan []Event }

func newSlabs() *slabs { return &slabs{free: make(chan []Event, 16)} }

// get returns an empty slice with room for n events.
func (s *slabs) get(n int) []Event {
	select {
	case b := <-s.free:
		if cap(b) >= n {
			return b[:0]
		}
	default:
	}
	return make([]Event, 0, max(n, chunkSize))
}

// put keeps a slice for a later get, unless enough are kept already.
func (s *slabs) put(b []Event) {
	select {
	case s.free <- b:
	default:
	}
}

// dispatch hands out chunks in log order, to the workers and, in the same
// order, to the applier. Both channels are bounded, so reading stays only
// a few chunks ahead of applying.
func dispatch(ctx context.Context, store eventstore.Store, first []eventstore.RecordedEvent, dense bool, from, until eventstore.Position,
	jobs, ordered chan<- *chunk) {
	send := func(c *chunk) bool {
		c.done = make(chan struct{})
		select {
		case ordered <- c:
		case <-ctx.Done():
			return false
		}
		jobs <- c
		return true
	}
	recs := first
	lo := from
	for lo < until {
		c := &chunk{lo: lo, recs: recs}
		if dense {
			c.hi = min(lo+chunkSize, until)
		} else {
			if recs == nil {
				var err error
				if recs, err = store.ReadAll(ctx, lo, chunkSize); err != nil || len(recs) == 0 {
					if err != nil {
						c.err, c.hi = err, lo
						send(c)
					}
					return
				}
				c.recs = recs
			}
			c.hi = min(recs[len(recs)-1].Position, until)
		}
		if !send(c) {
			return
		}
		lo, recs = c.hi, nil
	}
}

// worker is what a goroutine reading and decoding chunks keeps from one
// chunk to the next: its interner, and the memory it reads records into
// when the store can read into memory it is given.
type worker struct {
	in  *interner
	buf eventstore.ReadBuffer
}

// fill reads (unless the chunk came with its events) and decodes a chunk.
func (c *chunk) fill(ctx context.Context, store eventstore.Store, until eventstore.Position, slabs *slabs, w *worker) {
	if c.err != nil {
		return
	}
	recs := c.recs
	if recs == nil {
		var err error
		if br, ok := store.(eventstore.BufferedReader); ok {
			recs, err = br.ReadAllInto(ctx, c.lo, int(c.hi-c.lo), &w.buf)
		} else {
			recs, err = store.ReadAll(ctx, c.lo, int(c.hi-c.lo))
		}
		if err != nil {
			c.err = err
			return
		}
		// A log with gaps may give fewer events than positions; the
		// rest of the chunk then follows in further pages.
		for len(recs) > 0 && recs[len(recs)-1].Position < c.hi {
			more, err := store.ReadAll(ctx, recs[len(recs)-1].Position, chunkSize)
			if err != nil {
				c.err = err
				return
			}
			if len(more) == 0 {
				break
			}
			recs = append(recs, more...)
		}
	}
	c.recs = nil
	c.events = slabs.get(len(recs))
	for i := range recs {
		if recs[i].Position > c.hi || recs[i].Position > until {
			break
		}
		ev, err := decode(recs[i], w.in)
		if err != nil {
			c.err = &DecodeError{Position: recs[i].Position, Err: err}
			return
		}
		c.events = append(c.events, ev)
	}
}

// stages applies batches to followers in a pipeline: a batch reaches a
// follower only after every follower before it applied the batch (the
// order the caller gave is kept), while those earlier followers already
// work on the next batches. Catching up, the followers thus apply side by
// side without ever seeing a batch out of order.
type stages struct {
	in   chan []Event
	done chan struct{}
	mu   sync.Mutex
	err  error
}

// startStages starts one goroutine per follower; apply(i, batch) applies
// a batch to follower i, and after runs once the last one applied it;
// the batch then goes back to slabs. After the first error, batches are
// dropped and the error reported.
func startStages(n int, slabs *slabs, apply func(i int, batch []Event) error, after func([]Event)) *stages {
	s := &stages{in: make(chan []Event, 2), done: make(chan struct{})}
	in := s.in
	for i := range n {
		out := make(chan []Event, 2)
		go func(in <-chan []Event, out chan<- []Event) {
			defer close(out)
			for batch := range in {
				if s.failed() == nil {
					if err := apply(i, batch); err != nil {
						s.fail(err)
					}
				}
				out <- batch
			}
		}(in, out)
		in = out
	}
	go func(last <-chan []Event) {
		defer close(s.done)
		for batch := range last {
			if s.failed() == nil && after != nil {
				after(batch)
			}
			slabs.put(batch)
		}
	}(in)
	return s
}

func (s *stages) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
}

func (s *stages) failed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// send queues a batch; it returns the first error any stage met so far.
func (s *stages) send(batch []Event) error {
	if err := s.failed(); err != nil {
		return err
	}
	s.in <- batch
	return nil
}

// close waits for every queued batch to pass all stages.
func (s *stages) close() error {
	close(s.in)
	<-s.done
	return s.failed()
}
