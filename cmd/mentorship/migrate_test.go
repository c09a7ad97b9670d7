package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/config"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/bolt"
	"github.com/mentorship/mentorship/follow"
	"github.com/mentorship/mentorship/graph/model"
	"github.com/mentorship/mentorship/keyring"
	"github.com/mentorship/mentorship/mail"
	"github.com/mentorship/mentorship/projections"
)

// A data directory written before sealing is copied into a new one where
// no personal text of any event is left in the clear, the chain verifies
// and names the old head, every event keeps its place and envelope, the
// read models come out the same, and a server on the copy signs the same
// accounts in and sends no email the old server had composed.
func TestMigrateSealsAnOldDataDirectory(t *testing.T) {
	old := writeOldDataDir(t)
	texts := personalTexts(t, old.dir)
	if inOld := filesHolding(t, old.dir, texts); len(texts) < 20 || len(inOld) != len(texts) {
		t.Fatalf("the old directory holds %d of its %d personal texts in the clear; the search below would prove nothing", len(inOld), len(texts))
	}
	newDir := filepath.Join(t.TempDir(), "sealed")
	out, progress, err := runCommand("migrate", "--from", old.dir, "--to", newDir)
	if err != nil {
		t.Fatalf("migrate: %v\n%s", err, progress)
	}
	for _, want := range []string{
		fmt.Sprintf("migrated %d events from %s (head %d:%x)", old.head, old.dir, old.head, old.headHash),
		fmt.Sprintf("the old head is recorded at position %d", old.head+1),
		fmt.Sprintf("not carried over: %d emails", old.undelivered),
		"the keys of 1 members erased in the old log are erased",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("migrate said %q, want %q in it", out, want)
		}
	}
	verifyLines, rest, _ := strings.Cut(progress, "\n")
	checkProgressLines(t, verifyLines, "verify")
	checkProgressLines(t, rest, "migrate")

	for text, files := range filesHolding(t, newDir, texts) {
		if slices.Contains(old.logins, text) && slices.Equal(files, []string{"auth.db"}) {
			continue // the accounts sign in by their login emails
		}
		t.Errorf("%q is in the clear in %v", text, files)
	}
	for _, name := range []string{"keys.db", keyring.MasterKeyFile, "auth.db", "process.db", "outbox.db"} {
		if _, err := os.Stat(filepath.Join(newDir, name)); err != nil {
			t.Errorf("the migrated directory lacks %s: %v", name, err)
		}
	}
	if !treeHolds(t, filepath.Join(newDir, blobsDirName), old.document) {
		t.Error("the document's bytes were not copied")
	}
	for _, gone := range []string{mail.DirName, snapshotDirName} {
		if _, err := os.Stat(filepath.Join(newDir, gone)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s was copied: %v", gone, err)
		}
	}

	vout, _, err := runCommand("verify", "--data-dir", newDir)
	if err != nil {
		t.Fatalf("verify on the migrated directory: %v\n%s", err, vout)
	}
	if want := fmt.Sprintf("migrated at position %d from a log whose head was %d:%x", old.head+1, old.head, old.headHash); !strings.HasPrefix(vout, fmt.Sprintf("OK: %d events", old.head+1)) || !strings.Contains(vout, want) {
		t.Errorf("verify said %q, want OK and %q", vout, want)
	}

	oldLog, closeOld := openOldLog(t, old.dir)
	newLog, closeNew := openSealedLog(t, newDir)
	compareMigratedLog(t, old, oldLog, newLog)
	compareReadModels(t, old, oldLog, newLog)
	closeOld()
	closeNew()
	serveMigrated(t, old, newDir)
}

// treeHolds reports whether a file under dir holds exactly b.
func treeHolds(t *testing.T, dir string, b []byte) bool {
	t.Helper()
	found := false
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			got, _ := os.ReadFile(path)
			found = found || bytes.Equal(got, b)
		}
		return nil
	})
	return found
}

// openSealedLog opens a migrated log through its keys, and returns the
// function that closes both.
func openSealedLog(t *testing.T, dir string) (eventstore.Store, func()) {
	t.Helper()
	raw, closeRaw := openOldLog(t, dir)
	cfg, err := config.Parse(flag.NewFlagSet("new", flag.ContinueOnError), []string{"--data-dir", dir}, noEnv, "data-dir")
	if err != nil {
		t.Fatal(err)
	}
	keys, closeKeys, err := openKeys(context.Background(), cfg, raw, false)
	if err != nil {
		t.Fatal(err)
	}
	return sealStore(raw, keys), func() {
		if err := closeKeys(); err != nil {
			t.Error(err)
		}
		closeRaw()
	}
}

// openOldLog opens the embedded log in dir as it is stored, and returns
// the function that closes it.
func openOldLog(t *testing.T, dir string) (eventstore.Store, func()) {
	t.Helper()
	s, err := bolt.Open(dir, bolt.Options{MustExist: true})
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	closeIt := func() { once.Do(func() { _ = s.Close() }) }
	t.Cleanup(closeIt)
	return s, closeIt
}

