package notify

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	bbolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/internal/boltfile"
)

// FileName is the outbox's file inside the data directory.
const FileName = "outbox.db"

// Status is where an email stands in the outbox.
type Status string

// The statuses of an email. Pending and failing emails are retried; sent
// and failed ones are final.
const (
	// StatusPending is an email not yet handed to the mail relay.
	StatusPending Status = "PENDING"
	// StatusFailing is an email whose last attempt failed and that waits
	// for its next attempt.
	StatusFailing Status = "FAILING"
	// StatusSent is an email the mail relay accepted.
	StatusSent Status = "SENT"
	// StatusFailed is an email the outbox gave up on: the relay refused
	// its recipient for good, or it kept failing past the give-up age.
	StatusFailed Status = "FAILED"
)

// Entry is one email in the outbox: what was composed, for whom, and how
// delivery went. Its ID is the idempotency key and the Message-ID's local
// part, derived from the event and the recipient, so the same event never
// yields a second email.
type Entry struct {
	// ID is the idempotency key.
	ID string `json:"id"`
	// Kind says which of the program's emails this is.
	Kind Kind `json:"kind"`
	// MatchID is the match the email is about.
	MatchID uuid.UUID `json:"matchId"`
	// EventID and Position identify the event the email was derived from.
	EventID  uuid.UUID           `json:"eventId"`
	Position eventstore.Position `json:"position"`
	// RecipientID is the member the email is for; uuid.Nil for the
	// program's staff address.
	RecipientID uuid.UUID `json:"recipientId,omitzero"`
	// To is the recipient's address.
	To string `json:"to"`
	// Subject is the subject line.
	Subject string `json:"subject"`
	// Text and HTML are the bodies. The outbox keeps them until the email
	// is sent or given up and then drops them, so that contact details do
	// not linger at rest; ForMatch never returns them.
	Text string `json:"text,omitempty"`
	HTML string `json:"html,omitempty"`
	// Status is where the email stands.
	Status Status `json:"status"`
	// Attempts counts the deliveries tried.
	Attempts int `json:"attempts"`
	// LastError is the error of the last failed attempt.
	LastError string `json:"lastError,omitempty"`
	// CreatedAt is when the outbox took the email.
	CreatedAt time.Time `json:"createdAt"`
	// NextAttemptAt is when the email is tried next; zero once final.
	NextAttemptAt time.Time `json:"nextAttemptAt,omitzero"`
	// SentAt is when the relay accepted the email; zero until then.
	SentAt time.Time `json:"sentAt,omitzero"`
	// InDoubt is set by OutboxStore.Claim when an earlier attempt was
	// claimed and never settled: its sender died or lost its lease while
	// sending, so the relay may hold the email already. The attempt about
	// to be made carries the same Message-ID. It is not stored.
	InDoubt bool `json:"-"`
}

var (
	bucketEntries = []byte("entries") // ID -> entry as JSON
	bucketDue     = []byte("due")     // next attempt (unix ns, big endian) + ID -> nothing
	bucketMatches = []byte("matches") // match ID (16 bytes) + ID -> nothing
	bucketMeta    = []byte("meta")
	keyPosition   = []byte("position") // the last event position composed
)

// Outbox is the durable list of emails to send, in a bbolt file. It
// remembers every ID it took, sent or not, so that composing the same
// event again (after a restart, a replay or a rebuilt read model) adds
// nothing. It is safe for concurrent use.
type Outbox struct {
	// mu keeps every transaction out while Compact replaces db.
	mu     sync.RWMutex
	db     *bbolt.DB
	counts outboxCounts
}

var outboxOptions = &bbolt.Options{Timeout: time.Second}

func (o *Outbox) view(fn func(*bbolt.Tx) error) error {
	o.mu.RLock()
	defer o.mu.RUnlock()
	if o.db == nil {
		return errors.New("outbox: closed")
	}
	return o.db.View(fn)
}

