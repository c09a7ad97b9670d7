package kurrenttest

import (
	"context"
	"net"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/gossip"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/serverfeatures"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ServerVersion is the KurrentDB version the server claims to be.
const ServerVersion = "24.10.0"

// subscriptionBatch is how many records a subscription takes per look at
// the log.
const subscriptionBatch = 64

// from says where a read or subscription starts.
type from int

const (
	fromStart from = iota
	fromEnd
	fromPoint // a revision or a position
)

// query is a decoded read request.
type query struct {
	all        bool
	stream     string
	backwards  bool
	from       from
	point      uint64 // the revision or position when from is fromPoint
	count      uint64
	filter     *filter
	resolve    bool
	structured bool
}

// filter selects records of $all by stream name or event type.
type filter struct {
	byType   bool
	re       *regexp.Regexp
	prefixes []string
	every    int // events examined between checkpoints
}

func (f *filter) match(r *record) bool {
	if f == nil {
		return true
	}
	s := r.stream
	if f.byType {
		s = r.eventType
	}
	if f.re != nil {
		return f.re.MatchString(s)
	}
	for _, p := range f.prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func newQuery(o *streams.ReadReq_Options) (query, error) {
	q := query{
		backwards:  o.ReadDirection == streams.ReadReq_Options_Backwards,
		count:      o.GetCount(),
		resolve:    o.ResolveLinks,
		structured: o.GetUuidOption().GetString_() == nil,
	}
	switch so := o.StreamOption.(type) {
	case *streams.ReadReq_Options_Stream:
		q.stream = string(so.Stream.GetStreamIdentifier().GetStreamName())
		switch r := so.Stream.RevisionOption.(type) {
		case *streams.ReadReq_Options_StreamOptions_Revision:
			q.from, q.point = fromPoint, r.Revision
		case *streams.ReadReq_Options_StreamOptions_End:
			q.from = fromEnd
		}
	case *streams.ReadReq_Options_All:
		q.all = true
		switch p := so.All.AllOption.(type) {
		case *streams.ReadReq_Options_AllOptions_Position:
			q.from, q.point = fromPoint, p.Position.GetCommitPosition()
		case *streams.ReadReq_Options_AllOptions_End:
			q.from = fromEnd
		}
	default:
		return q, status.Error(codes.InvalidArgument, "a read names a stream or $all")
	}
	if f := o.GetFilter(); f != nil && q.all {
		q.filter = &filter{}
		var expr *streams.ReadReq_Options_FilterOptions_Expression
		switch x := f.Filter.(type) {
		case *streams.ReadReq_Options_FilterOptions_StreamIdentifier:
			expr = x.StreamIdentifier
		case *streams.ReadReq_Options_FilterOptions_EventType:
			expr, q.filter.byType = x.EventType, true
		default:
			return q, status.Error(codes.InvalidArgument, "a filter applies to stream names or event types")
		}
		if expr.GetRegex() != "" {
			re, err := regexp.Compile(expr.GetRegex())
			if err != nil {
				return q, status.Error(codes.InvalidArgument, err.Error())
			}
			q.filter.re = re
		}
		q.filter.prefixes = expr.GetPrefix()
		window := int(f.GetMax())
		if window == 0 {
			window = 32
		}
		q.filter.every = window * int(max(f.CheckpointIntervalMultiplier, 1))
	}
	return q, nil
}

// Read serves reads and subscriptions.
func (v *streamsService) Read(req *streams.ReadReq, out streams.Streams_ReadServer) error {
	o := req.GetOptions()
	if o == nil {
		return status.Error(codes.InvalidArgument, "a read needs options")
	}
	q, err := newQuery(o)
	if err != nil {
		return err
	}
	if !q.all && v.s.Tombstoned(q.stream) {
		t := streamDeleted(q.stream)
		out.SetTrailer(t.trailer)
		return t.err
	}
	if o.GetSubscription() != nil {
		return v.s.subscribe(q, out)
	}
	msgs := v.s.read(q)
	for _, m := range msgs {
		if err := out.Send(m); err != nil {
			return err
		}
	}
	return nil
}

// read answers a read: the selected events, or that the stream does not
// exist.
func (s *Server) read(q query) []*streams.ReadResp {
	s.mu.Lock()
	defer s.mu.Unlock()
	var picked []*record
	if q.all {
		picked = pick(s.log, q, s.allIndex(q))
	} else {
		evs := s.streams[q.stream]
		if len(evs) == 0 {
			return []*streams.ReadResp{{Content: &streams.ReadResp_StreamNotFound_{StreamNotFound: &streams.ReadResp_StreamNotFound{
				StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(q.stream)},
			}}}}
		}
		picked = pick(evs, q, streamIndex(evs, q))
	}
	msgs := make([]*streams.ReadResp, len(picked))
	for i, r := range picked {
		msgs[i] = s.event(r, q)
	}
	return msgs
}

// allIndex is the index in the log where a read of $all starts: the first
// record at or after the position forwards, the last one before it
// backwards.
func (s *Server) allIndex(q query) int {
	switch {
	case q.from == fromStart && q.backwards:
		return -1
	case q.from == fromStart:
		return 0
	case q.from == fromEnd && q.backwards:
		return len(s.log) - 1
	case q.from == fromEnd:
		return len(s.log)
	}
	i := sort.Search(len(s.log), func(i int) bool { return s.log[i].pos >= q.point })
	if q.backwards {
		return i - 1
	}
	return i
}

// streamIndex is the index in a stream where a read starts. Backwards
// from beyond the end starts at the last event, as KurrentDB does.
func streamIndex(evs []*record, q query) int {
	switch {
	case q.from == fromStart && q.backwards:
		return -1
	case q.from == fromStart:
		return 0
	case q.from == fromEnd && q.backwards:
		return len(evs) - 1
	case q.from == fromEnd:
		return len(evs)
	case q.backwards:
		return int(min(q.point, uint64(len(evs)-1)))
	}
	return int(min(q.point, uint64(len(evs))))
}

// pick returns up to q.count records that pass the filter, walking from
// index i in the read's direction.
func pick(recs []*record, q query, i int) []*record {
	step := 1
	if q.backwards {
		step = -1
	}
	var out []*record
	for ; i >= 0 && i < len(recs) && uint64(len(out)) < q.count; i += step {
		if q.filter.match(recs[i]) {
			out = append(out, recs[i])
		}
	}
	return out
}

// subscribe serves a catch-up subscription until the client leaves, the
// server drops it or the server stops.
func (s *Server) subscribe(q query, out streams.Streams_ReadServer) error {
	s.mu.Lock()
	s.subsStart++
	drop, dropAfter := s.drop, s.dropAfter
	var next int // the index of the next record to examine
	switch {
	case q.all && q.from == fromEnd:
		next = len(s.log)
	case q.all && q.from == fromPoint:
		next = sort.Search(len(s.log), func(i int) bool { return s.log[i].pos > q.point })
	case q.from == fromEnd:
		next = len(s.streams[q.stream])
	case q.from == fromPoint:
		next = int(q.point) + 1
	}
	s.mu.Unlock()

	dropped := status.Error(codes.Unavailable, "subscription dropped by the server")
	if err := out.Send(&streams.ReadResp{Content: &streams.ReadResp_Confirmation{Confirmation: &streams.ReadResp_SubscriptionConfirmation{
		SubscriptionId: uuid.NewString(),
	}}}); err != nil {
		return err
	}
	sent, examined, caughtUp := 0, 0, false
	for {
		s.mu.Lock()
		src := s.log
		if !q.all {
			src = s.streams[q.stream]
		}
		var batch []*record
		if next < len(src) {
			batch = append(batch, src[next:min(next+subscriptionBatch, len(src))]...)
		}
		msgs := make([]*streams.ReadResp, len(batch))
		for i, r := range batch {
			msgs[i] = s.event(r, q)
		}
		changed := s.changed
		s.mu.Unlock()

		if len(batch) == 0 {
			if !caughtUp {
				caughtUp = true
				if err := out.Send(&streams.ReadResp{Content: &streams.ReadResp_CaughtUp_{CaughtUp: &streams.ReadResp_CaughtUp{}}}); err != nil {
					return err
				}
			}
			select {
			case <-changed:
				continue
			case <-drop:
				return dropped
			case <-out.Context().Done():
				return status.FromContextError(out.Context().Err()).Err()
			}
		}
		for i, r := range batch {
			next++
			examined++
			if q.filter.match(r) {
				select {
				case <-drop:
					return dropped
				default:
				}
				if dropAfter > 0 && sent >= dropAfter {
					return dropped
				}
				if err := out.Send(msgs[i]); err != nil {
					return err
				}
				sent++
			}
			if q.filter != nil && examined%q.filter.every == 0 {
				if err := out.Send(&streams.ReadResp{Content: &streams.ReadResp_Checkpoint_{Checkpoint: &streams.ReadResp_Checkpoint{
					CommitPosition: r.pos, PreparePosition: r.pos,
				}}}); err != nil {
					return err
				}
			}
		}
	}
}

// event is the message carrying one record, with the linked event resolved
// when the read asked for it. The caller holds mu.
func (s *Server) event(r *record, q query) *streams.ReadResp {
	ev := &streams.ReadResp_ReadEvent{
		Event:    recorded(r, q.structured),
		Position: &streams.ReadResp_ReadEvent_CommitPosition{CommitPosition: r.pos},
	}
	if q.resolve {
		if target := s.resolve(r); target != nil {
			ev.Link, ev.Event = ev.Event, recorded(target, q.structured)
		}
	}
	return &streams.ReadResp{Content: &streams.ReadResp_Event{Event: ev}}
}

func recorded(r *record, structured bool) *streams.ReadResp_ReadEvent_RecordedEvent {
	return &streams.ReadResp_ReadEvent_RecordedEvent{
		Id:               toUUID(r.id, structured),
		StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(r.stream)},
		StreamRevision:   r.revision,
		PreparePosition:  r.pos,
		CommitPosition:   r.pos,
		Metadata: map[string]string{
			"type":         r.eventType,
			"content-type": r.contentType,
			"created":      strconv.FormatInt(r.created, 10),
		},
		CustomMetadata: r.meta,
		Data:           r.data,
	}
}

