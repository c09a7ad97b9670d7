package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/mentorship/mentorship/blob"
	"github.com/mentorship/mentorship/clock"
	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/config"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/follow"
	"github.com/mentorship/mentorship/lease"
	"github.com/mentorship/mentorship/mail"
	"github.com/mentorship/mentorship/notify"
	notifyredis "github.com/mentorship/mentorship/notify/redis"
	"github.com/mentorship/mentorship/process"
	processredis "github.com/mentorship/mentorship/process/redis"
)

// outboxEraser removes an erased member from what the notifier keeps,
// once it has read the log up to upTo.
type outboxEraser interface {
	EraseMember(ctx context.Context, member uuid.UUID, matches []uuid.UUID, upTo eventstore.Position) error
}

// openWorkers sets up the notifier and the process manager and returns
// what staff see of a match's emails and what erases a member from the
// outbox (nil when this instance has no outbox to show or erase).
//
// Without Redis they run here when workers are on, with their state in
// the data directory's outbox.db and process.db. With Redis, every
// instance with workers on competes for one lease per worker and runs the
// worker only while it holds the lease, with its state in Redis written
// under the lease's token; every instance, workers or not, shows and
// erases the shared outbox.
func (a *api) openWorkers(cfg config.Config, log zerolog.Logger, store eventstore.Store, sender mail.Sender, clk clock.Clock,
	commands *command.Service, blobs *blob.Store, models *readModels, reg prometheus.Registerer) (notify.OutboxStore, outboxEraser, error) {
	nopts := notify.Options{
		Settings: notify.Settings{ProgramName: cfg.ProgramName, StaffEmail: cfg.StaffEmail, FrontendURL: cfg.FrontendURL, Program: cfg.Program},
		Logger:   log,
	}
	popts := process.Options{Logger: log}
	switch {
	case cfg.ReadOnly:
		return nil, nil, nil
	case models.redis == nil && !cfg.Workers:
		return nil, nil, nil
	case models.redis == nil:
		outbox, err := notify.OpenOutbox(cfg.DataDir)
		if err != nil {
			return nil, nil, err
		}
		notifier, err := notify.New(outbox, store, sender, clk, nopts)
		if err != nil {
			_ = outbox.Close()
			return nil, nil, err
		}
		a.closers = append(a.closers, notifier.Close)
		file, err := process.OpenFile(cfg.DataDir)
		if err != nil {
			return nil, nil, err
		}
		manager, err := process.New(file, store, commands, clk, popts)
		if err != nil {
			_ = file.Close()
			return nil, nil, err
		}
		a.closers = append(a.closers, manager.Close)
		a.background = append(a.background, notifier.Run, manager.Run, collectBlobs(store, blobs, log))
		notifier.Register(reg)
		follow.Register(reg, "notifier", store, notifier.Position, notifier.Healthy)
		follow.Register(reg, "process_manager", store, manager.Position, manager.Healthy)
		a.copiers[notify.FileName] = outbox.CopyFile
		a.copiers[process.FileName] = file.CopyFile
		a.health = append(a.health, notifier.Healthy, manager.Healthy)
		return outbox, notifier, nil
	}

	lopts := lease.Options{TTL: cfg.WorkerLeaseTTL, Logger: log}
	notifierLease, err := lease.New(models.redis, notifyredis.LeaseName(cfg.RedisPrefix), lopts)
	if err != nil {
		return nil, nil, err
	}
	outbox := notifyredis.New(models.redis, notifierLease)
	eraser := sharedOutboxEraser{outbox: outbox, wait: eraseWait}
	if !cfg.Workers {
		return outbox, eraser, nil
	}
	processLease, err := lease.New(models.redis, processredis.LeaseName(cfg.RedisPrefix), lopts)
	if err != nil {
		return nil, nil, err
	}
	states := processredis.New(models.redis, processLease)

	notifierSlot := &leasedWorker{name: "notifier", store: store, log: log, lease: notifierLease, hold: outbox.Hold,
		open: func() (worker, error) { return notify.New(outbox, store, sender, clk, nopts) }}
	processSlot := &leasedWorker{name: "process_manager", store: store, log: log, lease: processLease, hold: states.Hold,
		open: func() (worker, error) { return process.New(states, store, commands, clk, popts) }}
	a.background = append(a.background, notifierSlot.loop, processSlot.loop, collectBlobs(store, blobs, log))
	notify.RegisterOutbox(reg, outbox, clk.Now)
	for _, w := range []*leasedWorker{notifierSlot, processSlot} {
		follow.Register(reg, w.name, store, w.Position, w.Healthy)
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "mentorship_worker_lease_held", ConstLabels: prometheus.Labels{"follower": w.name},
			Help: "1 while this instance holds a worker's lease and runs it, 0 while it stands by.",
		}, func() float64 {
			if w.holding() {
				return 1
			}
			return 0
		}))
		a.health = append(a.health, w.Healthy)
	}
	return outbox, eraser, nil
}

