package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	bbolt "go.etcd.io/bbolt"

	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/bolt"
	"github.com/mentorship/mentorship/eventstore/bolt/bolttest"
)

// programDir is a data directory as a program leaves it after two runs:
// Ada registered in the first, Grace in the second, each updated a
// profile, and both runs stopped cleanly, saving snapshots and the
// workers' states.
type programDir struct {
	dir string
	// first is the log's head after the first run.
	first eventstore.Position
	// last is the log's head after the second.
	last eventstore.Position
}

func newProgramDir(t *testing.T) programDir {
	t.Helper()
	p := programDir{dir: t.TempDir()}
	ts := startServer(t, p.dir)
	ada := &client{t: t, url: ts.URL}
	d := ada.gql(`mutation { registerMentee(input: {name: "Ada Lovelace", email: "ada@example.org", password: "`+storyPassword+`"}) { token } }`, nil)
	ada.token = dig(d, "registerMentee", "token").(string)
	ada.gql(`mutation { updateProfile(input: {name: "Ada Lovelace", contact: {email: "ada@example.org"}}) { userErrors { code } } }`, nil)
	ts.Stop(t)
	p.first = logHead(t, p.dir)

	ts = startServer(t, p.dir)
	grace := &client{t: t, url: ts.URL}
	d = grace.gql(`mutation { registerMentor(input: {name: "Grace Hopper", email: "grace@example.org", password: "`+storyPassword+`"}) { token } }`, nil)
	grace.token = dig(d, "registerMentor", "token").(string)
	grace.gql(`mutation { updateProfile(input: {name: "Grace Hopper", discipline: "SOFTWARE", contact: {email: "grace@example.org"}}) { userErrors { code } } }`, nil)
	ts.Stop(t)
	p.last = logHead(t, p.dir)
	if p.last <= p.first {
		t.Fatalf("the second run added nothing: heads %d and %d", p.first, p.last)
	}
	return p
}

func logHead(t *testing.T, dir string) eventstore.Position {
	t.Helper()
	s, err := bolt.Open(dir, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	head, _ := s.Head(context.Background())
	return head
}

// serveRefused runs serve on dir and returns its error; a server that
// starts instead fails the test.
func serveRefused(t *testing.T, dir string, env map[string]string, extra ...string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out bytes.Buffer
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dir, "--log-format", "json", "--log-level", "warn", "--demo=false"}, extra...)
	err := run(ctx, args, func(k string) string { return env[k] }, strings.NewReader(""), &out, io.Discard)
	if err == nil || strings.Contains(out.String(), "listening") {
		t.Fatalf("serve started on a data directory it must refuse (%v): %s", err, out.String())
	}
	return err
}

// startServing is startServerLogging with an environment.
func startServing(t *testing.T, dir string, env map[string]string, logs io.Writer, extra ...string) *testServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	ts := &testServer{DataDir: dir, stop: cancel, done: make(chan error, 1)}
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dir, "--log-format", "json", "--log-level", "warn", "--demo=false"}, extra...)
	go func() {
		err := run(ctx, args, func(k string) string { return env[k] }, strings.NewReader(""), pw, logs)
		pw.CloseWithError(err)
		ts.done <- err
	}()
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		if i := strings.Index(sc.Text(), "http://"); i >= 0 {
			ts.URL = strings.Fields(sc.Text()[i:])[0]
			break
		}
	}
	if ts.URL == "" {
		cancel()
		t.Fatalf("server did not start: %v", <-ts.done)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	t.Cleanup(func() { ts.Stop(t) })
	return ts
}

// wantRefusal checks that err refuses a shorter log, names each of names
// and tells the operator the way on.
func wantRefusal(t *testing.T, what string, err error, names ...string) {
	t.Helper()
	if !errors.Is(err, eventstore.ErrShorterLog) {
		t.Fatalf("%s: %v, want ErrShorterLog", what, err)
	}
	for _, n := range append(names, "--accept-shorter-log", "MENTORSHIP_ACCEPT_SHORTER_LOG") {
		if !strings.Contains(err.Error(), n) {
			t.Errorf("%s: %q does not mention %s", what, err, n)
		}
	}
}

