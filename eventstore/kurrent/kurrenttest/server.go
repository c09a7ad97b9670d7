// Package kurrenttest is an in-memory stand-in for one KurrentDB node that
// speaks KurrentDB's gRPC protocol over a real listener, built on the
// service definitions the official Go client ships. Tests of the KurrentDB
// engine, and of anything above it, run against it where no KurrentDB
// server is available.
//
// It models what the engine depends on, as KurrentDB documents or behaves:
//
//   - Appends check the expected revision (any, no stream, stream exists,
//     exact) and deduplicate by event ID only: the same IDs at the place the
//     expectation points to, or anywhere in the stream for any and stream
//     exists, succeed again without writing, whatever their contents. Some
//     of the IDs matching is answered as a wrong expected version. Appends
//     over 1 MiB in total are refused as KurrentDB refuses them.
//   - Global positions are byte-like offsets into a log: commit and prepare
//     positions are equal, grow with every record's size, and leave gaps.
//     An append's answer carries the last event's position, and events read
//     from a stream carry their global position, as current servers do.
//   - The log starts with the server's own events ($-prefixed streams and
//     types), and every application event in a stream whose name has a '-'
//     is followed by a "$>" link event in its "$ce-" category stream, as the
//     by-category system projection writes. Readers must filter them.
//   - Reads of a stream or of $all go forwards or backwards from a revision
//     or position (inclusive forwards, exclusive backwards on $all), with a
//     count, optional stream or event type filters (regular expression or
//     prefixes) and link resolution. A missing stream is reported in the
//     read's first message.
//   - Catch-up subscriptions to a stream or to $all start after their
//     position, send the confirmation first, deliver stored events, report
//     that they caught up, then deliver new events live. Filtered
//     subscriptions send checkpoints.
//   - Tombstones (hard deletes) check the expected revision, write a
//     "$streamDeleted" event into $all, and make every later read, append,
//     subscription or tombstone of the stream fail as KurrentDB's do:
//     FailedPrecondition with the "stream-deleted" exception and the stream
//     name in the trailers, which the client reports as
//     esdb.ErrorCodeStreamDeleted. Tombstoning a stream that never existed
//     is allowed with "any" or "no stream". The stream's earlier events stay
//     in $all, as on KurrentDB until a scavenge (not modelled).
//   - The server features and gossip services answer what a client asks on
//     connecting, so "esdb://" and "esdb+discover://" connection strings
//     both work.
//
// It leaves out what the engine does not use: soft deletion, scavenging,
// batch appends, persistent subscriptions, projections other than the
// category links, access control and durability.
//
// Faults can be injected to test recovery: appends that are stored but
// never answered (the client times out), appends refused with a gRPC code,
// another writer getting in between a client's read and its write,
// subscriptions dropped at once or after a number of events, the node
// stopping and coming back with its data, and stored events changed behind
// the client's back.
package kurrenttest

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/gossip"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/serverfeatures"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/keepalive"
)

// MaxAppendSize is KurrentDB's default limit on the data and metadata of
// all events of one append.
const MaxAppendSize = 1 << 20

// Server is a running in-memory node. Its methods are safe for concurrent
// use.
type Server struct {
	addr string
	id   uuid.UUID // the node's instance ID in gossip

	life sync.Mutex
	grpc *grpc.Server  // nil while stopped
	done chan struct{} // closed when the gRPC server's Serve returns

	mu         sync.Mutex
	log        []*record            // every record in position order
	streams    map[string][]*record // each stream's records in revision order
	tombstoned map[string]bool      // streams deleted for good
	next       uint64               // the position of the next record
	changed    chan struct{}        // closed and replaced after every append

	drop       chan struct{} // closed by DropSubscriptions
	dropAfter  int           // events after which new subscriptions end
	stalls     int           // appends to store without answering
	failures   []codes.Code  // appends to refuse, in order
	interleave int           // appends to let another writer get ahead of
	appends    int           // append calls received
	subsStart  int           // subscription calls received
}

// record is one stored event. Records are never changed once stored;
// Tamper replaces one with a changed copy.
type record struct {
	id          uuid.UUID
	stream      string
	revision    uint64
	eventType   string
	contentType string
	created     int64 // .NET ticks (100 ns) since the Unix epoch
	data        []byte
	meta        []byte
	pos         uint64
}

// Start starts a server on a free port of 127.0.0.1, without TLS.
func Start() (*Server, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start test server: %w", err)
	}
	s := &Server{
		addr:       lis.Addr().String(),
		id:         uuid.New(),
		streams:    map[string][]*record{},
		tombstoned: map[string]bool{},
		next:       firstPosition,
		changed:    make(chan struct{}),
		drop:       make(chan struct{}),
	}
	s.seed()
	s.serve(lis)
	return s, nil
}

// New starts a server for a test and stops it when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	s, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// serve answers calls on lis until Stop or Close.
func (s *Server) serve(lis net.Listener) {
	// KurrentDB lets clients ping to keep connections alive, as the
	// official clients do every ten seconds, even without calls.
	g := grpc.NewServer(grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{
		MinTime:             time.Second,
		PermitWithoutStream: true,
	}))
	streams.RegisterStreamsServer(g, &streamsService{s: s})
	serverfeatures.RegisterServerFeaturesServer(g, featuresService{})
	gossip.RegisterGossipServer(g, &gossipService{s: s})
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = g.Serve(lis)
	}()
	s.life.Lock()
	defer s.life.Unlock()
	s.grpc, s.done = g, done
}

