package seed_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/auth"
	authbolt "github.com/mentorship/mentorship/auth/bolt"
	"github.com/mentorship/mentorship/clock"
	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/mail"
	"github.com/mentorship/mentorship/seed"
)

// services are the real command and accounts services over a fresh data
// directory.
func services(t *testing.T, clk clock.Clock) (seed.Deps, eventstore.Store) {
	t.Helper()
	dir := t.TempDir()
	st := openStore(t)
	cmds, err := command.New(st, domain.DefaultProgram(), clk, command.Options{})
	if err != nil {
		t.Fatal(err)
	}
	authStore, err := authbolt.Open(dir, authbolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = authStore.Close() })
	box, err := mail.NewMailbox(filepath.Join(dir, mail.DirName), mail.MailboxOptions{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	acc, err := auth.New(authStore, cmds, box, clk, auth.Options{ResetURL: "http://127.0.0.1:8080/reset-password"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = acc.Close(context.Background()) })
	return seed.Deps{Commands: cmds, Accounts: acc, Clock: clk}, st
}

// matchesOf folds every match of the log with the domain.
func matchesOf(t *testing.T, deps seed.Deps, st eventstore.Store) []domain.Match {
	t.Helper()
	var out []domain.Match
	var from eventstore.Position
	for {
		recs, err := st.ReadAll(context.Background(), from, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 {
			return out
		}
		for _, r := range recs {
			from = r.Position
			if r.Type != "MatchRequested" {
				continue
			}
			var e struct {
				MatchID uuid.UUID `json:"matchId"`
			}
			if err := json.Unmarshal(r.Data, &e); err != nil {
				t.Fatal(err)
			}
			m, err := deps.Commands.Match(context.Background(), e.MatchID)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, m)
		}
	}
}

func statesOf(matches []domain.Match) map[string]int {
	out := map[string]int{}
	for _, m := range matches {
		out[string(m.Status())]++
		if m.Status() == domain.StatusEnded {
			out[m.EndReason()]++
		}
		if !m.LastNudgeAt().IsZero() {
			out["nudged"]++
		}
	}
	return out
}

func TestDemoWithAClockThatMovesHasTheWholeStory(t *testing.T) {
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	clk := clock.NewFake(now)
	deps, st := services(t, clk)
	creds, err := seed.Demo(context.Background(), deps)
	if err != nil {
		t.Fatal(err)
	}
	if !clk.Now().Equal(now) {
		t.Fatalf("the clock was left at %s", clk.Now())
	}
	if creds.Password != seed.DemoPassword || len(creds.Accounts) != 24 {
		t.Fatalf("credentials: %+v", creds)
	}
	roles := map[domain.Role]int{}
	for _, a := range creds.Accounts {
		roles[a.Role]++
		if _, _, err := deps.Accounts.Login(context.Background(), a.Role, a.Email, creds.Password, "127.0.0.1"); err != nil {
			t.Fatalf("%s cannot sign in: %v", a.Email, err)
		}
	}
	if roles[domain.RoleStaff] != 1 || roles[domain.RoleAuditor] != 1 || roles[domain.RoleMentor] != 12 || roles[domain.RoleMentee] != 10 {
		t.Fatalf("roles: %v", roles)
	}
	if creds.Accounts[0].Email != "staff@demo.example.org" || creds.Accounts[2].Email != "mentor01@demo.example.org" || creds.Accounts[23].Email != "mentee10@demo.example.org" {
		t.Fatalf("emails are not the documented ones: %+v", creds.Accounts)
	}

	matches := matchesOf(t, deps, st)
	got := statesOf(matches)
	for _, want := range []string{"PENDING", "ACTIVE", "DECLINED", "CANCELLED", "ENDED", "GRACEFUL_EXIT", "GOALS_CONCLUDED", "MOVED", "OTHER", "TERM_COMPLETED", "nudged"} {
		if got[want] == 0 {
			t.Errorf("no %s match: %v", want, got)
		}
	}
	var first, last time.Time
	for _, m := range matches {
		if first.IsZero() || m.RequestedAt().Before(first) {
			first = m.RequestedAt()
		}
		if m.RequestedAt().After(last) {
			last = m.RequestedAt()
		}
	}
	if now.Sub(first) < 365*24*time.Hour || last.After(now) {
		t.Fatalf("requests from %s to %s, want over a year before %s", first, last, now)
	}
}

func TestDemoWithTheSystemClockHasEveryMatchState(t *testing.T) {
	deps, st := services(t, clock.System{})
	if _, err := seed.Demo(context.Background(), deps); err != nil {
		t.Fatal(err)
	}
	got := statesOf(matchesOf(t, deps, st))
	for _, want := range []string{"PENDING", "ACTIVE", "DECLINED", "CANCELLED", "ENDED", "GRACEFUL_EXIT", "GOALS_CONCLUDED", "MOVED", "OTHER"} {
		if got[want] == 0 {
			t.Errorf("no %s match: %v", want, got)
		}
	}
	if got["TERM_COMPLETED"] != 0 {
		t.Fatalf("a term completed without time passing: %v", got)
	}

	// The emails are taken now, so a second demo is refused.
	if _, err := seed.Demo(context.Background(), deps); !errors.Is(err, auth.ErrEmailTaken) {
		t.Fatalf("second demo: %v, want the email taken", err)
	}
}

func TestDemoNeedsItsServices(t *testing.T) {
	if _, err := seed.Demo(context.Background(), seed.Deps{}); err == nil {
		t.Fatal("no error without services")
	}
}