// acceptThenCleanStart serves dir accepting the shorter log, checks that
// the losses are logged loudly, and then that a plain start is clean and
// verify passes.
func acceptThenCleanStart(t *testing.T, dir string, env map[string]string, extra ...string) *testServer {
	t.Helper()
	var logs syncBuffer
	ts := startServing(t, dir, env, &logs, extra...)
	if !strings.Contains(logs.String(), "SERVING A SHORTER LOG") {
		t.Errorf("accepting a shorter log logged nothing loud: %s", logs.String())
	}
	ts.Stop(t)
	if _, err := os.Stat(filepath.Join(dir, acceptedFileName)); err != nil {
		t.Errorf("the accepted losses are not recorded: %v", err)
	}
	if out, errOut, err := runCommand("verify", "--data-dir", dir); err != nil || !strings.HasPrefix(out, "OK: ") {
		t.Fatalf("verify after accepting: %v %s %s", err, out, errOut)
	}
	return startServer(t, dir)
}

// truncate -s0 events.db: verify and serve refuse, naming the file; the
// operator's flag serves the empty log once and the next start is clean.
func TestEmptiedLogIsRefusedByVerifyAndServe(t *testing.T) {
	p := newProgramDir(t)
	if err := os.Truncate(filepath.Join(p.dir, bolt.FileName), 0); err != nil {
		t.Fatal(err)
	}
	out, _, err := runCommand("verify", "--data-dir", p.dir)
	if err == nil || strings.HasPrefix(out, "OK") || !strings.Contains(err.Error(), "events.db") {
		t.Fatalf("verify of an emptied log: %v, %q; want a failure naming events.db", err, out)
	}
	wantRefusal(t, "serve", serveRefused(t, p.dir, nil), "events.db")
	acceptThenCleanStart(t, p.dir, map[string]string{"MENTORSHIP_ACCEPT_SHORTER_LOG": "true"})
}