// compareMigratedLog reads both logs event by event: the same ID, stream,
// revision, position, type, schema version and metadata (recorded-at
// too), and the same data once opened, except that the texts of the member
// erased in the old log no longer open. The migration record follows.
func compareMigratedLog(t *testing.T, old oldDataDir, oldLog, newLog eventstore.Store) {
	t.Helper()
	ctx := context.Background()
	oldRecs, err := oldLog.ReadAll(ctx, eventstore.Start, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	newRecs, err := newLog.ReadAll(ctx, eventstore.Start, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if len(newRecs) != len(oldRecs)+1 {
		t.Fatalf("the migrated log holds %d events, want the old %d and the migration record", len(newRecs), len(oldRecs))
	}
	blanked := 0
	for i, o := range oldRecs {
		n := newRecs[i]
		if n.ID != o.ID || n.Stream != o.Stream || n.Revision != o.Revision || n.Position != o.Position || n.Type != o.Type || n.SchemaVersion != o.SchemaVersion {
			t.Fatalf("position %d: %s %s/%d %s v%d, want %s %s/%d %s v%d", o.Position, n.ID, n.Stream, n.Revision, n.Type, n.SchemaVersion, o.ID, o.Stream, o.Revision, o.Type, o.SchemaVersion)
		}
		om, nm := o.Metadata, n.Metadata
		if nm.ActorID != om.ActorID || nm.ActorRole != om.ActorRole || nm.CorrelationID != om.CorrelationID || nm.CausationID != om.CausationID ||
			!nm.OccurredAt.Equal(om.OccurredAt) || !nm.RecordedAt.Equal(om.RecordedAt) {
			t.Fatalf("position %d: metadata %+v, want %+v", o.Position, nm, om)
		}
		want, err := domain.Decode(o.Type, o.SchemaVersion, o.Data)
		if err != nil {
			t.Fatal(err)
		}
		got, err := domain.Decode(n.Type, n.SchemaVersion, n.Data)
		if err != nil {
			t.Fatalf("position %d does not decode once opened: %v", o.Position, err)
		}
		if p, ok := want.(domain.Personal); ok {
			want = p.MapPersonal(func(owner uuid.UUID, s string) string {
				if owner == old.erin && s != "" {
					blanked++
					return ""
				}
				return s
			})
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("position %d (%s) reads\n%+v\nwant\n%+v", o.Position, o.Type, got, want)
		}
	}
	if blanked == 0 {
		t.Error("no text of the erased member was found to be unreadable")
	}
	rec := newRecs[len(newRecs)-1]
	if rec.Stream != migrationStream || rec.Type != migrationType || rec.Position != old.head+1 {
		t.Fatalf("the last event is %s in %q at %d, want the migration record", rec.Type, rec.Stream, rec.Position)
	}
}

// compareReadModels rebuilds the read models from the old log as stored
// and from the migrated one through its keys, and asks both the same
// questions.
func compareReadModels(t *testing.T, old oldDataDir, oldLog, newLog eventstore.Store) {
	t.Helper()
	ctx := context.Background()
	program := domain.DefaultProgram()
	type models struct {
		store   eventstore.Store
		members *projections.Members
		matches *projections.Matches
		reports *projections.Reports
	}
	build := func(s eventstore.Store) models {
		m := models{s, projections.NewMembers(), projections.NewMatches(), projections.NewReports(program.Location)}
		if _, err := follow.Rebuild(ctx, s, old.head, nil, m.members, m.matches, m.reports); err != nil {
			t.Fatal(err)
		}
		return m
	}
	was, is := build(oldLog), build(newLog)
	same := func(what string, a, b any) {
		t.Helper()
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s differs after the migration:\n%+v\nwant\n%+v", what, b, a)
		}
	}
	answer := func(v any, err error) any {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	all := func(m models) []*projections.MemberView {
		l, err := m.members.Scan(func(*projections.MemberView) bool { return true })
		if err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(l, func(a, b *projections.MemberView) int { return strings.Compare(a.ID.String(), b.ID.String()) })
		return l
	}
	members := all(was)
	if len(members) != 7 {
		t.Fatalf("the old read model holds %d members, want 7", len(members))
	}
	same("the members", members, all(is))
	for _, m := range members {
		same("the matches of "+m.ID.String(), answer(was.matches.MatchesOf(m.ID, projections.AllMatches)), answer(is.matches.MatchesOf(m.ID, projections.AllMatches)))
	}
	for _, id := range old.matches {
		a, err := projections.MatchHistory(ctx, was.store, id)
		if err != nil {
			t.Fatal(err)
		}
		b, err := projections.MatchHistory(ctx, is.store, id)
		if err != nil {
			t.Fatal(err)
		}
		same("the history of match "+id.String(), a, b)
		same("the sessions", answer(was.matches.SessionsOf(old.ana, id)), answer(is.matches.SessionsOf(old.ana, id)))
	}
	now := time.Now()
	same("the dashboard", answer(was.matches.Dashboard(program, now)), answer(is.matches.Dashboard(program, now)))
	q := projections.ReportQuery{From: projections.MonthOf(now.AddDate(0, -2, 0), program.Location), To: projections.MonthOf(now, program.Location)}
	ra, err := was.reports.Report(q)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := is.reports.Report(q)
	if err != nil {
		t.Fatal(err)
	}
	same("the report", ra, rb)
	sa, err := was.members.SearchMentors(projections.SearchQuery{Words: "hydrogeology"})
	if err != nil {
		t.Fatal(err)
	}
	sb, err := is.members.SearchMentors(projections.SearchQuery{Words: "hydrogeology"})
	if err != nil {
		t.Fatal(err)
	}
	if len(sa.Hits) == 0 {
		t.Fatal("the search found nobody in the old read model")
	}
	same("the search", sa, sb)
}

// serveMigrated starts the server on the migrated directory: the old
// accounts sign in and read their texts, and the only email it composes
// is the one for the request the old outbox never saw.
func serveMigrated(t *testing.T, old oldDataDir, newDir string) {
	t.Helper()
	ts := startServer(t, newDir)
	defer ts.Stop(t)
	ana := &client{t: t, url: ts.URL}
	ana.login("Mentee", "anaquilla.login@old.example")
	if d := ana.gql(`{ viewer { member { name } } }`, nil); dig(d, "viewer", "member", "name") != "Anaquilla Profilename" {
		t.Errorf("Ana reads her profile as %v", d)
	}
	staff := &client{t: t, url: ts.URL}
	staff.login("Staff", "samwise.login@old.example")
	emails := func(match uuid.UUID) []any {
		d := staff.gql(`query($id: ID!) { match(id: $id) { emails { kind to status } } }`, map[string]any{"id": model.GlobalID("Match", match)})
		l, _ := dig(d, "match", "emails").([]any)
		return l
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		l := emails(old.matches[2])
		if len(l) == 1 && dig(l[0], "to") == "feilong.registered@old.example" && dig(l[0], "status") == "SENT" {
			break
		}
		if len(l) > 1 || time.Now().After(deadline) {
			t.Fatalf("the request the old outbox never saw has emails %v, want one sent to Fei", l)
		}
		runtime.Gosched()
	}
	for _, m := range old.matches[:2] {
		if l := emails(m); len(l) > 0 {
			t.Errorf("the server composed again emails the old outbox had composed: %v", l)
		}
	}
}

// Each refusal names its reason and writes nothing: not the new directory,
// nor a half-written sibling of it.
func TestMigrateRefuses(t *testing.T) {
	plain := storeHistory(t)
	sealedDir := t.TempDir()
	if _, _, err := runCommand("seed", "--data-dir", sealedDir, "--mentors", "3", "--mentees", "3", "--events", "40"); err != nil {
		t.Fatal(err)
	}
	busy := t.TempDir()
	if err := os.WriteFile(filepath.Join(busy, "keep.txt"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	notStore := t.TempDir()
	if err := os.WriteFile(filepath.Join(notStore, "notes.txt"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(plain.dir, link); err != nil {
		t.Fatal(err)
	}
	fresh := func() string { return filepath.Join(t.TempDir(), "new") }
	for _, tc := range []struct {
		name, from, to, want string
	}{
		{"no --to", plain.dir, "", "--from and --to are both required"},
		{"the same directory", plain.dir, plain.dir, "the same directory"},
		{"a link to the same directory", plain.dir, link, "the same directory"},
		{"inside the old directory", plain.dir, filepath.Join(plain.dir, "sealed"), "is inside --from"},
		{"a new directory that is not empty", plain.dir, busy, "is not empty"},
		{"no store", notStore, fresh(), "not an embedded store"},
		{"a missing directory", filepath.Join(notStore, "missing"), fresh(), "not an embedded store"},
		{"a sealed log", sealedDir, fresh(), "the log is sealed already"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"migrate", "--from", tc.from}
			if tc.to != "" {
				args = append(args, "--to", tc.to)
			}
			var before []string
			if tc.to != "" {
				before = listTree(t, filepath.Dir(tc.to))
			}
			_, _, err := runCommand(args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("migrate: %v, want an error saying %q", err, tc.want)
			}
			if tc.to != "" {
				if after := listTree(t, filepath.Dir(tc.to)); !slices.Equal(before, after) {
					t.Errorf("a refused migrate wrote %v, the folder held %v", after, before)
				}
			}
		})
	}
	// The refusals left the old log as it was: it still migrates.
	if _, _, err := runCommand("migrate", "--from", plain.dir, "--to", fresh()); err != nil {
		t.Fatalf("migrate after the refusals: %v", err)
	}
}

// listTree lists the paths under dir.
func listTree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, _ fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		out = append(out, path)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
