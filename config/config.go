// Package config reads the server's settings from flags and MENTORSHIP_*
// environment variables. Flags win over the environment, which wins over the
// defaults. One table describes every setting, so the flags, the help text and
// the README's table cannot drift apart.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/agnivade/levenshtein"

	"github.com/mentorship/mentorship/domain"
)

// Environments the server knows. Production turns off GraphiQL,
// introspection, the demo data and the clock offset.
const (
	EnvDevelopment = "development"
	EnvProduction  = "production"
)

// Config holds every setting of the server.
type Config struct {
	Addr      string
	DataDir   string
	Env       string
	LogLevel  string
	LogFormat string
	// AccessLogEvery makes one request in every AccessLogEvery write an
	// access line; 0 writes none but those answered with a server error.
	AccessLogEvery  uint32
	MaxEventSize    int
	ShutdownTimeout time.Duration
	WriteWait       time.Duration
	// QueryLimits bound what one GraphQL operation may cost, measured on
	// the operation as it executes.
	QueryLimits QueryLimits
	// MaxSubscriptions caps the subscriptions one account holds open.
	MaxSubscriptions int
	SignupLimit      SignupLimit
	ClockOffset      time.Duration
	FrontendURL      string
	AllowedOrigins   []string
	TrustedProxies   []netip.Prefix
	ProgramName      string
	ProgramFile      string
	// Program is what ProgramFile makes of the program guide's settings
	// (the guide's own with no file), read and checked once at load.
	Program domain.Program
	BlobURL string
	// MasterKeyURL names the master key that wraps members' data keys
	// (gocloud.dev/secrets); empty in development keeps one in DataDir.
	MasterKeyURL string
	KurrentDBURL string
	RedisURL     string
	RedisPrefix  string
	Workers      bool
	// WorkerLeaseTTL is how long a worker's lease in Redis outlives its
	// holder's last renewal: how soon another instance takes over.
	WorkerLeaseTTL time.Duration
	ReadOnly       bool
	SMTPHost       string
	SMTPPort       int
	SMTPTLS        string
	SMTPUsername   string
	SMTPPassword   string
	MailFrom       string
	StaffEmail     string
	Demo           bool
}

// QueryLimits are the settings of the GraphQL cost model; see
// graph.Limits for what each counts.
type QueryLimits struct {
	MaxDepth      int
	MaxFields     int
	MaxComplexity int
	Timeout       time.Duration
}

// SignupLimit is how many sign-ups one client address may attempt in a
// window; Off turns the limit off.
type SignupLimit struct {
	Attempts int
	Per      time.Duration
	Off      bool
}

func parseSignupLimit(v string) (SignupLimit, error) {
	if v == "off" {
		return SignupLimit{Off: true}, nil
	}
	n, per, ok := strings.Cut(v, "/")
	attempts, err1 := strconv.Atoi(n)
	d, err2 := time.ParseDuration(per)
	if !ok || err1 != nil || err2 != nil || attempts < 1 || d <= 0 {
		return SignupLimit{}, errors.New("want N/duration such as 50/15m, or off")
	}
	return SignupLimit{Attempts: attempts, Per: d}, nil
}

// Engine names the event store engine the settings choose.
func (c Config) Engine() string {
	if c.KurrentDBURL != "" {
		return "kurrentdb"
	}
	return "embedded"
}

// Production reports whether the server runs in production.
func (c Config) Production() bool { return c.Env == EnvProduction }

// Setting describes one configuration value.
type Setting struct {
	// Flag is the command-line name, without dashes.
	Flag string
	// Env is the environment variable.
	Env string
	// Default is the value used when neither is given.
	Default string
	// Usage says what the setting does.
	Usage string
	// Bool settings may be given as a bare flag (--read-only).
	Bool bool
	set  func(*Config, string) error
}

// stringValue is a flag holding text; as a bool flag it may stand alone.
type stringValue struct {
	v      string
	isBool bool
}

func (s *stringValue) String() string     { return s.v }
func (s *stringValue) Set(v string) error { s.v = v; return nil }
func (s *stringValue) IsBoolFlag() bool   { return s.isBool }

