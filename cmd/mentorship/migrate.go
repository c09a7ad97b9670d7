package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/clock"
	"github.com/mentorship/mentorship/config"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/bolt"
	"github.com/mentorship/mentorship/internal/durable"
	"github.com/mentorship/mentorship/keyring"
	"github.com/mentorship/mentorship/sealed"
)

// The migration record is the last event of a migrated log, alone in its
// stream. It names the head of the log the events were copied from, so
// that the new hash chain commits to the old one: whoever trusts the old
// head (published with `verify --head`) finds it inside the new chain, and
// `verify` on the new log prints it.
const (
	migrationStream = "migration"
	migrationType   = "LogMigrated"
)

// migrationRecord is the migration record's data.
type migrationRecord struct {
	// FromHead is the old log's last position, and FromHeadHash the old
	// chain's hash there, as `verify --head` printed it on the old log.
	FromHead     eventstore.Position `json:"fromHead"`
	FromHeadHash string              `json:"fromHeadHash"`
	// Events counts the events copied: positions 1 to FromHead, each at
	// its old position.
	Events uint64 `json:"events"`
	// SealedEvents counts the copied events that carry personal texts,
	// which the copy holds sealed.
	SealedEvents uint64 `json:"sealedEvents"`
	// ErasedMembers counts the members erased in the old log whose keys
	// the copy erased, so that their texts cannot be opened.
	ErasedMembers int `json:"erasedMembers"`
}

// migrateCmd copies an embedded log written before members' personal texts
// were sealed into a new data directory with every personal text sealed
// under new member keys; see migrateDir.
func migrateCmd(ctx context.Context, args []string, env func(string) string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mentorship migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "the data directory written before sealing (its server stopped); it is only read")
	to := fs.String("to", "", "the new data directory to write; it must not exist, or be empty")
	cfg, err := config.Parse(fs, args, env, "master-key-url", "max-event-size")
	if err != nil {
		return err
	}
	if *from == "" || *to == "" {
		return errors.New("migrate: --from and --to are both required")
	}
	sum, err := migrateDir(ctx, cfg, *from, *to, stderr)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	fmt.Fprintf(stdout, "migrated %d events from %s (head %d:%x) into %s: %d of them carry personal texts, now sealed",
		sum.record.Events, sum.from, sum.record.FromHead, sum.oldHash, sum.to, sum.record.SealedEvents)
	if sum.record.ErasedMembers > 0 {
		fmt.Fprintf(stdout, "; the keys of %d members erased in the old log are erased", sum.record.ErasedMembers)
	}
	fmt.Fprintf(stdout, "\nthe old head is recorded at position %d (stream %q, type %s); publish the new head: %d:%x\n",
		sum.newHead, migrationStream, migrationType, sum.newHead, sum.newHash)
	fmt.Fprintf(stdout, "copied beside the log: %s\n", strings.Join(sum.copied, ", "))
	if sum.undelivered > 0 {
		fmt.Fprintf(stdout, "not carried over: %d emails the old outbox still had to deliver (start the old server until its outbox is empty, then migrate again, to send them)\n", sum.undelivered)
	}
	return nil
}

// migrateSummary is what migrateDir did.
type migrateSummary struct {
	from, to         string
	record           migrationRecord
	oldHash, newHash []byte
	newHead          eventstore.Position
	// copied names what was copied besides the log.
	copied []string
	// undelivered counts the emails the old outbox held unsent.
	undelivered int
}

