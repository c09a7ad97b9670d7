package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	bbolt "go.etcd.io/bbolt"

	authbolt "github.com/mentorship/mentorship/auth/bolt"
	"github.com/mentorship/mentorship/config"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/bolt"
	"github.com/mentorship/mentorship/internal/durable"
	"github.com/mentorship/mentorship/notify"
	"github.com/mentorship/mentorship/process"
)

// controlSocket is the Unix socket in the data directory through which a
// serving process takes backups: only it may read the files it holds
// open, and only those who may read the data directory reach the socket.
const controlSocket = "control.sock"

// backupSummary is what a backup copied.
type backupSummary struct {
	// Dir is the backup's directory.
	Dir string `json:"dir"`
	// Position is the last event of the copied log.
	Position eventstore.Position `json:"position"`
	// Files counts the files copied besides the log.
	Files int `json:"files"`
	// Online reports whether a running server took the backup.
	Online bool `json:"online"`
}

// backupCmd copies the data directory into a new directory: from the
// running server when one serves it (through its control socket), from
// the files themselves otherwise.
func backupCmd(ctx context.Context, args []string, env func(string) string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mentorship backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	to := fs.String("to", "", "the directory to write the backup to; it must not exist, or be empty")
	cfg, err := config.Parse(fs, args, env, "data-dir", "kurrentdb-url", "max-event-size")
	if err != nil {
		return err
	}
	if *to == "" {
		return errors.New("backup: --to is required")
	}
	if cfg.KurrentDBURL != "" {
		return errors.New("backup: the events are in KurrentDB, which its own backup tools copy; this command copies an embedded store's data directory")
	}
	dest, err := filepath.Abs(*to)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	sum, err := askServerToBackUp(ctx, filepath.Join(cfg.DataDir, controlSocket), dest)
	if errors.Is(err, errNoServer) {
		sum, err = backupOffline(ctx, cfg, dest)
	}
	if err != nil {
		return err
	}
	how := "from the files (no server was running)"
	if sum.Online {
		how = "by the running server"
	}
	fmt.Fprintf(stdout, "backed up %s to %s %s: the log up to position %d and %d other files\n", cfg.DataDir, sum.Dir, how, sum.Position, sum.Files)
	return nil
}

// errNoServer is a data directory no server answers for.
var errNoServer = errors.New("no server is running")

// askServerToBackUp asks the server listening on sock to write a backup
// to dest; errNoServer when none listens there.
func askServerToBackUp(ctx context.Context, sock, dest string) (backupSummary, error) {
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		},
	}}
	defer client.CloseIdleConnections()
	body, _ := json.Marshal(map[string]string{"to": dest})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://mentorship/backup", bytes.NewReader(body))
	if err != nil {
		return backupSummary{}, err
	}
	res, err := client.Do(req)
	if err != nil {
		// No socket, or a stale one a stopped server left behind.
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) {
			return backupSummary{}, errNoServer
		}
		return backupSummary{}, fmt.Errorf("backup: asking the server: %w", err)
	}
	defer res.Body.Close()
	var out struct {
		backupSummary
		Error string `json:"error"`
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&out); err != nil {
		return backupSummary{}, fmt.Errorf("backup: the server's answer: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		return backupSummary{}, fmt.Errorf("backup: the server refused: %s", out.Error)
	}
	return out.backupSummary, nil
}

// backupOffline backs up a data directory no server holds.
func backupOffline(ctx context.Context, cfg config.Config, dest string) (backupSummary, error) {
	if _, err := os.Stat(filepath.Join(cfg.DataDir, bolt.FileName)); err != nil {
		return backupSummary{}, fmt.Errorf("backup: %s holds no event log: %w", cfg.DataDir, err)
	}
	store, err := openStore(ctx, cfg, prometheus.NewRegistry())
	if err != nil {
		return backupSummary{}, fmt.Errorf("backup: %w", err)
	}
	defer store.Close()
	return writeBackup(ctx, store.(*bolt.Store), cfg.DataDir, dest, nil)
}

// boltFiles are the data directory's bbolt files besides the log, which
// are copied through a read transaction so that each copy is consistent.
var boltFiles = map[string]bool{authbolt.FileName: true, notify.FileName: true, process.FileName: true}

