package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/clock"
	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore/bolt"
	"github.com/mentorship/mentorship/projections"
)

func TestReplayRebuildsFromTheLog(t *testing.T) {
	dir := t.TempDir()
	store, err := bolt.Open(dir, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := command.New(store, domain.DefaultProgram(), clock.System{}, command.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range 5 {
		a := domain.Actor{ID: uuid.New(), Role: domain.RoleMentor}
		if _, err := svc.RegisterMember(ctx, command.Request{Actor: a}, a.ID, domain.RoleMentor, "Mentor", "m"+string(rune('a'+i))+"@example.org"); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"replay", "--data-dir", dir}, func(string) string { return "" }, nil, &out, &errOut); err != nil {
		t.Fatalf("replay: %v (%s)", err, errOut.String())
	}
	if !strings.HasPrefix(out.String(), "replayed 5 events") {
		t.Fatalf("replay said %q", out.String())
	}
	if !strings.Contains(errOut.String(), "100.0%") {
		t.Fatalf("no progress shown: %q", errOut.String())
	}
	if err := run(ctx, []string{"replay", "--bogus"}, func(string) string { return "" }, nil, io.Discard, io.Discard); err == nil {
		t.Fatal("an unknown flag was accepted")
	}

	// The rebuilt models are the snapshots the server starts from.
	store, err = bolt.Open(dir, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	for _, p := range []projections.Projection{projections.NewMembers(), projections.NewMatches()} {
		info, err := projections.LoadSnapshot(store, filepath.Join(dir, "snapshots"), p)
		if err != nil || info.Position != 5 {
			t.Errorf("snapshot of %s: %+v, %v", p.Name(), info, err)
		}
	}
}

func TestReplayRefusesUntilWithoutOutAndPastTheEnd(t *testing.T) {
	h := storeHistory(t)
	if _, _, err := runCommand("replay", "--data-dir", h.dir, "--until", "1"); err == nil || !strings.Contains(err.Error(), "--until needs --out") {
		t.Errorf("--until without --out: %v", err)
	}
	out := filepath.Join(t.TempDir(), "copy")
	past := strconv.FormatUint(uint64(h.headPos)+1, 10)
	if _, _, err := runCommand("replay", "--data-dir", h.dir, "--until", past, "--out", out); err == nil || !strings.Contains(err.Error(), "past the end") {
		t.Errorf("--until past the head: %v", err)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused replay left %s behind", out)
	}
	// A directory that is not empty is refused and left as it was.
	busy := t.TempDir()
	keep := filepath.Join(busy, "keep.txt")
	if err := os.WriteFile(keep, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCommand("replay", "--data-dir", h.dir, "--out", busy); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("--out into a busy directory: %v", err)
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("the busy directory was touched: %v", err)
	}
}
