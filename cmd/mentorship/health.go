package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mentorship/mentorship/config"
)

// health probes a running server's /readyz and succeeds only when it
// answers 200, so that a container's health check needs no shell and no
// curl. The address is --addr, or the server's own MENTORSHIP_ADDR (a
// wildcard host such as 0.0.0.0 is probed on the loopback address).
func health(ctx context.Context, args []string, env func(string) string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mentorship health", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "", "host:port or http(s) URL of the server to probe (default: MENTORSHIP_ADDR, as serve listens)")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("health: unexpected argument %q", fs.Arg(0))
	}
	if *timeout <= 0 {
		return errors.New("health: --timeout must be positive")
	}
	target := *addr
	if target == "" {
		// Only the address is read, so that the probe does not fail on a
		// setting the server itself reports.
		for _, s := range config.Settings {
			if s.Flag == "addr" {
				target = cmp.Or(env(s.Env), s.Default)
			}
		}
	}
	u, err := readyURL(target)
	if err != nil {
		return fmt.Errorf("health: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("health: %w", err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("health: %s: %w", u, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("health: %s answered %d: %s", u, res.StatusCode, strings.TrimSpace(string(body)))
	}
	fmt.Fprintf(stdout, "%s: %s\n", u, strings.TrimSpace(string(body)))
	return nil
}

// readyURL turns a listening address (host:port) or a server URL into the
// URL of its /readyz.
func readyURL(target string) (string, error) {
	if strings.Contains(target, "://") {
		u, err := url.Parse(target)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "", fmt.Errorf("address %q: want host:port or an http(s) URL", target)
		}
		u.Path = strings.TrimSuffix(u.Path, "/") + "/readyz"
		u.RawQuery, u.Fragment = "", ""
		return u.String(), nil
	}
	host, port, err := net.SplitHostPort(target)
	if err != nil || port == "" {
		return "", fmt.Errorf("address %q: want host:port or an http(s) URL", target)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/readyz", nil
}