// migrateDir writes the migrated copy of the data directory from into to.
//
// It refuses, before writing anything: the same directory twice (or to
// inside from), a to that is not empty, a from without an embedded store,
// one whose log fails verify or is shorter than its directory proves, and
// one whose log holds a sealed text already. Everything is written into a
// sibling of to and renamed into place once complete and synced, so that a
// failed migration leaves nothing behind.
//
// The copy keeps every event's ID, stream, revision, type, schema version,
// data (with its personal texts sealed) and metadata, at its old position,
// followed by the migration record. The rest of the directory: the
// accounts (auth.db, compacted so that no deleted record's bytes come
// along), the process manager's state, the record of accepted losses and
// the documents are copied; the outbox carries over only the position up
// to which it composed emails (its entries and its saved directory hold
// addresses, names and bodies in the clear); the snapshots and the
// development mailbox are left behind (the server rebuilds the read models
// from the log).
func migrateDir(ctx context.Context, cfg config.Config, from, to string, progressTo io.Writer) (sum migrateSummary, err error) {
	oldDir, newDir, err := migratePaths(from, to)
	if err != nil {
		return sum, err
	}
	sum.from, sum.to = oldDir, newDir
	if err := embeddedStoreExists(oldDir); err != nil {
		return sum, fmt.Errorf("--from is not an embedded store's data directory: %w", err)
	}
	old, err := bolt.Open(oldDir, bolt.Options{MustExist: true, MaxEventSize: cfg.MaxEventSize})
	if err != nil {
		return sum, fmt.Errorf("open %s (stop its server first): %w", oldDir, err)
	}
	defer old.Close()
	head, hash, err := checkOldLog(ctx, oldDir, old, progressTo)
	if err != nil {
		return sum, err
	}
	sum.record.FromHead, sum.record.FromHeadHash, sum.oldHash = head, hex.EncodeToString(hash), hash

	if err := os.MkdirAll(filepath.Dir(newDir), 0o700); err != nil {
		return sum, err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(newDir), "."+filepath.Base(newDir)+".migrating-")
	if err != nil {
		return sum, err
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(tmp)
		}
	}()
	if err := sealedCopy(ctx, cfg, old, tmp, &sum, progressTo); err != nil {
		return sum, err
	}
	if sum.copied, sum.undelivered, err = copyBeside(oldDir, tmp); err != nil {
		return sum, err
	}
	if err := durable.SyncTree(tmp); err != nil {
		return sum, fmt.Errorf("sync %s: %w", tmp, err)
	}
	_ = os.Remove(newDir) // an empty directory, if any
	if err := os.Rename(tmp, newDir); err != nil {
		return sum, err
	}
	return sum, durable.SyncDir(filepath.Dir(newDir))
}

// migratePaths makes from and to absolute and refuses the same directory
// twice, to inside from (every later backup of from would copy it), and a
// to that is not empty.
func migratePaths(from, to string) (string, string, error) {
	oldDir, err := filepath.Abs(from)
	if err != nil {
		return "", "", err
	}
	newDir, err := filepath.Abs(to)
	if err != nil {
		return "", "", err
	}
	// Compare where the paths lead, so that a link to from is from.
	realOld, realNew := resolvePath(oldDir), resolvePath(newDir)
	if realOld == realNew {
		return "", "", fmt.Errorf("--from and --to are the same directory (%s): the sealed copy goes into a new, empty directory and the old one stays as it is", oldDir)
	}
	if strings.HasPrefix(realNew, realOld+string(filepath.Separator)) {
		return "", "", fmt.Errorf("--to %s is inside --from %s: write the new data directory elsewhere", newDir, oldDir)
	}
	entries, err := os.ReadDir(newDir)
	switch {
	case err == nil && len(entries) > 0:
		return "", "", fmt.Errorf("--to %s is not empty: it must not exist, or be an empty directory", newDir)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return "", "", fmt.Errorf("--to %s: %w", newDir, err)
	}
	return oldDir, newDir, nil
}

// resolvePath follows the links of path, or of its nearest existing
// parent when path does not exist yet.
func resolvePath(path string) string {
	if p, err := filepath.EvalSymlinks(path); err == nil {
		return p
	}
	parent := filepath.Dir(path)
	if parent == path {
		return path
	}
	return filepath.Join(resolvePath(parent), filepath.Base(path))
}

// checkOldLog checks the old log before anything is written: it holds
// events, it passes verify (so that the head the copy records stands for
// an intact chain) and it holds no less than its data directory proves.
// It returns the head and the chain's hash there.
func checkOldLog(ctx context.Context, dir string, old *bolt.Store, progressTo io.Writer) (eventstore.Position, []byte, error) {
	head, err := old.Head(ctx)
	if err != nil {
		return 0, nil, err
	}
	if head == 0 {
		return 0, nil, fmt.Errorf("the log in %s holds no events: there is nothing to migrate, start the server on an empty directory instead", dir)
	}
	bar := newProgress(progressTo, "verify", uint64(head))
	rep, err := old.Verify(ctx, func(done, _ eventstore.Position) { bar.set(uint64(done)) })
	bar.done()
	if err != nil {
		return 0, nil, err
	}
	if !rep.OK() {
		return 0, nil, fmt.Errorf("the log in %s fails verify at position %d (%s): restore it from a backup before migrating", dir, rep.Broken, rep.Problem)
	}
	problems, err := checkProofs(ctx, dir, old)
	if err != nil {
		return 0, nil, err
	}
	if len(problems) > 0 {
		return 0, nil, shorterLogError(dir, problems)
	}
	return rep.Head, rep.HeadHash, nil
}

