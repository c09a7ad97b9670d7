package deploy

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/mentorship/mentorship/config"
)

// loadCompose loads a compose file as docker compose would, validating
// it against the compose specification, with no variables set (so that
// every default in the file applies).
func loadCompose(t *testing.T, path string) (*types.Project, error) {
	t.Helper()
	opts, err := cli.NewProjectOptions([]string{path}, cli.WithWorkingDirectory(filepath.Dir(path)), cli.WithEnv(nil), cli.WithName("mentorship"))
	if err != nil {
		t.Fatal(err)
	}
	return opts.LoadProject(context.Background())
}

// pinnedImage is an image with an explicit version tag, never latest.
var pinnedImage = regexp.MustCompile(`^[a-z0-9./-]+:[0-9]+(\.[0-9]+)+[A-Za-z0-9._-]*$`)

// The compose file is valid, and starts what an operator expects: pinned
// images, the API built from the Dockerfile, health checks everywhere,
// restarts, the API waiting for healthy KurrentDB and Redis, Redis
// persisting every write, and only known settings.
func TestComposeFile(t *testing.T) {
	p, err := loadCompose(t, "../docker-compose.yml")
	if err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	dockerfile, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	names := p.ServiceNames()
	slices.Sort(names)
	if want := []string{"api1", "api2", "kurrentdb", "redis"}; !slices.Equal(names, want) {
		t.Fatalf("services %v, want %v", names, want)
	}
	workers := 0
	for name, s := range p.Services {
		if s.Restart != types.RestartPolicyUnlessStopped {
			t.Errorf("%s: restart %q, want unless-stopped", name, s.Restart)
		}
		if s.HealthCheck == nil || s.HealthCheck.Disable || len(s.HealthCheck.Test) < 2 {
			t.Errorf("%s: no health check", name)
		}
		if !strings.HasPrefix(name, "api") {
			if !pinnedImage.MatchString(s.Image) {
				t.Errorf("%s: image %q is not pinned to a version", name, s.Image)
			}
			continue
		}
		if s.Build == nil || filepath.Clean(s.Build.Context) != filepath.Clean(p.WorkingDir) {
			t.Errorf("%s: not built from the repository's Dockerfile: %+v", name, s.Build)
		}
		if got := strings.Join(s.HealthCheck.Test, " "); got != "CMD /usr/local/bin/mentorship health" || !strings.Contains(string(dockerfile), `ENTRYPOINT ["/usr/local/bin/mentorship"]`) {
			t.Errorf("%s: health check %q does not run the image's health command", name, got)
		}
		for _, dep := range []string{"kurrentdb", "redis"} {
			if d, ok := s.DependsOn[dep]; !ok || d.Condition != types.ServiceConditionHealthy {
				t.Errorf("%s: depends on %s %+v, want condition service_healthy", name, dep, d)
			}
		}
		env := map[string]string{}
		var environ []string
		for k, v := range s.Environment {
			if v != nil {
				env[k] = *v
			}
			environ = append(environ, k+"=")
		}
		for _, u := range config.UnknownVariables(environ) {
			t.Errorf("%s: %s is not a setting (did you mean %s?)", name, u.Name, u.DidYouMean)
		}
		for k, want := range map[string]string{
			"MENTORSHIP_ENV": "production", "MENTORSHIP_DATA_DIR": "/data", "MENTORSHIP_DEMO": "false",
			"MENTORSHIP_KURRENTDB_URL": "esdb://kurrentdb:2113?tls=false", "MENTORSHIP_REDIS_URL": "redis://redis:6379/0",
		} {
			if env[k] != want {
				t.Errorf("%s: %s=%q, want %q", name, k, env[k], want)
			}
		}
		for _, k := range []string{"MENTORSHIP_FRONTEND_URL", "MENTORSHIP_ALLOWED_ORIGINS", "MENTORSHIP_SMTP_HOST", "MENTORSHIP_SMTP_USERNAME",
			"MENTORSHIP_SMTP_PASSWORD", "MENTORSHIP_MAIL_FROM", "MENTORSHIP_STAFF_EMAIL", "MENTORSHIP_MASTER_KEY_URL", "MENTORSHIP_TRUSTED_PROXIES", "OTEL_EXPORTER_OTLP_ENDPOINT"} {
			if _, ok := s.Environment[k]; !ok {
				t.Errorf("%s: the production setting %s is not in the file", name, k)
			}
		}
		if env["MENTORSHIP_WORKERS"] == "true" {
			workers++
		}
		if !slices.ContainsFunc(s.Volumes, func(v types.ServiceVolumeConfig) bool { return v.Target == "/data" && v.Type == types.VolumeTypeVolume }) {
			t.Errorf("%s: no named volume on /data", name)
		}
	}
	// Each worker fails over between the instances that run workers, so
	// every API service runs them.
	if workers < 2 {
		t.Errorf("%d API services run the workers, want every one of the two or more", workers)
	}
	redis := p.Services["redis"]
	cmd := strings.Join(redis.Command, " ")
	if !strings.Contains(cmd, "--appendonly yes") || !strings.Contains(cmd, "--appendfsync always") {
		t.Errorf("redis: command %q does not persist every write", cmd)
	}
	if !slices.ContainsFunc(redis.Volumes, func(v types.ServiceVolumeConfig) bool { return v.Target == "/data" && v.Type == types.VolumeTypeVolume }) {
		t.Error("redis: its data is not on a volume")
	}
	if !slices.ContainsFunc(p.Services["kurrentdb"].Volumes, func(v types.ServiceVolumeConfig) bool { return v.Target == "/var/lib/kurrentdb" }) {
		t.Error("kurrentdb: its data is not on a volume")
	}
}

// A file that breaks the compose specification fails to load, so the
// test above fails on a broken compose file.
func TestComposeFileValidationCatchesMistakes(t *testing.T) {
	good, err := os.ReadFile("../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string][2]string{
		"an unknown condition": {"condition: service_healthy", "condition: service_heathy"},
		"an unknown key":       {"restart: unless-stopped", "restarts: unless-stopped"},
		"a bad duration":       {"interval: 2s", "interval: two seconds"},
	} {
		bad := strings.Replace(string(good), edit[0], edit[1], 1)
		if bad == string(good) {
			t.Fatalf("%s: %q is not in the file", name, edit[0])
		}
		dir := t.TempDir()
		path := filepath.Join(dir, "docker-compose.yml")
		if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := loadCompose(t, path); err == nil {
			t.Errorf("%s: the file loaded", name)
		}
	}
}
