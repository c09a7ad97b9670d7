// Package auth is the accounts and sign-in core: it registers accounts,
// signs members in and out with opaque bearer tokens, changes and resets
// passwords, and limits the rate of guesses. The GraphQL layer and the CLI
// call a *Service; storage sits behind Store (auth/bolt by default) and
// email behind mail.Sender.
//
// # Accounts
//
// An account is a role and an email. Mentee and mentor accounts are
// separate, with separate logins: one email may hold both, each with its
// own member ID and password, and a mentee's credentials never open a
// mentor session. Emails are unique per role without regard to case.
// Staff and auditor accounts are created by the operator.
//
// Passwords are hashed with argon2id (DefaultParams: 19 MiB, 2 iterations,
// 1 lane, 16-byte salt) into PHC strings. They must have at least
// MinPasswordLength characters and at most MaxPasswordBytes bytes, and are
// never shortened.
//
// # Tokens
//
// Session and reset tokens are 256 random bits, URL-safe, stored only as
// SHA-256 hashes. Sessions end after IdleTimeout unused or MaxSessionAge in
// all. Each account's credentials carry a generation that every password
// change or reset bumps in the same write as the new hash; a session or
// reset token is valid only under the generation it was issued in, so
// revocation is immediate and atomic. Watch ties a context to a session
// for the lifetime of a WebSocket connection.
//
// # Enumeration and guessing
//
// Sign-in answers ErrInvalidCredentials, the same value, for an unknown
// email, a wrong password and the wrong role, after the same argon2id work.
// Reset requests answer nil whether or not the account exists and defer
// all account-dependent work to a background worker. Sign-ins and reset
// requests are limited per account and per client address with sliding
// windows kept in the store. Sign-ins count failures only, each recorded
// once the password is checked in one transaction with a fresh look at the
// counts, so concurrent guesses (GraphQL aliases) are answered no more
// often than the limits allow, while concurrent correct passwords never
// hold each other back; nothing is stored for an attempt in flight. The
// per-account count does not apply from addresses the account signed in
// from, so guesses from elsewhere cannot lock the owner out (see Limits).
//
// # Honest answers
//
// A refusal changes nothing, and a call that changed something answers
// success: once a change is durable, or about to be, the steps after it
// run whatever becomes of the request's context, and an operation that
// revokes its own session (sign-out, password change) keeps its request's
// context alive until the request ends.
//
// # Wiring
//
// At start-up, in the data directory:
//
//	authStore, err := authbolt.Open(cfg.DataDir, authbolt.Options{})  // auth.db
//	mailbox, err := mail.NewMailbox(filepath.Join(cfg.DataDir, mail.DirName), mail.MailboxOptions{Clock: clk})
//	accounts, err := auth.New(authStore, commands, mailbox, clk, auth.Options{
//		ResetURL: frontendURL + "/reset-password", // the React app's reset page
//		Logger:   log,
//	})
//	defer accounts.Close(ctx) // then authStore.Close()
//
// commands is the *command.Service, which implements Registrar.
//
// Several API instances share the records in Redis instead (auth/redis),
// and link up so that a sign-out or a password change through one also
// ends the WebSocket connections of the session held by the others:
//
//	redisOpts := authredis.Options{Prefix: prefix, Clock: clk, Logger: log}
//	authStore, err := authredis.New(redisClient, redisOpts)
//	revocations, err := authredis.NewRevocations(ctx, redisClient, redisOpts)
//	accounts, err := auth.New(authStore, commands, mailbox, clk, auth.Options{
//		ResetURL:    frontendURL + "/reset-password",
//		Revocations: revocations,
//		Logger:      log,
//	})
//	defer revocations.Close() // after accounts.Close(ctx)
//
// GraphQL mutations map one to one; clientAddr is the request's remote IP:
//
//	registerMentee/registerMentor  SignUp(ctx, domain.RoleMentee|RoleMentor, name, email, password, clientAddr) -> Registered{MemberID, Position}, token, Session
//	loginMentee/loginMentor        Login(ctx, domain.RoleMentee|RoleMentor, email, password, clientAddr) -> token, Session
//	logout                         Logout(ctx, token)
//	changePassword                 ChangePassword(ctx, token, currentPassword, newPassword, clientAddr) -> new token, Session
//	requestPasswordReset           RequestPasswordReset(ctx, role, email, clientAddr)
//	resetPassword                  ResetPasswordFrom(ctx, resetToken, newPassword, clientAddr) -> domain.Actor
//
// Every request with an "Authorization: Bearer <token>" header (or a
// connection_init payload) goes through Authenticate, which returns the
// domain.Actor for command.Request. A WebSocket connection then holds
// Watch(ctx, session) as its context and closes when it ends, reporting
// context.Cause. The CLI's "users create --role staff|auditor" calls
// CreateOperatorAccount and then Close.
//
// Refusals are *refusal.Error values with a stable code (refusal.CodeOf
// extracts it), a Field when one input is at fault, a user-fit Message and,
// when rate limited, RetryAfter: map them to userErrors, or TOKEN_* codes to
// UNAUTHENTICATED. Registration may also return the registrar's
// *refusal.Error (a bad name). Anything else is an infrastructure failure
// to log and hide.
package auth