// errAlreadySealed refuses a log that holds sealed texts: it was written
// by a version that seals, and its texts are sealed under keys of its own.
var errAlreadySealed = errors.New("the log is sealed already")

// sealedMarker is how a sealed text starts inside an event's JSON.
func sealedMarker() []byte {
	m, _ := json.Marshal(keyring.Prefix)
	return m[1 : len(m)-1]
}

// recordedClock is the new store's clock during the copy: it reads the
// recorded-at of the event being copied, so that each copy keeps the time
// its original was first stored at.
type recordedClock struct {
	mu sync.Mutex
	at time.Time
}

func (c *recordedClock) set(t time.Time) {
	c.mu.Lock()
	c.at = t
	c.mu.Unlock()
}

func (c *recordedClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.at
}

// sealedCopy appends every event of old, in order and one at a time, to a
// new store in dir through the sealing wrapper, under member keys made in
// dir (and a development master key there when none is configured), then
// erases the keys of the members the old log erased and appends the
// migration record.
//
// The copy is written without fsync: it is a new directory nobody uses
// until migrateDir has synced every file and renamed it into place, and
// syncing each of a million appends would take hours.
func sealedCopy(ctx context.Context, cfg config.Config, old *bolt.Store, dir string, sum *migrateSummary, progressTo io.Writer) error {
	clk := &recordedClock{}
	// Sealing makes a text about a third longer; the events were within
	// the limit when first stored, so the copy allows them the room.
	limit := 4 * max(cfg.MaxEventSize, eventstore.DefaultMaxEventSize)
	store, err := bolt.Open(dir, bolt.Options{NoSync: true, Now: clk.now, MaxEventSize: limit})
	if err != nil {
		return err
	}
	closed := false
	defer func() {
		if !closed {
			_ = store.Close()
		}
	}()
	keysCfg := cfg
	keysCfg.DataDir = dir
	keys, closeKeys, err := openKeys(ctx, keysCfg, store, true)
	if err != nil {
		return err
	}
	defer closeKeys()
	sealer := sealed.Wrap(store, sealed.Keyring(keys), keyring.Prefix)

	head := sum.record.FromHead
	marker := sealedMarker()
	known := map[string]bool{}
	for _, t := range domain.EventTypes() {
		known[t] = true
	}
	erasedType := domain.MemberErased{}.EventType()
	var erased []uuid.UUID
	bar := newProgress(progressTo, "migrate", uint64(head))
	defer bar.done()
	for from := eventstore.Start; from < head; {
		page, err := old.ReadAll(ctx, from, sealPage)
		if err != nil {
			return err
		}
		if len(page) == 0 {
			return fmt.Errorf("the old log ends at position %d, before its head %d", from, head)
		}
		if last := len(page) - 1; page[last].Position > head {
			page = page[:sort.Search(len(page), func(i int) bool { return page[i].Position > head })]
		}
		for _, ev := range page {
			if err := checkCopyable(ev, marker, known); err != nil {
				return err
			}
		}
		data, err := sealAll(ctx, sealer, page)
		if err != nil {
			return err
		}
		for i, ev := range page {
			clk.set(ev.Metadata.RecordedAt)
			expected := eventstore.NoStream()
			if ev.Revision > 0 {
				expected = eventstore.Exact(ev.Revision - 1)
			}
			res, err := store.Append(ctx, ev.Stream, expected, eventstore.EventData{
				ID: ev.ID, Type: ev.Type, SchemaVersion: ev.SchemaVersion, Data: data[i], Metadata: ev.Metadata,
			})
			if err != nil {
				return fmt.Errorf("copy event %s (%s) at position %d: %w", ev.ID, ev.Type, ev.Position, err)
			}
			if res.FirstPosition != ev.Position || res.FirstRevision != ev.Revision {
				return fmt.Errorf("event %s landed at position %d, revision %d, not at position %d, revision %d", ev.ID, res.FirstPosition, res.FirstRevision, ev.Position, ev.Revision)
			}
			sum.record.Events++
			if domain.IsPersonal(ev.Type) {
				sum.record.SealedEvents++
			}
			if ev.Type == erasedType {
				e, err := domain.Decode(ev.Type, ev.SchemaVersion, ev.Data)
				if err != nil {
					return fmt.Errorf("event %s at position %d: %w", ev.Type, ev.Position, err)
				}
				erased = append(erased, e.(domain.MemberErased).MemberID)
			}
			from = ev.Position
		}
		bar.set(uint64(from))
	}
	// The old log kept erased members' texts in the clear; the copy
	// seals them like the others and then erases their keys, as the
	// server does when it erases a member.
	for _, id := range erased {
		if err := keys.Erase(ctx, id); err != nil {
			return err
		}
	}
	sum.record.ErasedMembers = len(erased)

	data, err := json.Marshal(sum.record)
	if err != nil {
		return err
	}
	now := clock.System{}.Now()
	clk.set(now)
	id := uuid.New()
	if _, err := store.Append(ctx, migrationStream, eventstore.NoStream(), eventstore.EventData{
		ID: id, Type: migrationType, SchemaVersion: 1, Data: data,
		Metadata: eventstore.Metadata{ActorID: domain.SystemActorID, ActorRole: string(domain.RoleSystem), CorrelationID: id.String(), OccurredAt: now},
	}); err != nil {
		return fmt.Errorf("append the migration record: %w", err)
	}
	sum.newHead, sum.newHash = store.HeadHash()
	closed = true
	return store.Close()
}

