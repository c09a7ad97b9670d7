package auth

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/refusal"
)

// registrationTimeout is how long pending credentials belong to the
// registration that wrote them. After it, a new registration of the same
// account takes them over, so credentials left by a crash never block an
// email for good.
const registrationTimeout = 2 * time.Minute

// maxEmailBytes caps an email address, as SMTP does.
const maxEmailBytes = 254

// Registered tells how a registration ended.
type Registered struct {
	// MemberID is the new account's member ID.
	MemberID uuid.UUID
	// Position is the global position of the MemberRegistered event (or
	// eventstore.Start when a retried registration found it already
	// recorded). Waiting for read models to reach it gives
	// read-your-writes.
	Position eventstore.Position
}

// RegisterFrom creates a mentee or mentor account and records it on the
// event log with the new member as the actor. It returns ErrEmailTaken
// when an account of that role already uses the email (compared without
// regard to case), ErrWeakPassword when the password breaks a rule, and
// the registrar's *refusal.Error when the member is refused (a bad name).
// SignUp also signs the new member in.
//
// ErrEmailTaken tells whoever asks that an account uses the email, which
// sign-in and password reset take care never to reveal; sign-up forms
// need it, so it stays, and the per-address limit bounds how many emails
// one client can probe. Every call with a clientAddr (as for Login),
// whatever its outcome, counts against that address's registration limit
// (Options.SignupsPerAddress, counted apart from sign-ins) before the
// password is hashed, and gets ErrRateLimited once it is full, with
// nothing written: each attempt costs an argon2id hash, and a successful
// one creates an account. The count is checked and taken in one
// transaction, so the aliases of one GraphQL request each count. There is
// no per-account limit: an account is registered once, and a prober tries
// each email once.
//
// Credentials are written as pending before the event is appended and
// become usable only after it; when the append fails they are withdrawn,
// and if even that fails they stay pending, unable to sign in, until a
// retry takes them over with the same member ID, which the registrar
// records idempotently. Once the pending credentials are written the
// registration runs to the end even if ctx ends.
func (s *Service) RegisterFrom(ctx context.Context, role domain.Role, name, email, password, clientAddr string) (Registered, error) {
	if role != domain.RoleMentee && role != domain.RoleMentor {
		return Registered{}, invalidInput("role", "must be %s or %s", domain.RoleMentee, domain.RoleMentor)
	}
	reg, _, err := s.register(ctx, role, name, email, password, clientAddr, false)
	return reg, err
}

// SignUp registers a mentee or mentor account as RegisterFrom does, and
// signs the new member in from clientAddr in the same call, returning a
// bearer token and its session as Login does. The sign-in checks no
// password and counts against no sign-in limit: the account was just made
// with that password, and a call that created an account never answers
// with a refusal. Should the first session fail to start once the account
// exists, SignUp still succeeds, with an empty token and the session's
// actor, and the member signs in with Login.
func (s *Service) SignUp(ctx context.Context, role domain.Role, name, email, password, clientAddr string) (Registered, string, Session, error) {
	if role != domain.RoleMentee && role != domain.RoleMentor {
		return Registered{}, "", Session{}, invalidInput("role", "must be %s or %s", domain.RoleMentee, domain.RoleMentor)
	}
	reg, cred, err := s.register(ctx, role, name, email, password, clientAddr, false)
	if err != nil {
		return Registered{}, "", Session{}, err
	}
	fctx, cancel := detached(ctx)
	defer cancel()
	actor := domain.Actor{ID: cred.MemberID, Role: role}
	token, sess, err := s.issue(fctx, cred, clientAddr)
	if err != nil {
		s.logger(ctx).Error().Err(err).Str("member_id", cred.MemberID.String()).Msg("starting the first session of a new account, which stands")
		return reg, "", Session{Actor: actor}, nil
	}
	s.clearFailures(fctx, s.signInFor(role, cred.EmailKey, clientAddr), s.clock.Now(), false)
	return reg, token, sess, nil
}

// Register is RegisterFrom without a client address, so without a rate
// limit. Callers that serve a network client pass its address to
// RegisterFrom instead.
func (s *Service) Register(ctx context.Context, role domain.Role, name, email, password string) (Registered, error) {
	return s.RegisterFrom(ctx, role, name, email, password, "")
}

// CreateOperatorAccount creates a staff or auditor account on the
// operator's behalf (the system actor), for the CLI's users create. Errors
// are those of Register.
func (s *Service) CreateOperatorAccount(ctx context.Context, role domain.Role, name, email, password string) (Registered, error) {
	if role != domain.RoleStaff && role != domain.RoleAuditor {
		return Registered{}, invalidInput("role", "must be %s or %s", domain.RoleStaff, domain.RoleAuditor)
	}
	reg, _, err := s.register(ctx, role, name, email, password, "", true)
	return reg, err
}

// errSuperseded reports that another registration took over pending
// credentials while this one was recording the member.
var errSuperseded = errors.New("registration superseded")

// takeRegistration counts a registration from clientAddr, or refuses it
// with a rate-limited *refusal.Error when the address used up its allowance. It
// counts under keys of its own, so that sign-ups and sign-ins do not use
// up each other's allowance. An empty clientAddr is not limited.
func (s *Service) takeRegistration(ctx context.Context, clientAddr string) error {
	a := addressKey(clientAddr)
	if a == "" || s.opts.NoSignupLimit {
		return nil
	}
	l := &limiter{kind: "register", limits: Limits{PerAddress: s.opts.SignupsPerAddress}, store: s.store}
	return s.limited(LimitSignUp, l.take(ctx, s.clock.Now(), []counter{{key: l.kind + "/address/" + digest(a), rate: s.opts.SignupsPerAddress}}))
}

