package follow

import (
	"context"

	"github.com/mentorship/mentorship/eventstore"
)

// ReadPage bounds each read of Read.
const ReadPage = 1024

// Read hands fn the events after from up to and including to, decoded, in
// log order and in batches of at most ReadPage events; keep, when not nil,
// chooses by type name which events are decoded and handed on, so that a
// reader interested in a few types decodes nothing else. It is how a
// reader that joins a follower late (a subscriber with a position to start
// from, an instance told that the shared read models moved) reads the
// stretch it missed: bounded reads rather than a subscription of its own.
// An event that does not decode ends it with a *DecodeError, never
// skipped. It returns the position read up to: to, or where fn or a read
// failed.
func Read(ctx context.Context, store eventstore.Store, from, to eventstore.Position, keep func(typ string) bool, fn func([]Event) error) (eventstore.Position, error) {
	batch := make([]Event, 0, ReadPage)
	for from < to {
		page, err := store.ReadAll(ctx, from, ReadPage)
		if err != nil {
			return from, err
		}
		if len(page) == 0 {
			break
		}
		batch = batch[:0]
		next := from
		for i := range page {
			if page[i].Position > to {
				break
			}
			if keep == nil || keep(page[i].Type) {
				ev, err := Decode(page[i])
				if err != nil {
					if len(batch) > 0 {
						if ferr := fn(batch); ferr != nil {
							return from, ferr
						}
					}
					return next, &DecodeError{Position: page[i].Position, Err: err}
				}
				batch = append(batch, ev)
			}
			next = page[i].Position
		}
		if len(batch) > 0 {
			if err := fn(batch); err != nil {
				return from, err
			}
		}
		from = next
		if next < page[len(page)-1].Position {
			break
		}
	}
	return max(from, to), nil
}
