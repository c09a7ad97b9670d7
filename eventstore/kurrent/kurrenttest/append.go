package kurrenttest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// streamsService serves the Streams service.
type streamsService struct {
	streams.UnimplementedStreamsServer
	s *Server
}

// proposed is one event of an append.
type proposed struct {
	id          uuid.UUID
	eventType   string
	contentType string
	data, meta  []byte
}

// Append receives the options, then the events, then answers once.
func (v *streamsService) Append(as streams.Streams_AppendServer) error {
	req, err := as.Recv()
	if err != nil {
		return err
	}
	opts := req.GetOptions()
	if opts == nil || opts.GetStreamIdentifier() == nil {
		return status.Error(codes.InvalidArgument, "an append starts with its options")
	}
	var evs []proposed
	size := 0
	for {
		req, err := as.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		m := req.GetProposedMessage()
		if m == nil {
			return status.Error(codes.InvalidArgument, "an append sends its options once")
		}
		id, err := fromUUID(m.GetId())
		if err != nil {
			return status.Error(codes.InvalidArgument, err.Error())
		}
		p := proposed{id: id, eventType: m.Metadata["type"], contentType: m.Metadata["content-type"], data: m.Data, meta: m.CustomMetadata}
		if p.eventType == "" || p.contentType == "" {
			return status.Error(codes.InvalidArgument, "required metadata property is missing: type and content-type")
		}
		size += len(m.Data) + len(m.CustomMetadata)
		evs = append(evs, p)
	}
	if size > MaxAppendSize {
		return status.Errorf(codes.InvalidArgument, "Maximum Append Size of %d Exceeded.", MaxAppendSize)
	}
	stream := string(opts.StreamIdentifier.StreamName)
	if stream == "" {
		return status.Error(codes.InvalidArgument, "empty stream name")
	}
	resp, stall, err := v.s.append(stream, opts, evs)
	var t *trailed
	if errors.As(err, &t) {
		as.SetTrailer(t.trailer)
		return t.err
	}
	if err != nil {
		return err
	}
	if stall {
		<-as.Context().Done()
		return status.FromContextError(as.Context().Err()).Err()
	}
	return as.SendAndClose(resp)
}

// append decides an append as KurrentDB does and stores it. stall reports
// that the answer is to be withheld.
func (s *Server) append(stream string, opts *streams.AppendReq_Options, evs []proposed) (resp *streams.AppendResp, stall bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.appends++
	if len(s.failures) > 0 {
		c := s.failures[0]
		s.failures = s.failures[1:]
		return nil, false, status.Error(c, "injected failure")
	}
	if s.tombstoned[stream] {
		return nil, false, streamDeleted(stream)
	}
	if s.interleave > 0 {
		s.interleave--
		s.link(s.store(stream, uuid.New(), "Interloper", "application/json", []byte("{}"), nil))
		s.notify()
	}
	cur := s.streams[stream]
	exists := len(cur) > 0
	switch e := opts.ExpectedStreamRevision.(type) {
	case *streams.AppendReq_Options_Revision:
		switch {
		case exists && e.Revision == uint64(len(cur)-1):
		case exists && e.Revision < uint64(len(cur)-1):
			return idempotent(cur, int(e.Revision)+1, evs, opts), false, nil
		default:
			return wrongExpected(cur, opts), false, nil
		}
	case *streams.AppendReq_Options_NoStream:
		if exists {
			return idempotent(cur, 0, evs, opts), false, nil
		}
	case *streams.AppendReq_Options_StreamExists, *streams.AppendReq_Options_Any:
		if _, isAny := e.(*streams.AppendReq_Options_Any); !isAny && !exists {
			return wrongExpected(cur, opts), false, nil
		}
		if len(evs) > 0 {
			for i, r := range cur {
				if r.id == evs[0].id {
					return idempotent(cur, i, evs, opts), false, nil
				}
			}
		}
	default:
		return nil, false, status.Error(codes.InvalidArgument, "no expected stream revision")
	}
	if len(evs) == 0 {
		return success(cur), false, nil
	}
	written := make([]*record, len(evs))
	for i, e := range evs {
		written[i] = s.store(stream, e.id, e.eventType, e.contentType, e.data, e.meta)
	}
	for _, r := range written {
		s.link(r)
	}
	s.notify()
	if s.stalls > 0 {
		s.stalls--
		stall = true
	}
	return success(s.streams[stream]), stall, nil
}