// register creates the account and returns it with its active
// credentials. Once the pending credentials are written it runs to the end
// whatever becomes of ctx, so that its answer is what happened.
func (s *Service) register(ctx context.Context, role domain.Role, name, email, password, clientAddr string, operator bool) (Registered, Credential, error) {
	email, key, err := cleanEmail(email)
	if err != nil {
		return Registered{}, Credential{}, err
	}
	if err := s.takeRegistration(ctx, clientAddr); err != nil {
		s.logger(ctx).Warn().Err(err).Str("role", string(role)).Str("client_addr", clientAddr).Msg("registration refused")
		return Registered{}, Credential{}, err
	}
	if err := CheckPassword("password", password); err != nil {
		return Registered{}, Credential{}, err
	}
	hash, err := s.hash(ctx, password)
	if err != nil {
		return Registered{}, Credential{}, wrapInternal("register", err)
	}
	fctx, cancel := detached(ctx)
	defer cancel()
	now := s.clock.Now()
	attempt := digest(uuid.NewString())
	var cred Credential
	var takeover bool
	err = s.store.UpdateCredential(fctx, role, key, func(cur *Credential) (*Credential, error) {
		takeover = cur != nil
		switch {
		case cur == nil:
			cred = Credential{MemberID: uuid.New(), Role: role, EmailKey: key, Email: email, CreatedAt: now}
		case cur.Status == StatusActive:
			return nil, ErrEmailTaken
		case cur.Attempt != "" && now.Sub(cur.AttemptAt) < registrationTimeout:
			return nil, ErrEmailTaken
		default:
			// A failed registration's leftovers: keep the member ID
			// and email, which the registrar may already have
			// recorded.
			cred = *cur
		}
		cred.PasswordHash, cred.Status, cred.Attempt, cred.AttemptAt, cred.PasswordChangedAt = hash, StatusPending, attempt, now, now
		return &cred, nil
	})
	if err != nil {
		return Registered{}, Credential{}, wrapInternal("register", err)
	}

	actor := domain.Actor{ID: cred.MemberID, Role: role}
	if operator {
		actor = domain.SystemActor()
	}
	req := command.Request{Actor: actor, CommandID: "register-" + cred.MemberID.String()}
	res, err := s.registrar.RegisterMember(fctx, req, cred.MemberID, role, name, cred.Email)
	if err != nil {
		// A refusal appended nothing, so fresh credentials can go; after
		// any other failure the event may have landed, so the member ID
		// is kept for the retry.
		s.withdraw(fctx, role, key, attempt, refusal.CodeOf(err) != "" && !takeover)
		return Registered{}, Credential{}, fmt.Errorf("register: %w", err)
	}
	var active Credential
	err = s.store.UpdateCredential(fctx, role, key, func(cur *Credential) (*Credential, error) {
		if cur == nil || cur.Attempt != attempt || cur.Status != StatusPending {
			return nil, errSuperseded
		}
		active = *cur
		active.Status, active.Attempt, active.AttemptAt = StatusActive, "", time.Time{}
		return &active, nil
	})
	if errors.Is(err, errSuperseded) {
		return Registered{}, Credential{}, ErrEmailTaken
	}
	if err != nil {
		s.withdraw(fctx, role, key, attempt, false)
		return Registered{}, Credential{}, fmt.Errorf("register: %w", err)
	}
	s.logger(ctx).Info().Str("member_id", cred.MemberID.String()).Str("role", string(role)).Bool("operator", operator).Msg("account registered")
	return Registered{MemberID: cred.MemberID, Position: res.Position}, active, nil
}

// withdraw undoes the pending credentials of a failed registration: it
// deletes them, or when the member may have been recorded, releases them
// for a retry to take over. It runs even when the request was cancelled.
// A failure leaves them pending, which is harmless, and is only logged.
func (s *Service) withdraw(ctx context.Context, role domain.Role, key, attempt string, remove bool) {
	err := s.store.UpdateCredential(context.WithoutCancel(ctx), role, key, func(cur *Credential) (*Credential, error) {
		if cur == nil || cur.Attempt != attempt || cur.Status != StatusPending {
			return cur, nil
		}
		if remove {
			return nil, nil
		}
		next := *cur
		next.Attempt, next.AttemptAt = "", time.Time{}
		return &next, nil
	})
	if err != nil {
		s.logger(ctx).Error().Err(err).Str("role", string(role)).Msg("withdrawing the credentials of a failed registration")
	}
}

// cleanEmail checks an email for registration and returns it trimmed and
// its key: trimmed and in lower case, so that uniqueness ignores case. The
// address parser takes any character beyond ASCII, so the domain's text
// check also refuses the invisible ones (a right-to-left override would
// make one address display as another).
func cleanEmail(email string) (string, string, error) {
	email = strings.TrimSpace(email)
	a, err := mail.ParseAddress(email)
	if err != nil || a.Name != "" || a.Address != email || len(email) > maxEmailBytes || domain.CheckText("email", email, domain.SingleLine) != nil {
		return "", "", invalidInput("email", "must be an email address such as name@example.org, at most %d bytes", maxEmailBytes)
	}
	return email, emailKey(email), nil
}

// emailKey normalizes an email for lookups.
func emailKey(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// wrapInternal prefixes infrastructure errors with the operation and
// passes refusals (*refusal.Error) through as they are, so that sentinels
// such as ErrInvalidCredentials keep their identity.
func wrapInternal(op string, err error) error {
	if err == nil || refusal.CodeOf(err) != "" {
		return err
	}
	return fmt.Errorf("%s: %w", op, err)
}