// Stop stops answering, ending every call in progress, but keeps the data,
// as a node that goes down does.
func (s *Server) Stop() {
	s.life.Lock()
	defer s.life.Unlock()
	if s.grpc == nil {
		return
	}
	s.grpc.Stop()
	<-s.done
	s.grpc = nil
}

// Resume answers again on the same address after Stop, with the same data.
func (s *Server) Resume() error {
	lis, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("resume test server: %w", err)
	}
	s.serve(lis)
	return nil
}

// Close stops the server; it is Stop under the name that t.Cleanup and
// defer statements expect.
func (s *Server) Close() { s.Stop() }

// Addr is the server's host and port.
func (s *Server) Addr() string { return s.addr }

// ConnectionString is a client connection string for the server.
func (s *Server) ConnectionString() string { return "esdb://" + s.Addr() + "?tls=false" }

// DiscoverConnectionString is a connection string that makes the client
// discover the node through the gossip service, as with a cluster.
func (s *Server) DiscoverConnectionString() string {
	return "esdb+discover://" + s.Addr() + "?tls=false"
}

// StallAppends makes the next n appends store their events but never
// answer, so that the client sees its deadline pass, as when an answer is
// lost on the way back.
func (s *Server) StallAppends(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stalls = n
}

// FailAppends makes the next n appends fail with the gRPC code c before
// storing anything.
func (s *Server) FailAppends(n int, c codes.Code) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failures = append(s.failures, c)
	}
}

// Interleave lets another writer get ahead of each of the next n appends:
// the server first stores an event of its own at the end of the append's
// stream, so that an expectation read just before is out of date, as when
// two writers race.
func (s *Server) Interleave(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.interleave = n
}

// DropSubscriptions ends every subscription in progress with
// codes.Unavailable, as a restarting node does.
func (s *Server) DropSubscriptions() {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.drop)
	s.drop = make(chan struct{})
}

// DropSubscriptionsAfter makes every subscription started from now on end
// with codes.Unavailable once it has sent n events; 0 turns it off.
func (s *Server) DropSubscriptionsAfter(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropAfter = n
}

// Appends returns how many append calls the server has received.
func (s *Server) Appends() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.appends
}

// Subscriptions returns how many subscription calls the server has
// received.
func (s *Server) Subscriptions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.subsStart
}

// Tamper replaces the stored data of one event, as an attacker with access
// to the database files could.
func (s *Server) Tamper(stream string, revision uint64, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	evs := s.streams[stream]
	if revision >= uint64(len(evs)) {
		return fmt.Errorf("stream %q has no revision %d", stream, revision)
	}
	old := evs[revision]
	changed := *old
	changed.data = append([]byte(nil), data...)
	evs[revision] = &changed
	i := sort.Search(len(s.log), func(i int) bool { return s.log[i].pos >= old.pos })
	s.log[i] = &changed
	return nil
}

// firstPosition is where the first record goes; KurrentDB's log opens with
// records of its own that are not events.
const firstPosition = 112

// recordOverhead stands for the bytes a record takes besides its contents.
const recordOverhead = 94

// seed writes the server's own events of a new database.
func (s *Server) seed() {
	for _, e := range []struct{ stream, typ, data string }{
		{"$$$stats-" + s.Addr(), "$metadata", `{"$maxAge":86400}`},
		{"$$$scavenges", "$metadata", `{"$maxAge":2592000}`},
		{"$users", "$UserCreated", `"admin"`},
		{"$user-admin", "$user", `{"loginName":"admin","fullName":"KurrentDB Administrator","groups":["$admins"]}`},
		{"$settings", "$update-default-acl", `{"$userStreamAcl":{"$r":"$all","$w":"$all"},"$systemStreamAcl":{"$r":"$admins","$w":"$admins"}}`},
	} {
		s.store(e.stream, uuid.New(), e.typ, "application/json", []byte(e.data), nil)
	}
}

// store appends one record to a stream and the log. The caller holds mu.
func (s *Server) store(stream string, id uuid.UUID, eventType, contentType string, data, meta []byte) *record {
	r := &record{
		id:          id,
		stream:      stream,
		revision:    uint64(len(s.streams[stream])),
		eventType:   eventType,
		contentType: contentType,
		created:     time.Now().UnixNano() / 100,
		data:        data,
		meta:        meta,
		pos:         s.next,
	}
	s.next += uint64(recordOverhead + len(stream) + len(eventType) + len(data) + len(meta))
	s.log = append(s.log, r)
	s.streams[stream] = append(s.streams[stream], r)
	return r
}

// notify wakes every subscription waiting for new records. The caller
// holds mu.
func (s *Server) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// link writes the by-category projection's link to an application event.
// The caller holds mu.
func (s *Server) link(r *record) {
	if strings.HasPrefix(r.stream, "$") {
		return
	}
	category, _, ok := strings.Cut(r.stream, "-")
	if !ok {
		return
	}
	s.store("$ce-"+category, uuid.New(), "$>", "application/octet-stream",
		[]byte(strconv.FormatUint(r.revision, 10)+"@"+r.stream), nil)
}

// resolve returns the event a "$>" link points to, or nil. The caller
// holds mu.
func (s *Server) resolve(link *record) *record {
	rev, stream, ok := strings.Cut(string(link.data), "@")
	if link.eventType != "$>" || !ok {
		return nil
	}
	n, err := strconv.ParseUint(rev, 10, 64)
	evs := s.streams[stream]
	if err != nil || n >= uint64(len(evs)) {
		return nil
	}
	return evs[n]
}
