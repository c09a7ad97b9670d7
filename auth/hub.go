package auth

import (
	"context"
	"sync"

	"github.com/google/uuid"
)

// hub tracks the live contexts handed out by Watch, so that a revocation
// made through the service ends them at once.
type hub struct {
	mu        sync.Mutex
	bySession map[TokenHash]map[*watcher]struct{}
	byMember  map[uuid.UUID]map[*watcher]struct{}
}

// watcher is one live context of a session.
type watcher struct {
	hash       TokenHash
	member     uuid.UUID
	generation uint64
	cancel     context.CancelCauseFunc

	// spared counts the operations running on the watched context that
	// revoke its own session; while it is above zero a revocation is held
	// back in held, so that the operation can finish and answer. Both are
	// guarded by the hub's mutex.
	spared int
	held   error
}

func newHub() *hub {
	return &hub{bySession: map[TokenHash]map[*watcher]struct{}{}, byMember: map[uuid.UUID]map[*watcher]struct{}{}}
}

func (h *hub) add(w *watcher) {
	h.mu.Lock()
	defer h.mu.Unlock()
	addTo(h.bySession, w.hash, w)
	addTo(h.byMember, w.member, w)
}

func (h *hub) remove(w *watcher) {
	h.mu.Lock()
	defer h.mu.Unlock()
	removeFrom(h.bySession, w.hash, w)
	removeFrom(h.byMember, w.member, w)
}

// revokeSession ends every context of the session of hash with cause.
func (h *hub) revokeSession(hash TokenHash, cause error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for w := range h.bySession[hash] {
		w.end(cause)
	}
}

// revokeMember ends, with cause, every context of the member's sessions
// issued before generation.
func (h *hub) revokeMember(member uuid.UUID, generation uint64, cause error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for w := range h.byMember[member] {
		if w.generation < generation {
			w.end(cause)
		}
	}
}

// end ends w's context with cause, or holds the cause back until the
// operations sparing w are over. The hub's mutex must be held.
func (w *watcher) end(cause error) {
	if w.spared > 0 {
		if w.held == nil {
			w.held = cause
		}
		return
	}
	w.cancel(cause)
}

// endWatcher is end for a caller that does not hold the mutex.
func (h *hub) endWatcher(w *watcher, cause error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	w.end(cause)
}

// spare holds back the revocations of w until the returned function is
// called, which then applies the first one held back. It lets an
// operation that revokes its own session, running on w's context, finish
// and answer before that context ends.
func (h *hub) spare(w *watcher) (release func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	w.spared++
	var once sync.Once
	return func() {
		once.Do(func() {
			h.mu.Lock()
			defer h.mu.Unlock()
			w.spared--
			if w.spared == 0 && w.held != nil {
				w.cancel(w.held)
			}
		})
	}
}

// watchers returns the live watchers at the time of the call.
func (h *hub) watchers() []*watcher {
	h.mu.Lock()
	defer h.mu.Unlock()
	var ws []*watcher
	for _, set := range h.bySession {
		for w := range set {
			ws = append(ws, w)
		}
	}
	return ws
}

func addTo[K comparable](m map[K]map[*watcher]struct{}, k K, w *watcher) {
	if m[k] == nil {
		m[k] = map[*watcher]struct{}{}
	}
	m[k][w] = struct{}{}
}

func removeFrom[K comparable](m map[K]map[*watcher]struct{}, k K, w *watcher) {
	delete(m[k], w)
	if len(m[k]) == 0 {
		delete(m, k)
	}
}