// Settings lists every setting in the order the help text shows them.
var Settings = []Setting{
	{Flag: "addr", Env: "MENTORSHIP_ADDR", Default: "127.0.0.1:8080", Usage: "host:port the HTTP server listens on",
		set: func(c *Config, v string) error { c.Addr = v; return nonEmpty(v) }},
	{Flag: "data-dir", Env: "MENTORSHIP_DATA_DIR", Default: "./data", Usage: "directory of the embedded event store and read-model snapshots",
		set: func(c *Config, v string) error { c.DataDir = v; return nonEmpty(v) }},
	{Flag: "env", Env: "MENTORSHIP_ENV", Default: EnvDevelopment, Usage: "development or production; production turns off GraphiQL, introspection, demo data and the clock offset",
		set: func(c *Config, v string) error {
			c.Env = v
			if v != EnvDevelopment && v != EnvProduction {
				return fmt.Errorf("want %q or %q", EnvDevelopment, EnvProduction)
			}
			return nil
		}},
	{Flag: "log-level", Env: "MENTORSHIP_LOG_LEVEL", Default: "info", Usage: "debug, info, warn or error",
		set: func(c *Config, v string) error {
			c.LogLevel = v
			switch v {
			case "debug", "info", "warn", "error":
				return nil
			}
			return errors.New("want debug, info, warn or error")
		}},
	{Flag: "log-format", Env: "MENTORSHIP_LOG_FORMAT", Default: "auto", Usage: "auto (readable on a terminal, JSON otherwise), console or json",
		set: func(c *Config, v string) error {
			c.LogFormat = v
			switch v {
			case "auto", "console", "json":
				return nil
			}
			return errors.New("want auto, console or json")
		}},
	{Flag: "access-log-every", Env: "MENTORSHIP_ACCESS_LOG_EVERY", Default: "1", Usage: "write the access line (at info) of one request in every N; 0 writes none, and a request answered with a server error always writes one",
		set: func(c *Config, v string) error {
			n, err := intBetween(v, 0, 1_000_000)
			c.AccessLogEvery = uint32(n)
			return err
		}},
	{Flag: "max-event-size", Env: "MENTORSHIP_MAX_EVENT_SIZE", Default: "1048576", Usage: "largest event the store accepts, in bytes",
		set: func(c *Config, v string) (err error) {
			c.MaxEventSize, err = strconv.Atoi(v)
			if err == nil && (c.MaxEventSize < 1024 || c.MaxEventSize > 64<<20) {
				err = errors.New("want 1024 to 67108864 bytes")
			}
			return err
		}},
	{Flag: "shutdown-timeout", Env: "MENTORSHIP_SHUTDOWN_TIMEOUT", Default: "10s", Usage: "how long a graceful shutdown waits for requests in flight",
		set: func(c *Config, v string) (err error) {
			c.ShutdownTimeout, err = positiveDuration(v)
			return err
		}},
	{Flag: "write-wait", Env: "MENTORSHIP_WRITE_WAIT", Default: "5s", Usage: "how long a mutation waits for the read models to show its change before answering (read-your-writes); past it the change is saved and the answer says so",
		set: func(c *Config, v string) (err error) {
			c.WriteWait, err = positiveDuration(v)
			return err
		}},
	{Flag: "max-query-depth", Env: "MENTORSHIP_MAX_QUERY_DEPTH", Default: "12", Usage: "how deeply one GraphQL operation's fields may nest",
		set: func(c *Config, v string) (err error) {
			c.QueryLimits.MaxDepth, err = intBetween(v, 1, 100)
			return err
		}},
	{Flag: "max-query-fields", Env: "MENTORSHIP_MAX_QUERY_FIELDS", Default: "10000", Usage: "how many fields one GraphQL operation may resolve, fragments expanded and each list counted at its page size",
		set: func(c *Config, v string) (err error) {
			c.QueryLimits.MaxFields, err = intBetween(v, 10, 10_000_000)
			return err
		}},
	{Flag: "max-query-complexity", Env: "MENTORSHIP_MAX_QUERY_COMPLEXITY", Default: "1000", Usage: "how many objects one GraphQL operation may resolve, fragments expanded and each list counted at its page size",
		set: func(c *Config, v string) (err error) {
			c.QueryLimits.MaxComplexity, err = intBetween(v, 10, 10_000_000)
			return err
		}},
	{Flag: "query-timeout", Env: "MENTORSHIP_QUERY_TIMEOUT", Default: "10s", Usage: "how long a GraphQL query may run before its resolvers are stopped (mutations always run to their answer)",
		set: func(c *Config, v string) (err error) {
			c.QueryLimits.Timeout, err = positiveDuration(v)
			return err
		}},
	{Flag: "max-subscriptions", Env: "MENTORSHIP_MAX_SUBSCRIPTIONS", Default: "50", Usage: "how many subscriptions one account may hold open at once, over all its connections",
		set: func(c *Config, v string) (err error) {
			c.MaxSubscriptions, err = intBetween(v, 1, 100_000)
			return err
		}},
	{Flag: "signup-limit", Env: "MENTORSHIP_SIGNUP_LIMIT", Default: "50/15m", Usage: "sign-ups one client address may attempt, as N/duration (such as 200/1h), or off (for load tests, or when a proxy in front limits them)",
		set: func(c *Config, v string) (err error) {
			c.SignupLimit, err = parseSignupLimit(v)
			return err
		}},
	{Flag: "frontend-url", Env: "MENTORSHIP_FRONTEND_URL", Default: "http://127.0.0.1:8080", Usage: "base URL of the frontend, for links in emails (password reset, match requests)",
		set: func(c *Config, v string) error {
			c.FrontendURL = strings.TrimRight(v, "/")
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return errors.New("want an http or https URL")
			}
			return nil
		}},
	{Flag: "trusted-proxies", Env: "MENTORSHIP_TRUSTED_PROXIES", Default: "", Usage: "comma-separated addresses or CIDR networks of the reverse proxies in front of the server, whose X-Forwarded-For names the client for rate limits and logs; empty trusts none",
		set: func(c *Config, v string) error {
			c.TrustedProxies = nil
			for _, item := range strings.Split(v, ",") {
				item = strings.TrimSpace(item)
				if item == "" {
					continue
				}
				p, err := netip.ParsePrefix(item)
				if err != nil {
					a, aerr := netip.ParseAddr(item)
					if aerr != nil {
						return fmt.Errorf("%q is neither an address nor a CIDR network", item)
					}
					p = netip.PrefixFrom(a, a.BitLen())
				}
				c.TrustedProxies = append(c.TrustedProxies, p.Masked())
			}
			return nil
		}},
	{Flag: "allowed-origins", Env: "MENTORSHIP_ALLOWED_ORIGINS", Default: "", Usage: "comma-separated browser origins (host patterns such as app.example.org or localhost:*) allowed to call the API from their pages (CORS) and to open WebSockets, besides the server's own",
		set: func(c *Config, v string) error {
			c.AllowedOrigins = nil
			for _, o := range strings.Split(v, ",") {
				if o = strings.TrimSpace(o); o != "" {
					c.AllowedOrigins = append(c.AllowedOrigins, o)
				}
			}
			return nil
		}},
	{Flag: "program-name", Env: "MENTORSHIP_PROGRAM_NAME", Default: "Mentorship", Usage: "the program's name in emails",
		set: func(c *Config, v string) error { c.ProgramName = v; return nonEmpty(v) }},
	{Flag: "program-file", Env: "MENTORSHIP_PROGRAM_FILE", Default: "", Usage: "a YAML or JSON file changing the program's settings (lists, windows, term, limits, time zone); empty means the program guide's defaults; `mentorship program` prints them in this form",
		set: func(c *Config, v string) error {
			c.ProgramFile = v
			var err error
			c.Program, err = LoadProgram(v)
			return err
		}},
	{Flag: "blob-url", Env: "MENTORSHIP_BLOB_URL", Default: "", Usage: "where documents' bytes live: a gocloud.dev/blob URL such as s3://bucket?endpoint=...; empty means the blobs folder of the data directory",
		set: func(c *Config, v string) error { c.BlobURL = v; return nil }},
	{Flag: "kurrentdb-url", Env: "MENTORSHIP_KURRENTDB_URL", Default: "", Usage: "a KurrentDB connection string (esdb://host:2113?tls=false) to keep events there instead of the embedded store",
		set: func(c *Config, v string) error {
			c.KurrentDBURL = v
			if v != "" && !strings.Contains(v, "://") {
				return errors.New("want a connection string such as esdb://127.0.0.1:2113?tls=false")
			}
			return nil
		}},
	{Flag: "redis-url", Env: "MENTORSHIP_REDIS_URL", Default: "", Usage: "a Redis URL (redis://host:6379/0; a cluster as redis://host1:6379?addr=host2:6379) to share read models, sign-ins, rate limits and live updates between API instances; empty keeps them in this process and its data directory",
		set: func(c *Config, v string) error {
			c.RedisURL = v
			if v != "" && !strings.HasPrefix(v, "redis://") && !strings.HasPrefix(v, "rediss://") {
				return errors.New("want a URL such as redis://127.0.0.1:6379/0")
			}
			return nil
		}},
	{Flag: "redis-prefix", Env: "MENTORSHIP_REDIS_PREFIX", Default: "mentorship", Usage: "the namespace of every Redis key and channel; instances of one program share it",
		set: func(c *Config, v string) error { c.RedisPrefix = v; return nonEmpty(v) }},
	{Flag: "workers", Env: "MENTORSHIP_WORKERS", Default: "true", Bool: true, Usage: "run the email outbox and the time-driven rules here; with Redis, every instance that does competes for each worker's lease and runs it while it holds it, with its state in Redis",
		set: func(c *Config, v string) (err error) {
			c.Workers, err = strconv.ParseBool(v)
			return err
		}},
	{Flag: "worker-lease-ttl", Env: "MENTORSHIP_WORKER_LEASE_TTL", Default: "5s", Usage: "with Redis, how long a worker's lease outlives its holder's last renewal: another instance takes the worker over within about this long after the holder dies",
		set: func(c *Config, v string) (err error) {
			c.WorkerLeaseTTL, err = positiveDuration(v)
			if err == nil && c.WorkerLeaseTTL < 100*time.Millisecond {
				err = errors.New("want at least 100ms")
			}
			return err
		}},
	{Flag: "read-only", Env: "MENTORSHIP_READ_ONLY", Default: "false", Bool: true, Usage: "serve a data directory for inspection only (such as one made by replay --out): every change is refused",
		set: func(c *Config, v string) (err error) {
			c.ReadOnly, err = strconv.ParseBool(v)
			return err
		}},
	{Flag: "smtp-host", Env: "MENTORSHIP_SMTP_HOST", Default: "", Usage: "SMTP relay for the program's emails; empty writes them as .eml files into the data directory's mailbox folder",
		set: func(c *Config, v string) error { c.SMTPHost = v; return nil }},
	{Flag: "smtp-port", Env: "MENTORSHIP_SMTP_PORT", Default: "587", Usage: "SMTP port (465 with implicit TLS)",
		set: func(c *Config, v string) (err error) {
			c.SMTPPort, err = strconv.Atoi(v)
			if err == nil && (c.SMTPPort < 1 || c.SMTPPort > 65535) {
				err = errors.New("want 1 to 65535")
			}
			return err
		}},
	{Flag: "smtp-tls", Env: "MENTORSHIP_SMTP_TLS", Default: "mandatory", Usage: "SMTP TLS policy: none, opportunistic, mandatory (STARTTLS) or implicit",
		set: func(c *Config, v string) error {
			c.SMTPTLS = v
			switch v {
			case "none", "opportunistic", "mandatory", "implicit":
				return nil
			}
			return errors.New("want none, opportunistic, mandatory or implicit")
		}},
	{Flag: "smtp-username", Env: "MENTORSHIP_SMTP_USERNAME", Default: "", Usage: "SMTP user name, when the relay wants one",
		set: func(c *Config, v string) error { c.SMTPUsername = v; return nil }},
	{Flag: "smtp-password", Env: "MENTORSHIP_SMTP_PASSWORD", Default: "", Usage: "SMTP password (prefer the environment variable to the flag)",
		set: func(c *Config, v string) error { c.SMTPPassword = v; return nil }},
	{Flag: "mail-from", Env: "MENTORSHIP_MAIL_FROM", Default: "Mentorship <no-reply@mentorship.invalid>", Usage: "the sender of the program's emails",
		set: func(c *Config, v string) error { c.MailFrom = v; return nonEmpty(v) }},
	{Flag: "staff-email", Env: "MENTORSHIP_STAFF_EMAIL", Default: "", Usage: "the staff contact address shown in emails; it also receives nudge requests",
		set: func(c *Config, v string) error { c.StaffEmail = v; return nil }},
	{Flag: "master-key-url", Env: "MENTORSHIP_MASTER_KEY_URL", Default: "", Usage: "the master key that wraps each member's data key: awskms://, gcpkms://, hashivault:// or base64key://KEY (required in production and with a KurrentDB URL, where every instance needs the same one); empty in development keeps a generated key in the data directory (prefer the environment variable to the flag)",
		set: func(c *Config, v string) error { c.MasterKeyURL = v; return nil }},
	{Flag: "demo", Env: "MENTORSHIP_DEMO", Default: "true", Bool: true, Usage: "load the demo program into an empty store at start and print its sign-in credentials (never in production); 0 or false turns it off",
		set: func(c *Config, v string) (err error) {
			c.Demo, err = strconv.ParseBool(v)
			return err
		}},
	{Flag: "clock-offset", Env: "MENTORSHIP_CLOCK_OFFSET", Default: "0s", Usage: "shifts the program's clock (e.g. 360h) to watch time rules act; refused in production",
		set: func(c *Config, v string) (err error) {
			c.ClockOffset, err = time.ParseDuration(v)
			return err
		}},
}