// workerView is a running worker as the server reports it.
type workerView interface {
	Position() eventstore.Position
	Healthy() error
}

// worker is what a leased worker runs while it holds the lease.
type worker interface {
	workerView
	Run(context.Context) error
	Close() error
}

// leasedWorker is a worker that this instance runs only while it holds
// the worker's lease. While it stands by it is healthy and follows
// nothing, so it reports the log's head as its position: no lag of its
// own. The holder reports the worker's real position and lag.
type leasedWorker struct {
	name  string
	store eventstore.Store
	log   zerolog.Logger
	lease *lease.Lease
	// hold makes the worker's state store write under a token, and
	// calls lost when a write finds the lease taken; open makes the
	// worker over that store for one holding.
	hold func(tok string, lost func())
	open func() (worker, error)

	mu  sync.Mutex
	cur workerView
}

// loop competes for the worker's lease until ctx ends, and runs the
// worker for each holding.
func (w *leasedWorker) loop(ctx context.Context) error {
	return w.lease.Run(ctx, func(ctx context.Context, tok string) error {
		ctx, lost := context.WithCancel(ctx)
		defer lost()
		w.hold(tok, lost)
		v, err := w.open()
		if err != nil {
			w.hold("", nil)
			return err
		}
		return w.run(ctx, v)
	})
}

// run runs a worker for one holding of its lease and closes it after,
// which saves its state under the token while the lease still holds it.
func (w *leasedWorker) run(ctx context.Context, v worker) error {
	w.mu.Lock()
	w.cur = v
	w.mu.Unlock()
	w.log.Info().Str("worker", w.name).Msg("running the worker: this instance holds its lease")
	err := v.Run(ctx)
	w.mu.Lock()
	w.cur = nil
	w.mu.Unlock()
	if cerr := v.Close(); cerr != nil && !errors.Is(cerr, lease.ErrLost) {
		w.log.Warn().Err(cerr).Str("worker", w.name).Msg("closing the worker")
	}
	w.log.Info().Str("worker", w.name).Msg("standing by: this instance no longer holds the worker's lease")
	return err
}

func (w *leasedWorker) current() workerView {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.cur
}

func (w *leasedWorker) holding() bool { return w.current() != nil }

// Position is the running worker's position; the log's head on a
// standby.
func (w *leasedWorker) Position() eventstore.Position {
	if v := w.current(); v != nil {
		return v.Position()
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	head, _ := w.store.Head(ctx)
	return head
}

// Healthy is the running worker's health; a standby is healthy.
func (w *leasedWorker) Healthy() error {
	if v := w.current(); v != nil {
		return v.Healthy()
	}
	return nil
}

// eraseWait bounds how long an erasure waits for the notifier, wherever
// it runs, to read it.
const eraseWait = 30 * time.Second

// sharedOutboxEraser erases a member from the outbox in Redis, from any
// instance, once the notifier has read the member's erasure: by then its
// saved directory no longer holds the member and nothing more is composed
// for them.
type sharedOutboxEraser struct {
	outbox *notifyredis.Outbox
	wait   time.Duration
}

// EraseMember waits for the notifier to read the erasure, then removes the
// member's emails and blanks those about their matches.
func (e sharedOutboxEraser) EraseMember(ctx context.Context, member uuid.UUID, matches []uuid.UUID, _ eventstore.Position) error {
	// No notifier ever ran on this Redis prefix: the outbox holds nothing.
	if _, ok, err := e.outbox.Position(); err != nil || !ok {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, e.wait)
	defer cancel()
	for {
		done, err := e.outbox.Erased(member)
		if err != nil {
			return err
		}
		if done {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the notifier has not read the erasure yet (is an instance with workers running?): %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
	return e.outbox.EraseMember(member, matches)
}