// rm events.db beside auth.db, snapshots and saved states: refused, with
// or without the head record.
func TestDeletedLogIsRefusedByVerifyAndServe(t *testing.T) {
	p := newProgramDir(t)
	if err := os.Remove(filepath.Join(p.dir, bolt.FileName)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCommand("verify", "--data-dir", p.dir); err == nil || !strings.Contains(err.Error(), "events.db") {
		t.Fatalf("verify of a deleted log: %v, want a failure naming events.db", err)
	}
	wantRefusal(t, "serve", serveRefused(t, p.dir, nil), "events.db", "auth.db")
	if err := os.Remove(filepath.Join(p.dir, bolt.HeadFileName)); err != nil {
		t.Fatal(err)
	}
	wantRefusal(t, "serve without the head record", serveRefused(t, p.dir, nil), "events.db", "auth.db", "snapshots")
	if _, err := os.Stat(filepath.Join(p.dir, bolt.FileName)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a refused serve created a store: %v", err)
	}
	acceptThenCleanStart(t, p.dir, nil, "--accept-shorter-log")
}

// Deleting the newest events and rewriting bbolt's head, which leaves a
// valid chain, is refused at serve without --anchor: the head record
// proves it, and so do the snapshots, the saved states and Grace's account
// when the head record is gone too. Once accepted, Grace can still sign in,
// and changing her profile answers that there is no such member, not
// INTERNAL.
func TestRewoundLogIsRefusedAtServe(t *testing.T) {
	p := newProgramDir(t)
	bolttest.Rewind(t, p.dir, p.first)

	wantRefusal(t, "serve", serveRefused(t, p.dir, nil), fmt.Sprintf("position %d", p.last))
	out, _, err := runCommand("verify", "--data-dir", p.dir)
	if err == nil || !strings.Contains(out, "BROKEN") {
		t.Fatalf("verify of a rewound log: %v, %q; want BROKEN", err, out)
	}
	if err := os.Remove(filepath.Join(p.dir, bolt.HeadFileName)); err != nil {
		t.Fatal(err)
	}
	err = serveRefused(t, p.dir, nil)
	wantRefusal(t, "serve without the head record", err, "auth.db", "snapshots", "process.db")

	ts := acceptThenCleanStart(t, p.dir, nil, "--accept-shorter-log")
	grace := &client{t: t, url: ts.URL}
	grace.login("Mentor", "grace@example.org")
	_, res := postGraphQL(t, ts.URL, `mutation { updateProfile(input: {name: "Grace Hopper", contact: {email: "grace@example.org"}}) { userErrors { code message } } }`,
		nil, map[string][]string{"Authorization": {"Bearer " + grace.token}})
	for _, e := range res.Errors {
		if e.Extensions["code"] == "INTERNAL" {
			t.Fatalf("updateProfile of a member the log lost answered INTERNAL: %+v", res.Errors)
		}
	}
	if !bytes.Contains(res.Data, []byte(`"code":"MEMBER_NOT_FOUND"`)) {
		t.Fatalf("updateProfile of a member the log lost answered %s, want the user error MEMBER_NOT_FOUND", res.Data)
	}
	ada := &client{t: t, url: ts.URL}
	ada.login("Mentee", "ada@example.org")
	ada.gql(`mutation { updateProfile(input: {name: "Ada King", contact: {email: "ada@example.org"}}) { userErrors { code } } }`, nil)
}

// A flipped bit in the header of the events' root page, and a file cut to
// 8,192 or 49,152 bytes, make verify and serve fail with an error naming
// events.db and the page, instead of a bbolt panic or SIGBUS.
func TestDamagedPagesAreReportedByVerifyAndServe(t *testing.T) {
	p := newProgramDir(t)
	// Enough events for the file to have more than 12 pages in use.
	s, err := bolt.Open(p.dir, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		ev := eventstore.EventData{ID: uuid.New(), Type: "Filler", SchemaVersion: 1, Data: []byte(`{"text":"` + strings.Repeat("x", 1000) + `"}`)}
		if _, err := s.Append(context.Background(), fmt.Sprintf("filler-%d", i%5), eventstore.Any(), ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(p.dir, bolt.FileName)
	pristine, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var root uint64
	var pageSize int
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	_ = db.View(func(tx *bbolt.Tx) error {
		root = uint64(tx.Bucket([]byte("events")).Root())
		pageSize = tx.DB().Info().PageSize
		return nil
	})
	_ = db.Close()
	if pages := countPages(t, path); pages <= 12 {
		t.Fatalf("the store has only %d pages in use", pages)
	}
	flipped := bytes.Clone(pristine)
	flipped[int(root)*pageSize+8] ^= 0x01
	cases := []struct {
		name string
		file []byte
		page string
	}{
		{"flipped bit in a page header", flipped, fmt.Sprintf("page %d", root)},
		{"cut to 8192 bytes", pristine[:8192], "page 2"},
		{"cut to 49152 bytes", pristine[:49152], "page 12"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(path, tc.file, 0o600); err != nil {
				t.Fatal(err)
			}
			out, _, err := runCommand("verify", "--data-dir", p.dir)
			if err == nil || strings.HasPrefix(out, "OK") || !strings.Contains(err.Error(), "events.db") || !strings.Contains(err.Error(), tc.page) {
				t.Errorf("verify: %v, %q; want a failure naming events.db and %s", err, out, tc.page)
			}
			err = serveRefused(t, p.dir, nil)
			if !errors.Is(err, eventstore.ErrCorrupt) || !strings.Contains(err.Error(), "events.db") || !strings.Contains(err.Error(), tc.page) {
				t.Errorf("serve: %v; want ErrCorrupt naming events.db and %s", err, tc.page)
			}
		})
	}
}

// countPages returns the high-water mark of a bbolt file: how many pages
// it uses or keeps free.
func countPages(t *testing.T, path string) int {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, PreLoadFreelist: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	pages := 0
	err = db.View(func(tx *bbolt.Tx) error {
		for {
			info, err := tx.Page(pages)
			if err != nil || info == nil {
				return err
			}
			pages++
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return pages
}

// A fresh, empty data directory still starts, and so does one whose
// directory does not exist yet.
func TestFreshDataDirectoryStarts(t *testing.T) {
	for _, dir := range []string{t.TempDir(), filepath.Join(t.TempDir(), "data")} {
		ts := startServer(t, dir)
		if code, _ := get(t, ts.URL+"/livez"); code != 200 {
			t.Fatalf("a fresh server answers /livez with %d", code)
		}
		ts.Stop(t)
		// And its second start is clean.
		startServer(t, dir).Stop(t)
	}
}

// The environment twin of --accept-shorter-log reads like every other
// boolean setting, and the flag wins over it.
func TestAcceptShorterLogSetting(t *testing.T) {
	if err := serveRefused(t, t.TempDir(), map[string]string{"MENTORSHIP_ACCEPT_SHORTER_LOG": "maybe"}); err == nil || !strings.Contains(err.Error(), "MENTORSHIP_ACCEPT_SHORTER_LOG") {
		t.Fatalf("a bad MENTORSHIP_ACCEPT_SHORTER_LOG: %v", err)
	}
	p := newProgramDir(t)
	if err := os.Truncate(filepath.Join(p.dir, bolt.FileName), 0); err != nil {
		t.Fatal(err)
	}
	wantRefusal(t, "the flag off over the environment on", serveRefused(t, p.dir, map[string]string{"MENTORSHIP_ACCEPT_SHORTER_LOG": "1"}, "--accept-shorter-log=false"), "events.db")
}