func (o *Outbox) update(fn func(*bbolt.Tx) error) error {
	o.mu.RLock()
	defer o.mu.RUnlock()
	if o.db == nil {
		return errors.New("outbox: closed")
	}
	return o.db.Update(fn)
}

// EraseMember removes an erased member's personal data from the outbox:
// the emails to the member go, and the emails about the member's matches
// (those given, and those of any email to the member) to their partners or
// staff lose their subject and bodies, which quote the member's name. The
// records of what was sent, when, stay. The file is then compacted, so the
// removed bytes leave it.
func (o *Outbox) EraseMember(member uuid.UUID, matches []uuid.UUID) error {
	if err := o.eraseMember(member, matches); err != nil {
		return err
	}
	return o.Compact()
}

// EraseMembers is EraseMember for several members, with one compaction.
func (o *Outbox) EraseMembers(members []uuid.UUID) error {
	for _, id := range members {
		if err := o.eraseMember(id, nil); err != nil {
			return err
		}
	}
	return o.Compact()
}

// eraseMember is EraseMember without the compaction.
func (o *Outbox) eraseMember(member uuid.UUID, matches []uuid.UUID) error {
	err := o.update(func(tx *bbolt.Tx) error {
		all, due, byMatch := tx.Bucket(bucketEntries), tx.Bucket(bucketDue), tx.Bucket(bucketMatches)
		// The member's matches are those given and those of every email
		// to the member.
		matches := slices.Clone(matches)
		err := all.ForEach(func(k, v []byte) error {
			var e Entry
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			if e.RecipientID == member && e.MatchID != uuid.Nil && !slices.Contains(matches, e.MatchID) {
				matches = append(matches, e.MatchID)
			}
			return nil
		})
		if err != nil {
			return err
		}
		var drop, blank [][]byte
		err = all.ForEach(func(k, v []byte) error {
			var e Entry
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			switch {
			case e.RecipientID == member:
				drop = append(drop, k)
			case slices.Contains(matches, e.MatchID):
				blank = append(blank, k)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range drop {
			var e Entry
			if err := json.Unmarshal(all.Get(k), &e); err != nil {
				return err
			}
			if err := due.Delete(dueKey(e.NextAttemptAt, e.ID)); err != nil {
				return err
			}
			if err := byMatch.Delete(matchKey(e.MatchID, e.ID)); err != nil {
				return err
			}
			if err := all.Delete(k); err != nil {
				return err
			}
		}
		for _, k := range blank {
			var e Entry
			if err := json.Unmarshal(all.Get(k), &e); err != nil {
				return err
			}
			e.Subject, e.Text, e.HTML = "", "", ""
			data, err := json.Marshal(e)
			if err != nil {
				return err
			}
			if err := all.Put(k, data); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("outbox: erase member: %w", err)
	}
	return nil
}

// Compact rewrites the file without its free pages, where bbolt leaves the
// bytes of deleted and replaced records.
func (o *Outbox) Compact() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.db == nil {
		return errors.New("outbox: closed")
	}
	db, err := boltfile.Compact(o.db, outboxOptions)
	o.db = db
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	return nil
}

// OpenOutbox opens (creating when missing) the outbox file in dir. Another
// process holding the file makes it fail after a short wait.
func OpenOutbox(dir string) (*Outbox, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	db, err := bbolt.Open(filepath.Join(dir, FileName), 0o600, outboxOptions)
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("outbox: %s is in use by another process", FileName)
	}
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketEntries, bucketDue, bucketMatches, bucketMeta} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("outbox: %w", err)
	}
	return &Outbox{db: db}, nil
}

// Close closes the file.
func (o *Outbox) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.db == nil {
		return nil
	}
	err := o.db.Close()
	o.db = nil
	return err
}

