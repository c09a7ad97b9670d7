package command

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/refusal"
)

// EraseStep removes an erased member's personal data from one place the
// program keeps it (the member's key, credentials, uploaded documents, the
// outbox, ...). Steps are idempotent: a step that finds nothing to remove
// succeeds.
type EraseStep struct {
	// Name says what the step erases, in errors.
	Name string
	// Erase removes the member's data.
	Erase func(ctx context.Context, member uuid.UUID) error
}

// erasers holds the steps registered with OnErase, and the read side's
// count of a member's open matches.
type erasers struct {
	mu    sync.Mutex
	steps []EraseStep
	open  func(member uuid.UUID) (int, error)
}

// CountOpenMatches tells EraseMember how to count a member's pending and
// active matches as the read models show them. A mentor's stream records
// the capacity that accepted matches hold, but not the requests waiting
// for an answer, which live on the match and the mentee's streams; the
// read models know both. An error of fn (read models that cannot answer)
// refuses the erasure as it is, before anything is recorded.
func (s *Service) CountOpenMatches(fn func(member uuid.UUID) (int, error)) {
	s.erase.mu.Lock()
	defer s.erase.mu.Unlock()
	s.erase.open = fn
}

// OnErase adds steps that run, in the order added, each time a member is
// erased, after MemberErased is recorded.
func (s *Service) OnErase(steps ...EraseStep) {
	s.erase.mu.Lock()
	defer s.erase.mu.Unlock()
	s.erase.steps = append(s.erase.steps, steps...)
}

// ErrErasureUnfinished wraps the failure of an erasure step: the erasure is
// recorded, and erasing the member again finishes it.
var ErrErasureUnfinished = errors.New("the erasure is recorded but not finished; erase the member again to finish it")

// RequestAccountClosure records a member's request that staff close the
// account and erase their personal data.
func (s *Service) RequestAccountClosure(ctx context.Context, req Request, id uuid.UUID, note string) (Result, error) {
	req = req.normalized()
	cmd := domain.RequestAccountClosure{MemberID: id, Actor: req.Actor, Note: note, At: s.clock.Now()}
	return s.onMember(ctx, req, "close", id, cmd)
}

// EraseMember records MemberErased on the member's stream and then runs
// every erase step. Erasing an erased member again records nothing and
// runs the steps again, which finishes an erasure that a failure or a
// crash interrupted.
func (s *Service) EraseMember(ctx context.Context, req Request, id uuid.UUID, reason string) (Result, error) {
	req = req.normalized()
	cmd := domain.EraseMember{MemberID: id, Actor: req.Actor, Reason: reason, At: s.clock.Now()}
	s.erase.mu.Lock()
	open := s.erase.open
	s.erase.mu.Unlock()
	if open != nil {
		m, err := s.Member(ctx, id)
		if err != nil {
			return Result{}, err
		}
		// The domain's refusals (bad input, who may erase) come first.
		if evs, err := domain.DecideMember(s.program, m, cmd); err != nil {
			return Result{}, err
		} else if len(evs) > 0 {
			n, err := open(id)
			if err != nil {
				return Result{}, fmt.Errorf("erase member: count open matches: %w", err)
			}
			if n > 0 {
				return Result{}, &refusal.Error{Code: domain.CodeMemberHasOpenMatch,
					Message: domain.OpenMatchesText(n) + ": end or cancel them first"}
			}
		}
	}
	res, err := s.onMember(ctx, req, "erase", id, cmd)
	if err != nil {
		return res, err
	}
	return res, s.FinishErasure(ctx, id)
}

// FinishErasure runs every erase step for a member whose erasure is
// recorded; it refuses a member who is not erased.
func (s *Service) FinishErasure(ctx context.Context, id uuid.UUID) error {
	m, err := s.Member(ctx, id)
	if err != nil {
		return err
	}
	if !m.Erased() {
		return fmt.Errorf("finish erasure: member %s is not erased", id)
	}
	// Folded states may hold the member's texts in the clear.
	if s.states != nil {
		s.states.Purge()
	}
	s.erase.mu.Lock()
	steps := append([]EraseStep(nil), s.erase.steps...)
	s.erase.mu.Unlock()
	for _, st := range steps {
		if err := st.Erase(ctx, id); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrErasureUnfinished, st.Name, err)
		}
	}
	return nil
}

// PersonalTexts returns what identifies a member in the clear (name, login
// and contact emails, phone), as recorded before the erasure, for the
// erase steps that find the member's data by content (the development
// mailbox). Once the member's key is gone they read as "" and are left out.
func (s *Service) PersonalTexts(ctx context.Context, id uuid.UUID) ([]string, error) {
	recs, err := s.store.ReadStream(ctx, domain.MemberStream(id), eventstore.ReadStreamOptions{})
	if errors.Is(err, eventstore.ErrStreamNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var m domain.Member
	for _, rec := range recs {
		ev, err := domain.Decode(rec.Type, rec.SchemaVersion, rec.Data)
		if err != nil {
			return nil, err
		}
		if _, ok := ev.(domain.MemberErased); ok {
			continue
		}
		m = domain.EvolveMember(m, ev)
	}
	p := m.Profile()
	var out []string
	for _, t := range []string{m.Email(), p.Name, p.Contact.Email, p.Contact.Phone} {
		if t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out, nil
}
