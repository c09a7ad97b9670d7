package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/mentorship/mentorship/clock"
	"github.com/mentorship/mentorship/config"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/seed"
)

// loadDemo fills an empty store with the demo program, outside production
// and unless turned off, and prints how to sign in to it. A store that holds
// anything is left alone.
func loadDemo(ctx context.Context, cfg config.Config, a *api, head eventstore.Position, out io.Writer) error {
	if !cfg.Demo || cfg.Production() || cfg.ReadOnly || head != eventstore.Start {
		return nil
	}
	creds, err := seed.Demo(ctx, seed.Deps{Commands: a.commands, Accounts: a.accounts, Clock: clock.System{Offset: cfg.ClockOffset}})
	if err != nil {
		if cfg.ProgramFile != "" {
			return fmt.Errorf("demo program (its profiles use the program guide's lists; MENTORSHIP_DEMO=0 starts empty): %w", err)
		}
		return fmt.Errorf("demo program: %w", err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Loaded the demo program (MENTORSHIP_DEMO=0 turns this off). Every account's password is %q:\n", creds.Password)
	for _, acc := range creds.Accounts {
		fmt.Fprintf(&b, "  %-8s %-28s %s\n", strings.ToLower(string(acc.Role)), acc.Email, acc.Name)
	}
	_, err = io.WriteString(out, b.String())
	return err
}
