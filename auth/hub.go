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
		w.cancel(cause)
	}
}

// revokeMember ends, with cause, every context of the member's sessions
// issued before generation.
func (h *hub) revokeMember(member uuid.UUID, generation uint64, cause error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for w := range h.byMember[member] {
		if w.generation < generation {
			w.cancel(cause)
		}
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
