package main

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mentorship/mentorship/eventstore/bolt"
)

func TestVerifyCommandPassesAnIntactLog(t *testing.T) {
	h := storeHistory(t)
	out, errOut, err := runCommand("verify", "--data-dir", h.dir)
	if err != nil {
		t.Fatalf("verify: %v (%s)", err, errOut)
	}
	want := fmt.Sprintf("OK: %d events, head %d:%x\n", h.events, h.headPos, h.headHash)
	if out != want {
		t.Fatalf("verify said %q, want %q", out, want)
	}
	if !strings.Contains(errOut, "100.0%") {
		t.Fatalf("no progress shown: %q", errOut)
	}
}

func TestVerifyCommandPrintsTheHead(t *testing.T) {
	h := storeHistory(t)
	out, errOut, err := runCommand("verify", "--head", "--data-dir", h.dir)
	if err != nil {
		t.Fatalf("verify --head: %v (%s)", err, errOut)
	}
	if want := fmt.Sprintf("%d:%s\n", h.headPos, hex.EncodeToString(h.headHash)); out != want {
		t.Fatalf("verify --head said %q, want %q", out, want)
	}

	// The printed head checks the same log later on.
	if _, errOut, err := runCommand("verify", "--data-dir", h.dir, "--anchor", strings.TrimSpace(out)); err != nil {
		t.Fatalf("verify against its own head: %v (%s)", err, errOut)
	}

	empty := t.TempDir()
	st, err := bolt.Open(empty, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if out, _, err := runCommand("verify", "--head", "--data-dir", empty); err != nil || out != "0:\n" {
		t.Fatalf("verify --head of an empty log: %q, %v", out, err)
	}
}

// The commands that read the log never create one: a mistyped data
// directory is an error, not an empty log, and nothing is written there.
func TestLogCommandsRefuseADirectoryWithoutAStore(t *testing.T) {
	for _, args := range [][]string{
		{"verify"}, {"verify", "--head"}, {"export"}, {"replay"}, {"replay", "--until", "1", "--out", filepath.Join(t.TempDir(), "copy")},
	} {
		missing := filepath.Join(t.TempDir(), "typo")
		_, _, err := runCommand(append(args, "--data-dir", missing)...)
		if err == nil || !strings.Contains(err.Error(), "no event store in "+missing) {
			t.Errorf("%v on a missing directory: %v", args, err)
		}
		if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%v created %s", args, missing)
		}
	}
	if _, _, err := runCommand("replay", "stray", "--data-dir", t.TempDir()); err == nil || !strings.Contains(err.Error(), "stray") {
		t.Errorf("replay with a stray argument: %v", err)
	}
}

// TestVerifyCommandNamesTheBrokenPosition damages the newest event, which
// also makes a normal open refuse the store.
func TestVerifyCommandNamesTheBrokenPosition(t *testing.T) {
	h := storeHistory(t)
	path := filepath.Join(h.dir, bolt.FileName)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for i := bytes.Index(raw, []byte(h.newestMarker)); i >= 0; i = bytes.Index(raw, []byte(h.newestMarker)) {
		raw[i] ^= 0x01
		n++
	}
	if n == 0 {
		t.Fatal("marker not found")
	}
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}

	out, _, err := runCommand("verify", "--data-dir", h.dir)
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("position %d", h.headPos)) {
		t.Fatalf("verify of a damaged log: error %v", err)
	}
	want := fmt.Sprintf("BROKEN at position %d: record checksum mismatch\n%d events before it are intact\n", h.headPos, h.headPos-1)
	if out != want {
		t.Fatalf("verify said %q, want %q", out, want)
	}
	if _, _, err := runCommand("verify", "--head", "--data-dir", h.dir); err == nil {
		t.Fatal("verify --head published the head of a damaged log")
	}
}

// TestVerifyCommandChecksAPublishedHead stands in for a log rebuilt as a
// whole, whose chain is consistent in itself: only the hash published
// before tells.
func TestVerifyCommandChecksAPublishedHead(t *testing.T) {
	original := storeHistory(t)
	rebuilt := storeHistory(t)
	anchor := fmt.Sprintf("%d:%x", original.headPos, original.headHash)
	out, _, err := runCommand("verify", "--data-dir", rebuilt.dir, "--anchor", anchor)
	if err == nil || !strings.HasPrefix(out, fmt.Sprintf("BROKEN: the hash at position %d is %x, not the published", original.headPos, rebuilt.headHash)) {
		t.Fatalf("verify of a rebuilt log against the published head: %q, %v", out, err)
	}
	beyond := fmt.Sprintf("%d:%x", original.headPos+5, original.headHash)
	out, _, err = runCommand("verify", "--data-dir", original.dir, "--anchor", beyond)
	if err == nil || !strings.Contains(out, "before the published position") {
		t.Fatalf("verify of a log shorter than the published head: %q, %v", out, err)
	}
}

func TestVerifyCommandRefusesBadFlags(t *testing.T) {
	h := storeHistory(t)
	cases := []struct {
		args []string
		says string
	}{
		{[]string{"--anchor", "12"}, "is not POSITION:HASH"},
		{[]string{"--anchor", "x:ab"}, "is not POSITION:HASH"},
		{[]string{"--anchor", "3:zz"}, "does not end in a hex hash"},
		{[]string{"--head", "--anchor", "1:ab"}, "do not go together"},
		{[]string{"stray"}, `unexpected argument "stray"`},
		{[]string{"--bogus"}, "flag provided but not defined"},
	}
	for _, tc := range cases {
		out, errOut, err := runCommand(append([]string{"verify", "--data-dir", h.dir}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error()+errOut, tc.says) {
			t.Errorf("%v: error %v, stderr %q, want %q", tc.args, err, errOut, tc.says)
		}
		if out != "" {
			t.Errorf("%v: wrote %q", tc.args, out)
		}
	}
}