// featuresService tells clients which methods the server supports.
type featuresService struct {
	serverfeatures.UnimplementedServerFeaturesServer
}

// GetSupportedMethods lists the Streams methods the server implements.
func (featuresService) GetSupportedMethods(context.Context, *shared.Empty) (*serverfeatures.SupportedMethods, error) {
	const service = "event_store.client.streams.streams"
	return &serverfeatures.SupportedMethods{
		EventStoreServerVersion: ServerVersion,
		Methods: []*serverfeatures.SupportedMethod{
			{MethodName: "read", ServiceName: service},
			{MethodName: "append", ServiceName: service},
			{MethodName: "tombstone", ServiceName: service},
		},
	}, nil
}

// gossipService describes a cluster of one leader, the server itself.
type gossipService struct {
	gossip.UnimplementedGossipServer
	s *Server
}

// Read returns the cluster's members.
func (g *gossipService) Read(context.Context, *shared.Empty) (*gossip.ClusterInfo, error) {
	host, port, err := net.SplitHostPort(g.s.Addr())
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	p, err := strconv.ParseUint(port, 10, 32)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &gossip.ClusterInfo{Members: []*gossip.MemberInfo{{
		InstanceId:   toUUID(g.s.id, true),
		TimeStamp:    time.Now().UnixNano() / 100,
		State:        gossip.MemberInfo_Leader,
		IsAlive:      true,
		HttpEndPoint: &gossip.EndPoint{Address: host, Port: uint32(p)},
	}}}, nil
}
