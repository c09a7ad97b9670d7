package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/mentorship/mentorship/config"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/bolt"
	"github.com/mentorship/mentorship/eventstore/kurrent"
)

// verifyLog checks the whole log's checksums and hash chain and prints OK
// with the count and the head, or the first broken position; it then fails
// so that scripts notice. With --head it prints the head position and its
// hash instead, for publishing somewhere the store's operators cannot
// rewrite: the chain proves that every event follows from the ones before
// it, and only a published hash proves that the chain was not rebuilt as a
// whole. --anchor checks the log against such a published pair.
//
// The chain covers the stored bytes, not a decoded form, so erasing data
// that is stored encrypted by deleting its key would not break it.
func verifyLog(ctx context.Context, args []string, env func(string) string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mentorship verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	headOnly := fs.Bool("head", false, "print the head position and its hash, for publishing elsewhere, without walking the log")
	anchorText := fs.String("anchor", "", "POSITION:HASH printed earlier by --head: fail unless the log still holds that hash at that position")
	cfg, err := config.Parse(fs, args, env, logFlags...)
	if err != nil {
		return err
	}
	if *headOnly && *anchorText != "" {
		return fmt.Errorf("verify: --head and --anchor do not go together")
	}
	var anchor *published
	if *anchorText != "" {
		a, err := parsePublished(*anchorText)
		if err != nil {
			return fmt.Errorf("verify: --anchor: %w", err)
		}
		anchor = &a
	}

	if cfg.KurrentDBURL != "" {
		if *headOnly || anchor != nil {
			return errors.New("verify: on KurrentDB each stream keeps its own hash chain, so there is no single head to print or check; --head and --anchor are for the embedded store")
		}
		return verifyKurrent(ctx, cfg, stdout)
	}
	if err := embeddedStoreExists(cfg.DataDir); err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	if *headOnly {
		store, err := bolt.Open(cfg.DataDir, bolt.Options{MaxEventSize: cfg.MaxEventSize, MustExist: true})
		if err != nil {
			return err
		}
		defer store.Close()
		pos, hash := store.HeadHash()
		fmt.Fprintf(stdout, "%d:%x\n", pos, hash)
		return nil
	}

	// Open refuses a store whose newest records are damaged; verify is
	// the tool that says where.
	store, err := bolt.Open(cfg.DataDir, bolt.Options{MaxEventSize: cfg.MaxEventSize, SkipTailCheck: true, MustExist: true})
	if err != nil {
		return err
	}
	defer store.Close()
	var bar *progress
	rep, err := store.Verify(ctx, func(done, total eventstore.Position) {
		if bar == nil {
			bar = newProgress(stderr, "verify", uint64(total))
		}
		bar.set(uint64(done))
	})
	if bar != nil {
		bar.done()
	}
	if err != nil {
		return err
	}
	if !rep.OK() {
		fmt.Fprintf(stdout, "BROKEN at position %d: %s\n%d events before it are intact\n", rep.Broken, rep.Problem, rep.Records)
		return fmt.Errorf("verify: the log fails its checks at position %d", rep.Broken)
	}
	// An intact chain may still be shorter than the head record and the
	// rest of the data directory prove it was.
	var lacks []string
	if err := store.Shorter(); err != nil {
		lacks = append(lacks, err.Error())
	}
	problems, err := checkProofs(ctx, cfg.DataDir, store)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	lacks = append(lacks, summarize(problems)...)
	if len(lacks) > 0 {
		fmt.Fprintf(stdout, "BROKEN: the log (%d events, head %d) is shorter than the data directory proves:\n  %s\n", rep.Records, rep.Head, strings.Join(lacks, "\n  "))
		return fmt.Errorf("verify: %w", eventstore.ErrShorterLog)
	}
	if anchor != nil {
		if err := checkPublished(ctx, store, rep, *anchor); err != nil {
			fmt.Fprintf(stdout, "BROKEN: %v\n", err)
			return fmt.Errorf("verify: the log does not hold the published hash at position %d", anchor.pos)
		}
	}
	fmt.Fprintf(stdout, "OK: %d events, head %d:%x\n", rep.Records, rep.Head, rep.HeadHash)
	// A migrated log names the head of the log it was copied from, which
	// links the two chains for whoever holds the old head.
	if rec, pos, ok, err := migrationOf(ctx, store); err != nil {
		return fmt.Errorf("verify: %w", err)
	} else if ok {
		fmt.Fprintf(stdout, "migrated at position %d from a log whose head was %d:%s\n", pos, rec.FromHead, rec.FromHeadHash)
	}
	return nil
}

// verifyKurrent checks the hash chain of every stream on KurrentDB, where
// the writer keeps each event's hash in its metadata, chained per stream.
func verifyKurrent(ctx context.Context, cfg config.Config, stdout io.Writer) error {
	store, err := kurrent.Open(ctx, cfg.KurrentDBURL, kurrent.Options{MaxEventSize: cfg.MaxEventSize})
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	defer store.Close()
	n, err := store.Verify(ctx)
	if errors.Is(err, eventstore.ErrCorrupt) {
		fmt.Fprintf(stdout, "BROKEN: %v\n%d events before it are intact\n", err, n-1)
		return errors.New("verify: the log fails its checks")
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "OK: %d events, every stream's chain intact\n", n)
	return nil
}

// published is a head printed by verify --head: a position and the hash
// that ends the chain there.
type published struct {
	pos  eventstore.Position
	hash []byte
}

func parsePublished(s string) (published, error) {
	p, h, ok := strings.Cut(s, ":")
	pos, err := strconv.ParseUint(p, 10, 64)
	if !ok || err != nil {
		return published{}, fmt.Errorf("%q is not POSITION:HASH as verify --head prints it", s)
	}
	hash, err := hex.DecodeString(h)
	if err != nil || (pos > 0 && len(hash) == 0) {
		return published{}, fmt.Errorf("%q does not end in a hex hash", s)
	}
	return published{pos: eventstore.Position(pos), hash: hash}, nil
}

// checkPublished checks that a verified log still holds a published hash.
// The walk proved every later hash follows from it, so a match means that
// nothing up to the published position changed since it was published.
func checkPublished(ctx context.Context, store *bolt.Store, rep bolt.VerifyReport, a published) error {
	if a.pos == 0 {
		return nil
	}
	if a.pos > rep.Head {
		return fmt.Errorf("the log ends at position %d, before the published position %d", rep.Head, a.pos)
	}
	evs, err := store.ReadAll(ctx, a.pos-1, 1)
	if err != nil {
		return err
	}
	if len(evs) != 1 || evs[0].Position != a.pos {
		return fmt.Errorf("position %d cannot be read", a.pos)
	}
	if !bytes.Equal(evs[0].Hash, a.hash) {
		return fmt.Errorf("the hash at position %d is %x, not the published %x: the log was rewritten", a.pos, evs[0].Hash, a.hash)
	}
	return nil
}
