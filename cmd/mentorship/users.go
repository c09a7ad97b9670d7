package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mentorship/mentorship/clock"
	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/config"
	"github.com/mentorship/mentorship/domain"
)

// users manages the accounts only the operator creates: staff and
// auditors. The password is read from standard input, so it never shows in
// the process list or the shell history.
func users(ctx context.Context, args []string, env func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprintln(stderr, "Usage: mentorship users create --role staff|auditor --email EMAIL --name NAME < password")
		return errUsage
	}
	fs := flag.NewFlagSet("mentorship users create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	role := fs.String("role", "", "staff or auditor")
	email := fs.String("email", "", "the account's email")
	name := fs.String("name", "", "the person's name (defaults to the email)")
	cfg, err := config.Parse(fs, args[1:], env, logFlags...)
	if err != nil {
		return err
	}
	var r domain.Role
	switch strings.ToLower(*role) {
	case "staff":
		r = domain.RoleStaff
	case "auditor":
		r = domain.RoleAuditor
	default:
		return fmt.Errorf("users create: --role must be staff or auditor, not %q", *role)
	}
	if *email == "" {
		return errors.New("users create: --email is required")
	}
	if *name == "" {
		*name = *email
	}
	password, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("users create: reading the password: %w", err)
	}
	password = strings.TrimRight(password, "\r\n")

	store, err := openStore(ctx, cfg, prometheus.NewRegistry())
	if err != nil {
		if cfg.KurrentDBURL == "" {
			return fmt.Errorf("users create: %w (stop the server first: the embedded store has one writer)", err)
		}
		return fmt.Errorf("users create: %w", err)
	}
	defer store.Close()
	keys, closeKeys, err := openKeys(ctx, cfg, store, true)
	if err != nil {
		return fmt.Errorf("users create: %w", err)
	}
	defer closeKeys()
	store = sealStore(store, keys)
	clk := clock.System{Offset: cfg.ClockOffset}
	commands, err := command.New(store, cfg.Program, clk, command.Options{})
	if err != nil {
		return err
	}
	accounts, closers, err := newAccounts(cfg, newLogger(cfg, stderr), clk, commands)
	if err != nil {
		return err
	}
	defer func() {
		for i := len(closers) - 1; i >= 0; i-- {
			_ = closers[i]()
		}
	}()
	reg, err := accounts.CreateOperatorAccount(ctx, r, *name, *email, password)
	if err != nil {
		return fmt.Errorf("users create: %w", err)
	}
	fmt.Fprintf(stdout, "created %s account %s for %s\n", strings.ToLower(string(r)), reg.MemberID, *email)
	return nil
}
