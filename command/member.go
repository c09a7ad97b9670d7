package command

import (
	"context"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
)

// RegisterMember records a new account with its fixed role.
func (s *Service) RegisterMember(ctx context.Context, req Request, id uuid.UUID, role domain.Role, name, email string) (Result, error) {
	req = req.normalized()
	cmd := domain.RegisterMember{MemberID: id, Actor: req.Actor, Role: role, Name: name, Email: email, At: s.clock.Now()}
	return s.onMember(ctx, req, "register", id, cmd)
}

// RecordSignIn records that actor, a member, signed in: the first sign-in
// of each day in the program's time zone becomes MemberSignedIn, which the
// retention rule counts from; later ones record nothing. The command ID
// names the member and the day, so that instances recording the same
// day's sign-in at once write one event.
func (s *Service) RecordSignIn(ctx context.Context, actor domain.Actor) (Result, error) {
	now := s.clock.Now()
	id := "signed-in:" + actor.ID.String() + ":" + s.program.Today(now).String()
	req := Request{Actor: actor, CommandID: id, CorrelationID: id}
	cmd := domain.RecordSignIn{MemberID: actor.ID, Actor: actor, At: now}
	return s.onMember(ctx, req, "sign-in", actor.ID, cmd)
}

// UpdateProfile saves a member's whole profile.
func (s *Service) UpdateProfile(ctx context.Context, req Request, id uuid.UUID, profile domain.Profile) (Result, error) {
	return s.SaveProfile(ctx, req, domain.UpdateProfile{MemberID: id, Profile: profile})
}

// SaveProfile saves a member's whole profile together with a mentor's
// capacity and accepting switch when cmd sets them, in one append: a
// refusal of any part writes nothing. The actor and the time come from req
// and the clock.
func (s *Service) SaveProfile(ctx context.Context, req Request, cmd domain.UpdateProfile) (Result, error) {
	req = req.normalized()
	cmd.Actor, cmd.At = req.Actor, s.clock.Now()
	return s.onMember(ctx, req, "profile", cmd.MemberID, cmd)
}

// SetMentorCapacity sets how many mentees a mentor takes at once.
func (s *Service) SetMentorCapacity(ctx context.Context, req Request, id uuid.UUID, capacity int) (Result, error) {
	req = req.normalized()
	cmd := domain.SetMentorCapacity{MemberID: id, Actor: req.Actor, Capacity: capacity, At: s.clock.Now()}
	return s.onMember(ctx, req, "capacity", id, cmd)
}

// SetAcceptingRequests switches a mentor's new requests on or off.
func (s *Service) SetAcceptingRequests(ctx context.Context, req Request, id uuid.UUID, accepting bool) (Result, error) {
	req = req.normalized()
	cmd := domain.SetAcceptingRequests{MemberID: id, Actor: req.Actor, Accepting: accepting, At: s.clock.Now()}
	return s.onMember(ctx, req, "accepting", id, cmd)
}

func (s *Service) onMember(ctx context.Context, req Request, name string, id uuid.UUID, cmd domain.MemberCommand) (Result, error) {
	var res Result
	pos, err := update(ctx, s, memberAgg, domain.MemberStream(id), first(req, name), func(m domain.Member) ([]domain.Event, error) {
		return domain.DecideMember(s.program, m, cmd)
	})
	res.add(pos)
	return res, err
}

// Member loads a member's current state from its stream.
func (s *Service) Member(ctx context.Context, id uuid.UUID) (domain.Member, error) {
	m, _, _, err := load(ctx, s, memberAgg, domain.MemberStream(id))
	return m, err
}