// Position returns the position of the last event whose emails the outbox
// holds, and false when the outbox never recorded one (a new file).
func (o *Outbox) Position() (eventstore.Position, bool, error) {
	var pos eventstore.Position
	var ok bool
	err := o.view(func(tx *bbolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(keyPosition); len(v) == 8 {
			pos, ok = eventstore.Position(binary.BigEndian.Uint64(v)), true
		}
		return nil
	})
	return pos, ok, err
}

// Add stores the entries whose IDs the outbox has not seen, as pending and
// due at their CreatedAt, and records pos as the last event composed, in
// one transaction. It returns how many entries were new. The position only
// moves forward.
func (o *Outbox) Add(pos eventstore.Position, entries []Entry) (int, error) {
	added := 0
	err := o.update(func(tx *bbolt.Tx) error {
		added = 0
		all := tx.Bucket(bucketEntries)
		for _, e := range entries {
			if all.Get([]byte(e.ID)) != nil {
				continue
			}
			e.Status, e.Attempts, e.LastError, e.NextAttemptAt, e.SentAt = StatusPending, 0, "", e.CreatedAt, time.Time{}
			if err := put(tx, e); err != nil {
				return err
			}
			if err := tx.Bucket(bucketMatches).Put(matchKey(e.MatchID, e.ID), nil); err != nil {
				return err
			}
			added++
		}
		meta := tx.Bucket(bucketMeta)
		if v := meta.Get(keyPosition); len(v) == 8 && eventstore.Position(binary.BigEndian.Uint64(v)) >= pos {
			return nil
		}
		return meta.Put(keyPosition, binary.BigEndian.AppendUint64(nil, uint64(pos)))
	})
	if err != nil {
		return 0, fmt.Errorf("outbox: add: %w", err)
	}
	return added, nil
}

// put writes e and its due key.
func put(tx *bbolt.Tx, e Entry) error {
	data, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if err := tx.Bucket(bucketEntries).Put([]byte(e.ID), data); err != nil {
		return err
	}
	if e.Status == StatusPending || e.Status == StatusFailing {
		return tx.Bucket(bucketDue).Put(dueKey(e.NextAttemptAt, e.ID), nil)
	}
	return nil
}

func get(tx *bbolt.Tx, id string) (Entry, bool, error) {
	v := tx.Bucket(bucketEntries).Get([]byte(id))
	if v == nil {
		return Entry{}, false, nil
	}
	var e Entry
	if err := json.Unmarshal(v, &e); err != nil {
		return Entry{}, false, fmt.Errorf("entry %s: %w", id, err)
	}
	return e, true, nil
}

func dueKey(at time.Time, id string) []byte {
	k := binary.BigEndian.AppendUint64(nil, uint64(max(at.UnixNano(), 0)))
	return append(k, id...)
}

func matchKey(matchID uuid.UUID, id string) []byte {
	return append(matchID[:len(matchID):len(matchID)], id...)
}

