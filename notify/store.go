package notify

import (
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/eventstore"
)

// OutboxStore is where a Notifier keeps its emails, their delivery and
// the composer's saved directory with its checkpoint. The bbolt file in
// the data directory (Outbox) serves one instance; notify/redis serves
// several, each running the notifier in turn under a fenced lease. Both
// pass the conformance suite in notify/outboxtest.
//
// Every method that writes belongs to the notifier that holds the store,
// except EraseMember and EraseMembers, which any instance may call: they
// only delete or blank, and the holder's updates of an entry never bring
// back what they removed.
type OutboxStore interface {
	// Position returns the position of the last event whose emails the
	// store holds, and false when it never recorded one.
	Position() (eventstore.Position, bool, error)
	// Add stores the entries whose IDs the store has not seen, as pending
	// and due at their CreatedAt, and moves the position up to pos, in one
	// atomic step. It returns how many entries were new.
	Add(pos eventstore.Position, entries []Entry) (int, error)
	// SaveState stores the composer's encoded state and moves the
	// position up to composed, in one atomic step.
	SaveState(state []byte, composed eventstore.Position) error
	// LoadState calls decode with the saved state, valid only during the
	// call, and reports whether there was one.
	LoadState(decode func([]byte) error) (bool, error)
	// Due returns up to limit entries whose next attempt is at or before
	// now, earliest first, with their bodies.
	Due(now time.Time, limit int) ([]Entry, error)
	// NextAttempt returns the earliest next attempt of a pending or
	// failing entry, and false when there is none.
	NextAttempt() (time.Time, bool, error)
	// Claim takes an entry for one delivery attempt, to be settled by
	// MarkSent or MarkFailed, and returns it with its bodies. It reports
	// false when the entry is final or gone (an erasure removed it): then
	// nothing is to be sent. A claim made earlier and never settled marks
	// the entry InDoubt: the relay may already hold it.
	Claim(id string) (Entry, bool, error)
	// MarkSent records that the relay accepted the entry at at.
	MarkSent(id string, at time.Time) (Entry, error)
	// MarkFailed records a failed attempt at at: the entry is tried again
	// at next, or given up when giveUp is set.
	MarkFailed(id string, at time.Time, cause error, next time.Time, giveUp bool) (Entry, error)
	// ForMatch returns the emails about a match, oldest first, without
	// their bodies.
	ForMatch(matchID uuid.UUID) ([]Entry, error)
	// EraseMember removes the emails to an erased member and blanks the
	// subject and bodies of those about the member's matches (those given
	// and those of any email to the member).
	EraseMember(member uuid.UUID, matches []uuid.UUID) error
	// EraseMembers is EraseMember for several members.
	EraseMembers(members []uuid.UUID) error
	// Stats reads where the waiting emails stand.
	Stats() (OutboxStats, error)
	// Settled counts the emails sent and given up through this value
	// since it was opened, for the metrics.
	Settled() (sent, givenUp uint64)
	// Close releases the store.
	Close() error
}

var _ OutboxStore = (*Outbox)(nil)
