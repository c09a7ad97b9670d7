package config_test

import (
	"github.com/google/go-cmp/cmp"

	"errors"
	"flag"
	"io"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mentorship/mentorship/config"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestPrecedence(t *testing.T) {
	c, err := config.Load("serve", nil, envOf(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:8080" || c.DataDir != "./data" || c.Env != config.EnvDevelopment || c.MaxEventSize != 1<<20 {
		t.Fatalf("defaults: %+v", c)
	}
	env := envOf(map[string]string{"MENTORSHIP_ADDR": "127.0.0.1:9000", "MENTORSHIP_DATA_DIR": "/tmp/x"})
	c, err = config.Load("serve", []string{"--addr", "127.0.0.1:9100"}, env, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9100" {
		t.Fatalf("the flag did not win over the environment: %s", c.Addr)
	}
	if c.DataDir != "/tmp/x" {
		t.Fatalf("the environment did not win over the default: %s", c.DataDir)
	}
}

func TestBadValues(t *testing.T) {
	cases := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"unknown env", []string{"--env", "staging"}, nil, "--env"},
		{"bad duration", nil, map[string]string{"MENTORSHIP_SHUTDOWN_TIMEOUT": "soon"}, "MENTORSHIP_SHUTDOWN_TIMEOUT"},
		{"negative timeout", []string{"--shutdown-timeout", "-1s"}, nil, "positive"},
		{"tiny event size", []string{"--max-event-size", "10"}, nil, "max-event-size"},
		{"empty address", []string{"--addr", " "}, nil, "empty"},
		{"clock offset in production", []string{"--env", "production", "--clock-offset", "360h"}, nil, "refused in production"},
		{"positional argument", []string{"extra"}, nil, "unexpected argument"},
	}
	for _, tc := range cases {
		_, err := config.Load("serve", tc.args, envOf(tc.env), io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error mentioning %q", tc.name, err, tc.want)
		}
	}
	c, err := config.Load("serve", []string{"--clock-offset", "360h"}, envOf(nil), io.Discard)
	if err != nil || c.ClockOffset != 360*time.Hour {
		t.Fatalf("clock offset outside production: %v %v", c.ClockOffset, err)
	}
}

func TestHelp(t *testing.T) {
	var b strings.Builder
	_, err := config.Load("serve", []string{"-h"}, envOf(nil), &b)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("got %v, want flag.ErrHelp", err)
	}
	for _, s := range config.Settings {
		if !strings.Contains(b.String(), s.Env) {
			t.Errorf("help does not mention %s", s.Env)
		}
	}
}

// Every setting is documented in the README's configuration table.
func TestREADMEDocumentsEverySetting(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range config.Settings {
		row := "| `--" + s.Flag + "` | `" + s.Env + "` | `" + s.Default + "` |"
		if !strings.Contains(string(readme), row) {
			t.Errorf("README lacks the row starting %s", row)
		}
	}
}

// A read-only server serves its own data directory; with a Redis or
// KurrentDB URL it would show the live program instead, so that is refused.
func TestReadOnlyRefusesSharedStores(t *testing.T) {
	for _, extra := range [][]string{{"--redis-url", "redis://127.0.0.1:6379/0"}, {"--kurrentdb-url", "esdb://127.0.0.1:2113?tls=false"}} {
		_, err := config.Load("mentorship serve", append([]string{"--read-only"}, extra...), func(string) string { return "" }, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "read-only") {
			t.Errorf("--read-only with %v: %v", extra, err)
		}
	}
}

// Parse registers only the named settings as flags and reads the others
// from the environment.
func TestParseTakesOnlyTheNamedFlags(t *testing.T) {
	env := func(k string) string {
		if k == "MENTORSHIP_KURRENTDB_URL" {
			return "esdb://db:2113?tls=false"
		}
		return ""
	}
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	own := fs.String("format", "ndjson", "")
	cfg, err := config.Parse(fs, []string{"--data-dir", "elsewhere", "--format", "csv"}, env, "data-dir")
	if err != nil || cfg.DataDir != "elsewhere" || cfg.KurrentDBURL != "esdb://db:2113?tls=false" || *own != "csv" {
		t.Fatalf("got %+v, %q, %v", cfg, *own, err)
	}
	fs = flag.NewFlagSet("x", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if _, err := config.Parse(fs, []string{"--addr", ":1"}, env, "data-dir"); err == nil {
		t.Fatal("a setting that is not a flag of the command was accepted")
	}
}

func TestWriteWait(t *testing.T) {
	c, err := config.Load("serve", []string{"--write-wait", "250ms"}, envOf(nil), io.Discard)
	if err != nil || c.WriteWait != 250*time.Millisecond {
		t.Fatalf("got %v, %v", c.WriteWait, err)
	}
	if _, err := config.Load("serve", []string{"--write-wait", "0s"}, envOf(nil), io.Discard); err == nil {
		t.Fatal("a zero wait was accepted")
	}
}

func TestSignupLimit(t *testing.T) {
	for v, want := range map[string]config.SignupLimit{
		"50/15m": {Attempts: 50, Per: 15 * time.Minute},
		"200/1h": {Attempts: 200, Per: time.Hour},
		"off":    {Off: true},
	} {
		c, err := config.Load("serve", []string{"--signup-limit", v}, envOf(nil), io.Discard)
		if err != nil || c.SignupLimit != want {
			t.Errorf("%s: got %+v, %v", v, c.SignupLimit, err)
		}
	}
	for _, bad := range []string{"50", "0/1h", "-1/1h", "5/soon", "5/0s", "none"} {
		if _, err := config.Load("serve", []string{"--signup-limit", bad}, envOf(nil), io.Discard); err == nil {
			t.Errorf("%q was accepted", bad)
		}
	}
}

func TestTrustedProxies(t *testing.T) {
	c, err := config.Load("serve", []string{"--trusted-proxies", "10.0.0.0/8, 192.0.2.1,fd00::/8"}, envOf(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.1/32"), netip.MustParsePrefix("fd00::/8")}
	if !slices.Equal(c.TrustedProxies, want) {
		t.Fatalf("got %v, want %v", c.TrustedProxies, want)
	}
	if _, err := config.Load("serve", []string{"--trusted-proxies", "10.0.0.0/8,proxy.example.org"}, envOf(nil), io.Discard); err == nil {
		t.Fatal("a host name was accepted")
	}
}

// A MENTORSHIP_* variable that matches no setting is reported with the
// setting it is closest to; settings, extras, the tests' own variables
// and other programs' variables are not.
func TestUnknownVariables(t *testing.T) {
	got := config.UnknownVariables([]string{
		"MENTORSHIP_DATA_DIRR=/srv", "MENTORSHIP_DATA_DIR=/srv", "MENTORSHIP_REDISURL=redis://x",
		"MENTORSHIP_ACCEPT_SHORTER_LOG=true", "MENTORSHIP_TEST_REDIS_URL=redis://x", "PATH=/bin", "MENTORSHIP_SMTP_PASWORD",
	}, "MENTORSHIP_ACCEPT_SHORTER_LOG")
	want := []config.Unknown{
		{Name: "MENTORSHIP_DATA_DIRR", DidYouMean: "MENTORSHIP_DATA_DIR"},
		{Name: "MENTORSHIP_REDISURL", DidYouMean: "MENTORSHIP_REDIS_URL"},
		{Name: "MENTORSHIP_SMTP_PASWORD", DidYouMean: "MENTORSHIP_SMTP_PASSWORD"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("unknown variables (-want +got):\n%s", diff)
	}
}
