package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	bbolt "go.etcd.io/bbolt"

	"github.com/mentorship/mentorship/auth"
	authbolt "github.com/mentorship/mentorship/auth/bolt"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/bolt"
	"github.com/mentorship/mentorship/internal/statecodec"
	"github.com/mentorship/mentorship/notify"
	"github.com/mentorship/mentorship/process"
)

// The embedded log is one file, and losing its end, or all of it, must not
// look like a younger program. The rest of the data directory remembers
// how far the log went: the read models' snapshots and the notifier's and
// process manager's saved states each name the last event they reflect,
// and every active account in auth.db was activated only after its
// member's registration reached the log. (The store's own head record,
// events.head, is checked by the store.) A log that lacks what they prove
// is refused; the operator restores the data directory from a backup, or
// accepts the loss with --accept-shorter-log, which logs what it accepted
// and rewrites these records so that the next start is clean.

// acceptedFileName is the data directory's record of the losses an
// operator accepted: one line each, kept so that the accounts whose
// members the log lost no longer count as proof at the next start.
const acceptedFileName = "accepted-losses.log"

// snapshotDirName is where the read models keep their snapshots.
const snapshotDirName = "snapshots"

// proofProblem is one thing the data directory proves that the log lacks.
type proofProblem struct {
	// file is the record that proves it, relative to the data directory.
	file string
	// what says what the log lacks.
	what string
	// member is the account's member whose registration is missing, for
	// an account in auth.db.
	member uuid.UUID
}

func (p proofProblem) String() string { return p.file + ": " + p.what }

// shorterLogError lists what the data directory proves the log lacks.
func shorterLogError(dir string, problems []proofProblem) error {
	return fmt.Errorf("%w: the log in %s lacks what the rest of the directory proves it held:\n  %s", eventstore.ErrShorterLog, dir, strings.Join(summarize(problems), "\n  "))
}

// maxListed is how many problems of one file a message lists; a program
// that lost its log may have thousands of accounts.
const maxListed = 5

// summarize describes problems, listing at most maxListed of each file.
func summarize(problems []proofProblem) []string {
	var out []string
	per := map[string]int{}
	for _, p := range problems {
		per[p.file]++
		if per[p.file] <= maxListed {
			out = append(out, p.String())
		}
	}
	for _, p := range problems {
		if n := per[p.file]; n > maxListed {
			out = append(out, fmt.Sprintf("%s: and %d more like these", p.file, n-maxListed))
			per[p.file] = 0
		}
	}
	return out
}

// stateFiles lists the files in dir that only a program with a log leaves:
// the head record, the journal, accounts, snapshots and saved states.
func stateFiles(dir string) ([]string, error) {
	var found []string
	for _, name := range []string{bolt.HeadFileName, authbolt.FileName, notify.FileName, process.FileName} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			found = append(found, name)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	for _, pattern := range []string{"journal-*.log", filepath.Join(snapshotDirName, "*.snapshot")} {
		m, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			return nil, err
		}
		for _, p := range m {
			rel, _ := filepath.Rel(dir, p)
			found = append(found, rel)
		}
	}
	return found, nil
}

// checkMissingLog refuses a data directory whose events.db is missing or
// empty while other state shows that a program ran there. A directory
// with nothing in it is a new program and passes.
func checkMissingLog(dir string) error {
	fi, err := os.Stat(filepath.Join(dir, bolt.FileName))
	switch {
	case err == nil && fi.Size() > 0:
		return nil
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return err
	}
	found, err := stateFiles(dir)
	if err != nil || len(found) == 0 {
		return err
	}
	return fmt.Errorf("%w: %s is missing or empty in %s, but the directory holds the state of a program that ran: %s", eventstore.ErrShorterLog, bolt.FileName, dir, strings.Join(found, ", "))
}

// claim is a position, and where known the event there, that a record in
// the data directory reflects.
type claim struct {
	file string
	cp   statecodec.Checkpoint // ID is zero when the record names only a position
}

// checkProofs compares the log with every record in dir that proves how
// far it went, and returns what the log lacks.
func checkProofs(ctx context.Context, dir string, store eventstore.Store) ([]proofProblem, error) {
	head, err := store.Head(ctx)
	if err != nil {
		return nil, err
	}
	claims, err := snapshotClaims(dir)
	if err != nil {
		return nil, err
	}
	for _, w := range workerFiles {
		claims = append(claims, savedStateClaims(dir, w)...)
	}
	var problems []proofProblem
	for _, c := range claims {
		if p, ok, err := checkClaim(ctx, store, head, c); err != nil {
			return nil, err
		} else if !ok {
			problems = append(problems, p)
		}
	}
	accounts, err := accountProblems(ctx, dir, store)
	if err != nil {
		return nil, err
	}
	return append(problems, accounts...), nil
}