// sealPage is how many events the copy reads and seals at once.
const sealPage = 1024

// sealWorkers is how many events of a page are sealed at once. Sealing
// a member's first text makes their key, and the key store syncs each new
// key before it returns; concurrent ones share the sync.
const sealWorkers = 16

// sealAll returns the data of each event of page with its personal texts
// sealed (the data as it is for the others), sealing on sealWorkers
// goroutines.
func sealAll(ctx context.Context, sealer *sealed.Store, page []eventstore.RecordedEvent) ([]json.RawMessage, error) {
	out := make([]json.RawMessage, len(page))
	errs := make([]error, len(page))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(sealWorkers, len(page)) {
		wg.Go(func() {
			for i := range next {
				ev := page[i]
				if !domain.IsPersonal(ev.Type) {
					out[i] = ev.Data
					continue
				}
				if out[i], errs[i] = sealer.SealData(ctx, ev.Type, ev.SchemaVersion, ev.Data); errs[i] != nil {
					errs[i] = fmt.Errorf("seal event %s at position %d: %w", ev.ID, ev.Position, errs[i])
				}
			}
		})
	}
	for i := range page {
		next <- i
	}
	close(next)
	wg.Wait()
	return out, errors.Join(errs...)
}

// checkCopyable refuses an event the copy cannot seal: one holding a
// sealed text already, one of a type this version does not know (it may
// hold personal texts nobody marked), and a personal one of another schema
// version (the sealing wrapper would leave it in the clear).
func checkCopyable(ev eventstore.RecordedEvent, marker []byte, known map[string]bool) error {
	switch {
	case bytes.Contains(ev.Data, marker):
		return fmt.Errorf("%w: event %s at position %d holds a sealed text; migrate copies logs written before sealing (a server of this version that ran on the old directory sealed what it appended: restore the directory from a backup taken before that)", errAlreadySealed, ev.Type, ev.Position)
	case !known[ev.Type]:
		return fmt.Errorf("event type %q at position %d is not one this version knows, so its personal texts cannot be found: migrate with the version that wrote it", ev.Type, ev.Position)
	case domain.IsPersonal(ev.Type) && ev.SchemaVersion != domain.SchemaVersion:
		return fmt.Errorf("event %s at position %d has schema version %d, which this version does not seal", ev.Type, ev.Position, ev.SchemaVersion)
	}
	return nil
}

// migrationOf returns the migration record of a migrated log and its
// position, or false when the log was not migrated.
func migrationOf(ctx context.Context, store eventstore.Store) (migrationRecord, eventstore.Position, bool, error) {
	recs, err := store.ReadStream(ctx, migrationStream, eventstore.ReadStreamOptions{Limit: 1})
	if errors.Is(err, eventstore.ErrStreamNotFound) {
		return migrationRecord{}, 0, false, nil
	}
	if err != nil {
		return migrationRecord{}, 0, false, err
	}
	if len(recs) == 0 || recs[0].Type != migrationType {
		return migrationRecord{}, 0, false, nil
	}
	var rec migrationRecord
	if err := json.Unmarshal(recs[0].Data, &rec); err != nil {
		return migrationRecord{}, 0, false, fmt.Errorf("the migration record at position %d: %w", recs[0].Position, err)
	}
	return rec, recs[0].Position, true, nil
}
