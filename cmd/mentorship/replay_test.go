package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/clock"
	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore/bolt"
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
}