func checkClaim(ctx context.Context, store eventstore.Store, head eventstore.Position, c claim) (proofProblem, bool, error) {
	if c.cp.Pos == eventstore.Start {
		return proofProblem{}, true, nil
	}
	if c.cp.Pos > head {
		return proofProblem{file: c.file, what: fmt.Sprintf("reflects position %d, but the log ends at %d", c.cp.Pos, head)}, false, nil
	}
	if c.cp.ID == uuid.Nil {
		return proofProblem{}, true, nil
	}
	recs, err := store.ReadAll(ctx, c.cp.Pos-1, 1)
	if err != nil {
		return proofProblem{}, false, fmt.Errorf("read position %d, which %s reflects: %w", c.cp.Pos, c.file, err)
	}
	if len(recs) == 0 || recs[0].Position != c.cp.Pos || recs[0].ID != c.cp.ID {
		return proofProblem{file: c.file, what: fmt.Sprintf("reflects event %s at position %d, which the log does not hold there: the log was rewritten or replaced", c.cp.ID, c.cp.Pos)}, false, nil
	}
	return proofProblem{}, true, nil
}

// snapshotClaims reads the checkpoint at the head of every snapshot:
//
//	"MNTRSNAP" | format (uint32) | name | state version (uint32) |
//	position (uint64) | ID of the event at position (16 bytes) | ...
//
// A snapshot too damaged to read proves nothing; the read models reject it
// and rebuild from the log.
func snapshotClaims(dir string) ([]claim, error) {
	paths, err := filepath.Glob(filepath.Join(dir, snapshotDirName, "*.snapshot"))
	if err != nil {
		return nil, err
	}
	var claims []claim
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		head := make([]byte, 512)
		n, _ := io.ReadFull(f, head)
		_ = f.Close()
		head = head[:n]
		if len(head) < 12 || string(head[:8]) != "MNTRSNAP" {
			continue
		}
		d := statecodec.Decoder{B: head[12:]}
		d.Take(int(d.Uvarint())) // the projection's name
		d.Take(4)                // its state version
		pos, id := d.Take(8), d.Take(16)
		if d.Err != nil {
			continue
		}
		rel, _ := filepath.Rel(dir, p)
		claims = append(claims, claim{file: rel, cp: statecodec.Checkpoint{Pos: eventstore.Position(binary.BigEndian.Uint64(pos)), ID: uuid.UUID(id)}})
	}
	return claims, nil
}

// workerFile is where a worker that follows the log keeps, in the meta
// bucket of its bbolt file, its saved state (magic, format, then the
// checkpoint) and a position beside it.
type workerFile struct {
	name, stateKey, positionKey, position string
}

var workerFiles = []workerFile{
	{notify.FileName, "composer", "position", "composed position"},
	{process.FileName, "state", "settled", "settled position"},
}

// savedStateClaims reads a worker's saved state and position. A file that
// is missing, in use or unreadable proves nothing here; its owner reports
// it.
func savedStateClaims(dir string, w workerFile) []claim {
	var claims []claim
	_ = readBolt(filepath.Join(dir, w.name), func(tx *bbolt.Tx) error {
		meta := tx.Bucket([]byte("meta"))
		if meta == nil {
			return nil
		}
		if v := meta.Get([]byte(w.stateKey)); len(v) > 8 {
			d := statecodec.Decoder{B: v[8:]}
			d.Uvarint() // format
			if cp := d.Checkpoint(); d.Err == nil {
				claims = append(claims, claim{file: w.name + " (saved state)", cp: cp})
			}
		}
		if v := meta.Get([]byte(w.positionKey)); len(v) == 8 {
			claims = append(claims, claim{file: w.name + " (" + w.position + ")", cp: statecodec.Checkpoint{Pos: eventstore.Position(binary.BigEndian.Uint64(v))}})
		}
		return nil
	})
	return claims
}

// readBolt runs fn in a read transaction on the bbolt file at path, if it
// exists, with faults and panics from a damaged file turned into errors.
func readBolt(path string, fn func(*bbolt.Tx) error) (err error) {
	if _, err := os.Stat(path); err != nil {
		return err
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s is damaged: %v", filepath.Base(path), r)
		}
	}()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return err
	}
	defer db.Close()
	return db.View(fn)
}