// Due returns up to limit entries whose next attempt is at or before now,
// earliest first, with their bodies.
func (o *Outbox) Due(now time.Time, limit int) ([]Entry, error) {
	var out []Entry
	end := binary.BigEndian.AppendUint64(nil, uint64(max(now.UnixNano(), 0)))
	err := o.view(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketDue).Cursor()
		for k, _ := c.First(); k != nil && len(out) < limit; k, _ = c.Next() {
			if bytes.Compare(k[:8], end) > 0 {
				break
			}
			e, ok, err := get(tx, string(k[8:]))
			if err != nil {
				return err
			}
			if ok {
				out = append(out, e)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("outbox: due: %w", err)
	}
	return out, nil
}

// NextAttempt returns the earliest next attempt of a pending or failing
// entry, and false when there is none.
func (o *Outbox) NextAttempt() (time.Time, bool, error) {
	var at time.Time
	var ok bool
	err := o.view(func(tx *bbolt.Tx) error {
		if k, _ := tx.Bucket(bucketDue).Cursor().First(); k != nil {
			at, ok = time.Unix(0, int64(binary.BigEndian.Uint64(k[:8]))).UTC(), true
		}
		return nil
	})
	return at, ok, err
}

// settle updates a pending or failing entry with change, moving its due
// key. An entry that is already final is left alone.
func (o *Outbox) settle(id string, change func(*Entry)) (Entry, error) {
	var out Entry
	settled := false
	err := o.update(func(tx *bbolt.Tx) error {
		settled = false
		e, ok, err := get(tx, id)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("no entry %s", id)
		}
		if e.Status != StatusPending && e.Status != StatusFailing {
			out = e
			return nil
		}
		if err := tx.Bucket(bucketDue).Delete(dueKey(e.NextAttemptAt, e.ID)); err != nil {
			return err
		}
		change(&e)
		if e.Status == StatusSent || e.Status == StatusFailed {
			settled = true
			e.Text, e.HTML, e.NextAttemptAt = "", "", time.Time{}
		}
		out = e
		return put(tx, e)
	})
	if err != nil {
		return Entry{}, fmt.Errorf("outbox: %w", err)
	}
	if settled {
		switch out.Status {
		case StatusSent:
			o.counts.sent.Add(1)
		case StatusFailed:
			o.counts.failed.Add(1)
		}
	}
	return out, nil
}

// Claim returns a pending or failing entry with its bodies for one
// attempt, and false when the entry is final or gone. The file has one
// process at a time, which holds it locked, so a claim writes nothing:
// an attempt cut short by a crash is made again after the restart.
func (o *Outbox) Claim(id string) (Entry, bool, error) {
	var out Entry
	var ok bool
	err := o.view(func(tx *bbolt.Tx) error {
		e, found, err := get(tx, id)
		if err != nil || !found {
			return err
		}
		out, ok = e, e.Status == StatusPending || e.Status == StatusFailing
		return nil
	})
	if err != nil {
		return Entry{}, false, fmt.Errorf("outbox: claim: %w", err)
	}
	return out, ok, nil
}

// Settled counts the emails sent and given up since the outbox opened.
func (o *Outbox) Settled() (sent, givenUp uint64) {
	return o.counts.sent.Load(), o.counts.failed.Load()
}

// MarkSent records that the relay accepted the entry at at.
func (o *Outbox) MarkSent(id string, at time.Time) (Entry, error) {
	return o.settle(id, func(e *Entry) {
		e.Status, e.SentAt = StatusSent, at.UTC()
		e.Attempts++
	})
}

// MarkFailed records a failed attempt at at: the entry is tried again at
// next, or given up (StatusFailed) when giveUp is set.
func (o *Outbox) MarkFailed(id string, at time.Time, cause error, next time.Time, giveUp bool) (Entry, error) {
	return o.settle(id, func(e *Entry) {
		e.Attempts++
		e.LastError = cause.Error()
		if giveUp {
			e.Status = StatusFailed
			return
		}
		e.Status, e.NextAttemptAt = StatusFailing, next.UTC()
	})
}

// ForMatch returns the emails about a match, oldest first, without their
// bodies: what staff see of a match's correspondence.
func (o *Outbox) ForMatch(matchID uuid.UUID) ([]Entry, error) {
	var out []Entry
	prefix := matchID[:]
	err := o.view(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketMatches).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			e, ok, err := get(tx, string(k[len(prefix):]))
			if err != nil {
				return err
			}
			if ok {
				e.Text, e.HTML = "", ""
				out = append(out, e)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("outbox: match %s: %w", matchID, err)
	}
	slices.SortFunc(out, func(a, b Entry) int {
		return cmp.Or(cmp.Compare(a.Position, b.Position), strings.Compare(a.ID, b.ID))
	})
	return out, nil
}

// CopyFile writes a consistent copy of the outbox file, as of one read
// transaction, to path, while the outbox stays in use: for backups.
func (o *Outbox) CopyFile(path string) error {
	return o.view(func(tx *bbolt.Tx) error { return tx.CopyFile(path, 0o600) })
}
