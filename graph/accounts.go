package graph

import (
	"context"
	"fmt"

	"github.com/mentorship/mentorship/auth"
	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/graph/model"
	"github.com/mentorship/mentorship/refusal"
)

// SessionAuth signs requests in with the accounts service, tying each
// request's or connection's context to its session.
type SessionAuth struct {
	Accounts *auth.Service
}

// Authenticate implements Authenticator.
func (a SessionAuth) Authenticate(ctx context.Context, token string) (context.Context, context.CancelFunc, domain.Actor, error) {
	actor, sess, err := a.Accounts.Authenticate(ctx, token)
	if err != nil {
		if ref, ok := refusal.As(err); ok && refusalCode(ref.Code) == CodeUnauthenticated {
			err = fmt.Errorf("%w: %w", ErrBadToken, err)
		}
		return ctx, func() {}, actor, err
	}
	wctx, cancel := a.Accounts.Watch(ctx, sess)
	return wctx, cancel, actor, nil
}

func (r *Resolver) accounts() (*auth.Service, error) {
	if r.Accounts == nil {
		return nil, &apiError{CodeUnavailable, "sign-in is not configured on this server"}
	}
	return r.Accounts, nil
}

// register signs a new member up and in. Once the account exists the
// answer is a success: read models that have not caught up within the
// write timeout are reported beside it (see settle), and a session that
// could not be started leaves the token empty for the client to sign in.
func (r *Resolver) register(ctx context.Context, role domain.Role, in model.RegisterInput) (*model.AuthPayload, error) {
	acc, err := r.accounts()
	if err != nil {
		return nil, err
	}
	reg, token, sess, err := acc.SignUp(ctx, role, in.Name, in.Email, in.Password, clientAddrFrom(ctx))
	if ue, err := userErrors(err); err != nil || len(ue) > 0 {
		return &model.AuthPayload{UserErrors: ue, ClientMutationID: in.ClientMutationID}, err
	}
	r.settle(ctx, command.Result{Position: reg.Position})
	return sessionPayload(token, sess, nil, in.ClientMutationID)
}

func (r *Resolver) login(ctx context.Context, role domain.Role, in model.LoginInput) (*model.AuthPayload, error) {
	acc, err := r.accounts()
	if err != nil {
		return nil, err
	}
	token, sess, err := acc.Login(ctx, role, in.Email, in.Password, clientAddrFrom(ctx))
	return sessionPayload(token, sess, err, in.ClientMutationID)
}

// sessionPayload answers a call that signs in: the token and viewer, or
// the refusal.
func sessionPayload(token string, sess auth.Session, err error, cmid *string) (*model.AuthPayload, error) {
	ue, err := userErrors(err)
	if err != nil || len(ue) > 0 {
		return &model.AuthPayload{UserErrors: ue, ClientMutationID: cmid}, err
	}
	p := &model.AuthPayload{
		UserErrors: ue, ClientMutationID: cmid,
		Viewer: &model.Viewer{ID: model.GlobalID(model.KindMember, sess.Actor.ID), Role: model.Role(sess.Actor.Role), Actor: sess.Actor},
	}
	// An empty token is a change that stands without a new session: the
	// client signs in again.
	if token != "" {
		exp := sess.ExpiresAt
		p.Token, p.ExpiresAt = &token, &exp
	}
	return p, nil
}

func ackPayload(err error, cmid *string) (*model.AckPayload, error) {
	ue, err := userErrors(err)
	if err != nil {
		return nil, err
	}
	return &model.AckPayload{Ok: len(ue) == 0, UserErrors: ue, ClientMutationID: cmid}, nil
}