// accountProblems lists the active accounts in auth.db whose member has no
// registration in the log, leaving out those an operator accepted before.
func accountProblems(ctx context.Context, dir string, store eventstore.Store) ([]proofProblem, error) {
	accepted, err := acceptedMembers(dir)
	if err != nil {
		return nil, err
	}
	var members []uuid.UUID
	_ = readBolt(filepath.Join(dir, authbolt.FileName), func(tx *bbolt.Tx) error {
		creds := tx.Bucket([]byte("credentials"))
		if creds == nil {
			return nil
		}
		return creds.ForEach(func(_, v []byte) error {
			var c auth.Credential
			if json.Unmarshal(v, &c) == nil && c.Status == auth.StatusActive && !accepted[c.MemberID] {
				members = append(members, c.MemberID)
			}
			return nil
		})
	})
	var problems []proofProblem
	for _, id := range members {
		_, err := store.ReadStream(ctx, domain.MemberStream(id), eventstore.ReadStreamOptions{Limit: 1})
		switch {
		case errors.Is(err, eventstore.ErrStreamNotFound):
			problems = append(problems, proofProblem{file: authbolt.FileName, member: id,
				what: fmt.Sprintf("holds the active account of member %s, whose registration the log lacks", id)})
		case errors.Is(err, eventstore.ErrCorrupt):
			// The stream index still lists events the log lost.
			problems = append(problems, proofProblem{file: authbolt.FileName, member: id,
				what: fmt.Sprintf("holds the active account of member %s, whose registration cannot be read: %v", id, err)})
		case err != nil:
			return nil, fmt.Errorf("read the registration of member %s, whose account %s holds: %w", id, authbolt.FileName, err)
		}
	}
	return problems, nil
}

// acceptedMembers reads the members whose missing registrations an
// operator accepted.
func acceptedMembers(dir string) (map[uuid.UUID]bool, error) {
	f, err := os.Open(filepath.Join(dir, acceptedFileName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[uuid.UUID]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if _, rest, ok := strings.Cut(sc.Text(), " member "); ok {
			id, _, _ := strings.Cut(rest, ":")
			if id, err := uuid.Parse(id); err == nil {
				out[id] = true
			}
		}
	}
	return out, sc.Err()
}

// settleAccepted rewrites the records that prove more than the accepted
// log holds, so that the next start is clean: snapshots past the log go
// (the read models rebuild), saved states past it are dropped and their
// positions lowered to the log's end (the workers learn from the log
// again), and the accounts whose members the log lacks are written to the
// accepted-losses record, together with what else was accepted.
func settleAccepted(dir string, head eventstore.Position, accepted []string, problems []proofProblem) error {
	for _, p := range problems {
		if strings.HasPrefix(p.file, snapshotDirName+string(filepath.Separator)) {
			if err := os.Remove(filepath.Join(dir, p.file)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("remove %s: %w", p.file, err)
			}
		}
	}
	for _, w := range workerFiles {
		if !slices.ContainsFunc(problems, func(p proofProblem) bool { return strings.HasPrefix(p.file, w.name+" ") }) {
			continue
		}
		if err := lowerSavedState(filepath.Join(dir, w.name), w.stateKey, w.positionKey, head); err != nil {
			return fmt.Errorf("rewrite %s: %w", w.name, err)
		}
	}
	out, err := os.OpenFile(filepath.Join(dir, acceptedFileName), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("record the accepted losses: %w", err)
	}
	now := time.Now().UTC().Format(time.RFC3339)
	for _, a := range accepted {
		fmt.Fprintf(out, "%s accepted: %s\n", now, a)
	}
	for _, p := range problems {
		if p.member != uuid.Nil {
			fmt.Fprintf(out, "%s member %s: account kept, registration lost from the log\n", now, p.member)
		}
	}
	err = out.Sync()
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("record the accepted losses: %w", err)
	}
	return nil
}

// lowerSavedState drops a worker's saved state and lowers the position
// kept beside it to head.
func lowerSavedState(path, stateKey, positionKey string, head eventstore.Position) error {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		return err
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		meta := tx.Bucket([]byte("meta"))
		if meta == nil {
			return nil
		}
		if err := meta.Delete([]byte(stateKey)); err != nil {
			return err
		}
		if v := meta.Get([]byte(positionKey)); len(v) == 8 && eventstore.Position(binary.BigEndian.Uint64(v)) > head {
			return meta.Put([]byte(positionKey), binary.BigEndian.AppendUint64(nil, uint64(head)))
		}
		return nil
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	return err
}
