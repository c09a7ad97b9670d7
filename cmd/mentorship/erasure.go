package main

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/mentorship/mentorship/auth"
	"github.com/mentorship/mentorship/blob"
	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/keyring"
	"github.com/mentorship/mentorship/mail"
	"github.com/mentorship/mentorship/projections"
)

// erasure is what an erasure reaches: every place the program keeps a
// member's personal data besides the log, whose texts the key seals.
type erasure struct {
	commands    *command.Service
	store       eventstore.Store
	models      *readModels
	accounts    *auth.Service
	compactAuth func(context.Context) error
	blobs       *blob.Store
	outbox      outboxEraser
	mailbox     *mail.Mailbox
	keys        *keyring.Keyring
}

// steps lists the erase steps in order. The key goes last: until then a
// retry can still read what the other steps look for.
func (e erasure) steps() []command.EraseStep {
	var steps []command.EraseStep
	add := func(name string, fn func(context.Context, uuid.UUID) error) {
		steps = append(steps, command.EraseStep{Name: name, Erase: fn})
	}
	add("the read models", func(ctx context.Context, id uuid.UUID) error {
		head, err := e.store.Head(ctx)
		if err != nil {
			return err
		}
		if err := e.models.follower.WaitFor(ctx, head); err != nil {
			return err
		}
		// The snapshots on disk are rewritten from the models, which
		// blanked the member's texts.
		if s, ok := e.models.follower.(interface{ Save() error }); ok {
			return s.Save()
		}
		return nil
	})
	add("the account's credentials", func(ctx context.Context, id uuid.UUID) error {
		if err := e.accounts.DeleteAccount(ctx, id); err != nil {
			return err
		}
		if e.compactAuth != nil {
			return e.compactAuth(ctx)
		}
		return nil
	})
	add("the uploaded documents", func(ctx context.Context, id uuid.UUID) error {
		matches, err := e.models.matches.MatchesOf(id, projections.AllMatches)
		if err != nil {
			return err
		}
		keep := map[string]bool{}
		var drop []string
		for _, m := range matches {
			for _, d := range m.Documents {
				if d.UploaderID == id {
					drop = append(drop, d.SHA256)
				} else {
					keep[d.SHA256] = true
				}
			}
		}
		for _, sum := range drop {
			if keep[sum] {
				continue // the partner uploaded the same bytes
			}
			if err := e.blobs.Delete(ctx, sum); err != nil {
				return err
			}
		}
		return nil
	})
	if e.outbox != nil {
		add("the outbox", func(ctx context.Context, id uuid.UUID) error {
			head, err := e.store.Head(ctx)
			if err != nil {
				return err
			}
			all, err := e.models.matches.MatchesOf(id, projections.AllMatches)
			if err != nil {
				return err
			}
			matches := make([]uuid.UUID, 0, len(all))
			for _, m := range all {
				matches = append(matches, m.ID)
			}
			return e.outbox.EraseMember(ctx, id, matches, head)
		})
	}
	if e.mailbox != nil {
		add("the development mailbox", func(ctx context.Context, id uuid.UUID) error {
			texts, err := e.commands.PersonalTexts(ctx, id)
			if err != nil {
				return err
			}
			_, err = e.mailbox.RemoveMentioning(texts)
			return err
		})
	}
	add("the member's key", func(ctx context.Context, id uuid.UUID) error {
		if err := e.keys.Erase(ctx, id); err != nil {
			return fmt.Errorf("erase the key: %w", err)
		}
		return nil
	})
	return steps
}

// finishErasures runs the erase steps again for every erased member whose
// key is still kept: their erasure is recorded, but a crash or a failed
// step stopped it before its last step (the key goes last). Each step is
// idempotent.
func finishErasures(ctx context.Context, members projections.MemberReader, keys *keyring.Keyring, commands *command.Service, log zerolog.Logger) {
	erased, err := members.Scan(func(v *projections.MemberView) bool { return v.Erased() })
	if err != nil {
		log.Error().Err(err).Msg("listing erased members")
		return
	}
	for _, v := range erased {
		done, err := keys.Erased(ctx, v.ID)
		if err != nil {
			log.Error().Err(err).Str("member_id", v.ID.String()).Msg("checking an erasure")
			continue
		}
		if done {
			continue
		}
		if err := commands.FinishErasure(ctx, v.ID); err != nil {
			log.Error().Err(err).Str("member_id", v.ID.String()).Msg("finishing an erasure")
			continue
		}
		log.Info().Str("member_id", v.ID.String()).Msg("finished an interrupted erasure")
	}
}
