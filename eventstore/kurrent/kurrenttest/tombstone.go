package kurrenttest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// tombstoneRevision is the stream revision KurrentDB gives the tombstone
// event it writes into a tombstoned stream (EventNumber.DeletedStream).
const tombstoneRevision = math.MaxInt64

// tombstoneType is the type of that event.
const tombstoneType = "$streamDeleted"

// Tombstone deletes a stream for good: the server writes a tombstone event
// into the stream and from then on refuses to read, append to or
// subscribe to it, as KurrentDB does. The stream's earlier events stay in
// $all until a scavenge, which this server does not model.
func (v *streamsService) Tombstone(ctx context.Context, req *streams.TombstoneReq) (*streams.TombstoneResp, error) {
	opts := req.GetOptions()
	stream := string(opts.GetStreamIdentifier().GetStreamName())
	if stream == "" {
		return nil, status.Error(codes.InvalidArgument, "a tombstone names a stream")
	}
	pos, err := v.s.tombstone(stream, opts)
	if err != nil {
		var t *trailed
		if errors.As(err, &t) {
			_ = grpc.SetTrailer(ctx, t.trailer)
			return nil, t.err
		}
		return nil, err
	}
	return &streams.TombstoneResp{PositionOption: &streams.TombstoneResp_Position_{Position: &streams.TombstoneResp_Position{
		CommitPosition: pos, PreparePosition: pos,
	}}}, nil
}

// tombstone checks the expected revision and writes the tombstone.
func (s *Server) tombstone(stream string, opts *streams.TombstoneReq_Options) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tombstoned[stream] {
		return 0, streamDeleted(stream)
	}
	cur := s.streams[stream]
	exists := len(cur) > 0
	var ok bool
	expected := "any"
	switch e := opts.GetExpectedStreamRevision().(type) {
	case *streams.TombstoneReq_Options_Any:
		ok = true
	case *streams.TombstoneReq_Options_NoStream:
		ok, expected = !exists, "no stream"
	case *streams.TombstoneReq_Options_StreamExists:
		ok, expected = exists, "stream exists"
	case *streams.TombstoneReq_Options_Revision:
		ok, expected = exists && e.Revision == uint64(len(cur)-1), strconv.FormatUint(e.Revision, 10)
	default:
		return 0, status.Error(codes.InvalidArgument, "no expected stream revision")
	}
	if !ok {
		actual := "no stream"
		if exists {
			actual = strconv.FormatUint(cur[len(cur)-1].revision, 10)
		}
		return 0, &trailed{
			err: status.Errorf(codes.FailedPrecondition, "Delete failed due to WrongExpectedVersion. Stream: %s, Expected version: %s, Actual version: %s", stream, expected, actual),
			trailer: metadata.Pairs(
				"exception", "wrong-expected-version",
				"stream-name", stream,
				"expected-version", expected,
				"actual-version", actual,
			),
		}
	}
	r := s.store(stream, uuid.New(), tombstoneType, "application/octet-stream", nil, nil)
	// The tombstone is in $all but not among the stream's revisions.
	s.streams[stream] = cur
	r.revision = tombstoneRevision
	s.tombstoned[stream] = true
	s.notify()
	return r.pos, nil
}

// trailed is a gRPC error that KurrentDB sends with trailers describing
// it, which the client reads.
type trailed struct {
	err     error
	trailer metadata.MD
}

func (t *trailed) Error() string { return t.err.Error() }

// streamDeleted is KurrentDB's answer to any use of a tombstoned stream:
// FailedPrecondition with the "stream-deleted" exception in the trailers,
// which the client reports as esdb.ErrorCodeStreamDeleted.
func streamDeleted(stream string) *trailed {
	return &trailed{
		err:     status.Error(codes.FailedPrecondition, fmt.Sprintf("Event stream '%s' is deleted.", stream)),
		trailer: metadata.Pairs("exception", "stream-deleted", "stream-name", stream),
	}
}

// Tombstoned reports whether a stream was tombstoned.
func (s *Server) Tombstoned(stream string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tombstoned[stream]
}