// writeBackup copies the data directory dataDir into dest, which must not
// exist or be empty, through a sibling directory renamed into place once
// complete, so that a failed backup leaves nothing that looks whole.
//
// The order keeps the copy one the store accepts: the log must never be
// shorter than the rest of the directory proves. The sign-ins, the
// outbox, the process manager's state, the snapshots and the mailbox are
// copied first; then the log as of that moment, which holds at least
// every event they reflect; then the documents' bytes, which are stored
// before the events that record them, so that every document the copied
// log records has its bytes. copiers copy the files this process holds
// open (a running server's); the others are copied from the files.
func writeBackup(ctx context.Context, store *bolt.Store, dataDir, dest string, copiers map[string]func(string) error) (backupSummary, error) {
	fail := func(err error) (backupSummary, error) { return backupSummary{}, fmt.Errorf("backup: %w", err) }
	src, err := filepath.Abs(dataDir)
	if err != nil {
		return fail(err)
	}
	if entries, err := os.ReadDir(dest); err == nil && len(entries) > 0 {
		return fail(fmt.Errorf("%s exists and is not empty", dest))
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fail(err)
	}
	if dest == src || strings.HasPrefix(src, dest+string(filepath.Separator)) {
		return fail(fmt.Errorf("%s would hold the data directory itself", dest))
	}
	if strings.HasPrefix(dest, src+string(filepath.Separator)) {
		// Every later backup would copy this one again.
		return fail(fmt.Errorf("%s is inside the data directory %s: write the backup elsewhere", dest, src))
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o700); err != nil {
		return fail(err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".partial-")
	if err != nil {
		return fail(err)
	}
	done := false
	defer func() {
		if !done {
			_ = os.RemoveAll(tmp)
		}
	}()
	sum := backupSummary{Dir: dest, Online: copiers != nil}
	skip := func(path string) bool {
		return path == dest || path == tmp || strings.HasPrefix(path, dest+string(filepath.Separator)) ||
			strings.HasPrefix(path, tmp+string(filepath.Separator))
	}
	copyTree := func(only func(rel string) bool) error {
		return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if skip(path) {
				return filepath.SkipDir
			}
			rel, _ := filepath.Rel(src, path)
			if rel == "." {
				return nil
			}
			if !only(rel) {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			to := filepath.Join(tmp, rel)
			switch {
			case d.IsDir():
				return os.MkdirAll(to, 0o700)
			case !d.Type().IsRegular():
				return nil // the control socket, say
			case copiers[rel] != nil:
				sum.Files++
				return copiers[rel](to)
			case boltFiles[rel]:
				sum.Files++
				return copyBoltFile(path, to)
			}
			sum.Files++
			return copyFile(path, to)
		})
	}
	isLog := func(rel string) bool {
		return rel == bolt.FileName || rel == bolt.HeadFileName || (strings.HasPrefix(rel, "journal-") && !strings.Contains(rel, string(filepath.Separator)))
	}
	isBlobs := func(rel string) bool {
		return rel == "blobs" || strings.HasPrefix(rel, "blobs"+string(filepath.Separator))
	}
	if err := copyTree(func(rel string) bool { return !isLog(rel) && !isBlobs(rel) }); err != nil {
		return fail(err)
	}
	if sum.Position, err = store.CopyTo(ctx, tmp, 0); err != nil {
		return fail(err)
	}
	// The members' keys are copied again after the log, so that every
	// event in the copy has its key: a key is stored before its first
	// event, and erasing one only removes it.
	if _, err := os.Stat(filepath.Join(dataDir, keysFileName)); err == nil {
		if err := os.Remove(filepath.Join(tmp, keysFileName)); err != nil && !os.IsNotExist(err) {
			return fail(err)
		}
		if err := copyFile(filepath.Join(dataDir, keysFileName), filepath.Join(tmp, keysFileName)); err != nil {
			return fail(err)
		}
	}
	if err := copyTree(isBlobs); err != nil {
		return fail(err)
	}
	if err := durable.SyncDir(tmp); err != nil {
		return fail(err)
	}
	_ = os.Remove(dest) // an empty directory, if any
	if err := os.Rename(tmp, dest); err != nil {
		return fail(err)
	}
	done = true
	return sum, durable.SyncDir(filepath.Dir(dest))
}

// copyBoltFile copies a bbolt file no process holds open through a read
// transaction. A file some other process holds is reported, not waited
// for.
func copyBoltFile(from, to string) error {
	db, err := bbolt.Open(from, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return fmt.Errorf("%s: %w (is a server without its control socket using it?)", filepath.Base(from), err)
	}
	defer db.Close()
	return db.View(func(tx *bbolt.Tx) error { return tx.CopyFile(to, 0o600) })
}

// control serves backups on the data directory's control socket while the
// server runs.
type control struct {
	srv  *http.Server
	path string
}

// startControl listens on the control socket in dataDir and takes backups
// with backup, one at a time. A socket a crashed server left is replaced:
// the store's lock already proved that no other server runs here.
func startControl(dataDir string, backup func(ctx context.Context, dest string) (backupSummary, error), log zerolog.Logger) (*control, error) {
	path := filepath.Join(dataDir, controlSocket)
	_ = os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("control socket: %w", err)
	}
	var one sync.Mutex
	mux := http.NewServeMux()
	mux.HandleFunc("POST /backup", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		answer := func(status int, v any) {
			w.WriteHeader(status)
			_ = json.NewEncoder(w).Encode(v)
		}
		var in struct {
			To string `json:"to"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&in); err != nil || !filepath.IsAbs(in.To) {
			answer(http.StatusBadRequest, map[string]string{"error": "want {\"to\": an absolute directory}"})
			return
		}
		if !one.TryLock() {
			answer(http.StatusConflict, map[string]string{"error": "another backup is running"})
			return
		}
		defer one.Unlock()
		started := time.Now()
		sum, err := backup(r.Context(), filepath.Clean(in.To))
		if err != nil {
			log.Error().Err(err).Msg("backup failed")
			answer(http.StatusInternalServerError, map[string]string{"error": err.Error()})
			return
		}
		log.Info().Str("dir", sum.Dir).Uint64("position", uint64(sum.Position)).Int("files", sum.Files).
			Dur("took", time.Since(started)).Msg("backup written")
		answer(http.StatusOK, sum)
	})
	c := &control{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}, path: path}
	go func() { _ = c.srv.Serve(ln) }()
	return c, nil
}

// Close stops taking backups, waiting for one in progress, and removes the
// socket.
func (c *control) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := c.srv.Shutdown(ctx)
	_ = os.Remove(c.path)
	return err
}
