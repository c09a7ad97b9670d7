package graph

import (
	"context"
	"errors"
	"time"

	"github.com/mentorship/mentorship/auth"
	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/graph/model"
)

// SessionAuth signs requests in with the accounts service, tying each
// request's or connection's context to its session.
type SessionAuth struct {
	Accounts *auth.Service
}

var _ Authenticator = SessionAuth{}

// Authenticate implements Authenticator.
func (a SessionAuth) Authenticate(ctx context.Context, token string) (context.Context, context.CancelFunc, domain.Actor, error) {
	actor, sess, err := a.Accounts.Authenticate(ctx, token)
	if err != nil {
		return ctx, func() {}, actor, err
	}
	wctx, cancel := a.Accounts.Watch(ctx, sess)
	return wctx, cancel, actor, nil
}

// authUserErrors turns the accounts service's refusals into userErrors;
// other errors are returned to be raised.
func authUserErrors(err error) ([]*model.UserError, error) {
	if err == nil {
		return []*model.UserError{}, nil
	}
	var aerr *auth.Error
	if errors.As(err, &aerr) {
		switch aerr.Code {
		case auth.CodeTokenInvalid, auth.CodeTokenExpired, auth.CodeTokenRevoked:
			return nil, errUnauthenticated
		}
		msg := aerr.Message
		if aerr.Code == auth.CodeRateLimited && aerr.RetryAfter > 0 {
			msg += " (try again in " + aerr.RetryAfter.Round(time.Second).String() + ")"
		}
		ue := &model.UserError{Code: string(aerr.Code), Message: msg}
		if aerr.Field != "" {
			f := aerr.Field
			ue.Field = &f
		}
		return []*model.UserError{ue}, nil
	}
	return userErrors(err)
}

func (r *Resolver) accounts() (*auth.Service, error) {
	if r.Accounts == nil {
		return nil, &apiError{CodeUnavailable, "sign-in is not configured on this server"}
	}
	return r.Accounts, nil
}

func (r *Resolver) register(ctx context.Context, role domain.Role, in model.RegisterInput) (*model.AuthPayload, error) {
	acc, err := r.accounts()
	if err != nil {
		return nil, err
	}
	reg, err := acc.RegisterFrom(ctx, role, in.Name, in.Email, in.Password, clientAddrFrom(ctx))
	if ue, err := authUserErrors(err); err != nil || len(ue) > 0 {
		return &model.AuthPayload{UserErrors: ue, ClientMutationID: in.ClientMutationID}, err
	}
	r.settle(ctx, command.Result{Position: reg.Position})
	return r.login(ctx, role, model.LoginInput{Email: in.Email, Password: in.Password, ClientMutationID: in.ClientMutationID})
}

func (r *Resolver) login(ctx context.Context, role domain.Role, in model.LoginInput) (*model.AuthPayload, error) {
	acc, err := r.accounts()
	if err != nil {
		return nil, err
	}
	token, sess, err := acc.Login(ctx, role, in.Email, in.Password, clientAddrFrom(ctx))
	return sessionPayload(token, sess, err, in.ClientMutationID)
}

func sessionPayload(token string, sess auth.Session, err error, cmid *string) (*model.AuthPayload, error) {
	ue, err := authUserErrors(err)
	if err != nil || len(ue) > 0 {
		return &model.AuthPayload{UserErrors: ue, ClientMutationID: cmid}, err
	}
	exp := sess.ExpiresAt
	return &model.AuthPayload{
		Token: &token, ExpiresAt: &exp, UserErrors: ue, ClientMutationID: cmid,
		Viewer: &model.Viewer{ID: model.GlobalID(model.KindMember, sess.Actor.ID), Role: model.Role(sess.Actor.Role), Actor: sess.Actor},
	}, nil
}

func ackPayload(err error, cmid *string) (*model.AckPayload, error) {
	ue, err := authUserErrors(err)
	if err != nil {
		return nil, err
	}
	return &model.AckPayload{Ok: len(ue) == 0, UserErrors: ue, ClientMutationID: cmid}, nil
}