// idempotent answers an append whose expectation points before the end of
// the stream: success without writing when the events stored from start
// have the append's IDs, a wrong expected version otherwise. Like
// KurrentDB, it compares IDs only.
func idempotent(cur []*record, start int, evs []proposed, opts *streams.AppendReq_Options) *streams.AppendResp {
	if len(evs) == 0 || start+len(evs) > len(cur) {
		return wrongExpected(cur, opts)
	}
	for i, e := range evs {
		if cur[start+i].id != e.id {
			return wrongExpected(cur, opts)
		}
	}
	return success(cur[:start+len(evs)])
}

// success reports a stream whose last event is the last of evs.
func success(evs []*record) *streams.AppendResp {
	ok := &streams.AppendResp_Success{
		CurrentRevisionOption: &streams.AppendResp_Success_NoStream{NoStream: &shared.Empty{}},
		PositionOption:        &streams.AppendResp_Success_NoPosition{NoPosition: &shared.Empty{}},
	}
	if len(evs) > 0 {
		last := evs[len(evs)-1]
		ok.CurrentRevisionOption = &streams.AppendResp_Success_CurrentRevision{CurrentRevision: last.revision}
		ok.PositionOption = &streams.AppendResp_Success_Position{Position: &streams.AppendResp_Position{CommitPosition: last.pos, PreparePosition: last.pos}}
	}
	return &streams.AppendResp{Result: &streams.AppendResp_Success_{Success: ok}}
}

// wrongExpected reports the stream's state and the refused expectation, in
// both the current fields and those of servers before 20.6.
func wrongExpected(cur []*record, opts *streams.AppendReq_Options) *streams.AppendResp {
	w := &streams.AppendResp_WrongExpectedVersion{}
	if len(cur) == 0 {
		w.CurrentRevisionOption = &streams.AppendResp_WrongExpectedVersion_CurrentNoStream{CurrentNoStream: &shared.Empty{}}
		w.CurrentRevisionOption_20_6_0 = &streams.AppendResp_WrongExpectedVersion_NoStream_20_6_0{NoStream_20_6_0: &shared.Empty{}}
	} else {
		last := cur[len(cur)-1].revision
		w.CurrentRevisionOption = &streams.AppendResp_WrongExpectedVersion_CurrentRevision{CurrentRevision: last}
		w.CurrentRevisionOption_20_6_0 = &streams.AppendResp_WrongExpectedVersion_CurrentRevision_20_6_0{CurrentRevision_20_6_0: last}
	}
	switch e := opts.ExpectedStreamRevision.(type) {
	case *streams.AppendReq_Options_Revision:
		w.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedRevision{ExpectedRevision: e.Revision}
		w.ExpectedRevisionOption_20_6_0 = &streams.AppendResp_WrongExpectedVersion_ExpectedRevision_20_6_0{ExpectedRevision_20_6_0: e.Revision}
	case *streams.AppendReq_Options_NoStream:
		w.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedNoStream{ExpectedNoStream: &shared.Empty{}}
	case *streams.AppendReq_Options_StreamExists:
		w.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedStreamExists{ExpectedStreamExists: &shared.Empty{}}
		w.ExpectedRevisionOption_20_6_0 = &streams.AppendResp_WrongExpectedVersion_StreamExists_20_6_0{StreamExists_20_6_0: &shared.Empty{}}
	case *streams.AppendReq_Options_Any:
		w.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedAny{ExpectedAny: &shared.Empty{}}
		w.ExpectedRevisionOption_20_6_0 = &streams.AppendResp_WrongExpectedVersion_Any_20_6_0{Any_20_6_0: &shared.Empty{}}
	}
	return &streams.AppendResp{Result: &streams.AppendResp_WrongExpectedVersion_{WrongExpectedVersion: w}}
}

// fromUUID decodes an event ID in either of the protocol's encodings.
func fromUUID(id *shared.UUID) (uuid.UUID, error) {
	if st := id.GetStructured(); st != nil {
		var b [16]byte
		binary.BigEndian.PutUint64(b[:8], uint64(st.MostSignificantBits))
		binary.BigEndian.PutUint64(b[8:], uint64(st.LeastSignificantBits))
		return uuid.UUID(b), nil
	}
	u, err := uuid.Parse(id.GetString_())
	if err != nil {
		return uuid.Nil, fmt.Errorf("event ID: %w", err)
	}
	return u, nil
}

// toUUID encodes an event ID as the reader asked.
func toUUID(id uuid.UUID, structured bool) *shared.UUID {
	if !structured {
		return &shared.UUID{Value: &shared.UUID_String_{String_: id.String()}}
	}
	return &shared.UUID{Value: &shared.UUID_Structured_{Structured: &shared.UUID_Structured{
		MostSignificantBits:  int64(binary.BigEndian.Uint64(id[:8])),
		LeastSignificantBits: int64(binary.BigEndian.Uint64(id[8:])),
	}}}
}