func nonEmpty(v string) error {
	if strings.TrimSpace(v) == "" {
		return errors.New("must not be empty")
	}
	return nil
}

// intBetween reads a whole number from lo to hi.
func intBetween(v string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("want a whole number from %d to %d", lo, hi)
	}
	return n, nil
}

func positiveDuration(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err == nil && d <= 0 {
		err = errors.New("must be positive")
	}
	return d, err
}

// Load parses args (flags only, no positional arguments) with env as the
// environment. It returns flag.ErrHelp when help was asked for, after
// printing it to out.
func Load(name string, args []string, env func(string) string, out io.Writer) (Config, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	return Parse(fs, args, env)
}

// Parse is Load for a command with flags of its own: it adds the named
// settings (every setting when none are named) to fs as flags, parses args
// and reads the rest of the settings from env. Positional arguments are
// refused.
func Parse(fs *flag.FlagSet, args []string, env func(string) string, flags ...string) (Config, error) {
	values := make(map[string]*stringValue, len(Settings))
	for _, s := range Settings {
		if len(flags) > 0 && !slices.Contains(flags, s.Flag) {
			continue
		}
		values[s.Flag] = &stringValue{isBool: s.Bool}
		fs.Var(values[s.Flag], s.Flag, fmt.Sprintf("%s (env %s, default %q)", s.Usage, s.Env, s.Default))
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var c Config
	var errs []error
	for _, s := range Settings {
		v := s.Default
		source := "default"
		if e := env(s.Env); e != "" {
			v, source = e, s.Env
		}
		if given[s.Flag] && values[s.Flag] != nil {
			v, source = values[s.Flag].v, "--"+s.Flag
		}
		if err := s.set(&c, v); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: %w", source, v, err))
		}
	}
	if c.ReadOnly && (c.RedisURL != "" || c.KurrentDBURL != "") {
		errs = append(errs, errors.New("read-only serves a data directory of its own (such as one made by replay --out); it does not go with a Redis or KurrentDB URL, which would show the live program"))
	}
	if c.Production() && c.ClockOffset != 0 {
		errs = append(errs, errors.New("a clock offset is refused in production"))
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, fmt.Errorf("configuration: %w", err)
	}
	return c, nil
}

// Unknown is a MENTORSHIP_* environment variable that matches no
// setting, and the setting's variable it is closest to.
type Unknown struct {
	Name       string
	DidYouMean string
}

// UnknownVariables returns the MENTORSHIP_* variables of environ (as
// os.Environ gives them) that match no setting nor one of extra, each with
// the setting's variable closest in spelling, so that a misspelled setting
// is reported instead of silently ignored. Variables starting with
// MENTORSHIP_TEST_ belong to the tests.
func UnknownVariables(environ []string, extra ...string) []Unknown {
	known := make([]string, 0, len(Settings)+len(extra))
	for _, s := range Settings {
		known = append(known, s.Env)
	}
	known = append(known, extra...)
	var out []Unknown
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "MENTORSHIP_") || strings.HasPrefix(name, "MENTORSHIP_TEST_") || slices.Contains(known, name) {
			continue
		}
		u := Unknown{Name: name}
		best := -1
		for _, k := range known {
			if d := levenshtein.ComputeDistance(name, k); best < 0 || d < best {
				best, u.DidYouMean = d, k
			}
		}
		out = append(out, u)
	}
	return out
}
