// Package audit exports the event log for auditors and program staff, as
// NDJSON or CSV, filtered by match, member, event type and time, from the
// command line (mentorship export) or over HTTP (GET /audit/export).
//
// An export streams: it reads the log a page at a time and writes each
// page before reading the next, so its memory does not grow with the log.
// It covers the log up to the head at the moment it starts.
//
// Private session notes never leave through an export: session events
// carry their date and length only (see exportData). Other events are
// exported as auditors see them (domain.AuditView), without members'
// personal texts, unless Options.Personal is set, and then as stored; each
// with the tamper-evidence hash the store keeps for it. The hash covers the stored bytes, which an export does not
// reproduce, so it is for matching an export against the store and against
// a published head (mentorship verify --head), not for recomputing.
package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
)

// Format is an export's file format.
type Format string

// The export formats.
const (
	// NDJSON writes one JSON object (a Record) per line.
	NDJSON Format = "ndjson"
	// CSV writes a header row of CSVColumns, then one row per event with
	// the data as JSON text.
	CSV Format = "csv"
)

// ParseFormat reads a format name; the empty name is NDJSON.
func ParseFormat(s string) (Format, error) {
	switch Format(s) {
	case "", NDJSON:
		return NDJSON, nil
	case CSV:
		return CSV, nil
	}
	return "", fmt.Errorf("format: %q is not a format (ndjson or csv)", s)
}

// contentType is the media type of a format.
func (f Format) contentType() string {
	if f == CSV {
		return "text/csv; charset=utf-8"
	}
	return "application/x-ndjson"
}

// Record is one exported event, as an NDJSON line holds it. Readers of an
// export can decode each line into it.
type Record struct {
	EventID       uuid.UUID       `json:"eventId"`
	Stream        string          `json:"stream"`
	Type          string          `json:"type"`
	SchemaVersion int             `json:"schemaVersion"`
	Revision      uint64          `json:"revision"`
	Position      uint64          `json:"position"`
	Data          json.RawMessage `json:"data"`
	Metadata      RecordMetadata  `json:"metadata"`
	// Hash is the hex tamper-evidence hash the store keeps for the event.
	Hash string `json:"hash"`
	// Redacted is true when Data lacks fields private to the event's
	// author, which the store holds.
	Redacted bool `json:"redacted"`
}

// RecordMetadata is a Record's who, why and when.
type RecordMetadata struct {
	ActorID       string    `json:"actorId"`
	ActorRole     string    `json:"actorRole"`
	CorrelationID string    `json:"correlationId"`
	CausationID   string    `json:"causationId"`
	OccurredAt    time.Time `json:"occurredAt"`
	RecordedAt    time.Time `json:"recordedAt"`
}

// CSVColumns are the columns of a CSV export, in order: a Record's fields
// with the metadata flattened, times in RFC 3339 and the data last.
var CSVColumns = []string{
	"eventId", "stream", "type", "schemaVersion", "revision", "position",
	"actorId", "actorRole", "correlationId", "causationId", "occurredAt", "recordedAt",
	"hash", "redacted", "data",
}

// Options tune an export.
type Options struct {
	// PageSize is how many events each read of the store asks for (2048
	// when 0).
	PageSize int
	// Progress, when set, is told after each page how far the export has
	// got: done of total, in global positions.
	Progress func(done, total eventstore.Position)
	// Flush, when set, is called after each page's lines are written to
	// the writer, so that an HTTP response can send them on.
	Flush func() error
	// Personal shows the events' personal fields: contact details, login
	// emails, biographies, messages, staff notes and file names. Without
	// it every event is shown as auditors see it (domain.AuditView), to
	// staff too: a caller sets it only once a staff member's or the
	// operator's reason is on record (command.RevealPersonalData). Session
	// notes and values are never exported.
	Personal bool
}

// Stats describe a finished export.
type Stats struct {
	// Events is how many events the export wrote.
	Events uint64
	// Head is the log's head when the export started; the export covers
	// the log up to it.
	Head eventstore.Position
}

// Export writes the events that f selects to w in format, in global order.
// With a match in the filter it reads only that match's stream; otherwise
// it pages through the whole log. An error may come after part of the
// export was written.
func Export(ctx context.Context, store eventstore.Store, w io.Writer, format Format, f Filter, opts Options) (Stats, error) {
	var st Stats
	if opts.PageSize <= 0 {
		opts.PageSize = 2048
	}
	head, err := store.Head(ctx)
	if err != nil {
		return st, fmt.Errorf("export: %w", err)
	}
	st.Head = head
	enc, err := newEncoder(w, format)
	if enc != nil {
		enc.auditView = !opts.Personal
	}
	if err != nil {
		return st, fmt.Errorf("export: %w", err)
	}
	x := &exporter{ctx: ctx, store: store, enc: enc, m: newMatcher(f), opts: opts, stats: &st}
	if f.Match != uuid.Nil {
		err = x.stream(x.m.matchStream)
	} else {
		err = x.all()
	}
	if err == nil {
		err = x.endPage(head)
	}
	if err != nil {
		return st, fmt.Errorf("export: %w", err)
	}
	return st, nil
}

type exporter struct {
	ctx   context.Context
	store eventstore.Store
	enc   *encoder
	m     *matcher
	opts  Options
	stats *Stats
}

// all pages through the whole log up to the head.
func (x *exporter) all() error {
	head := x.stats.Head
	for from := eventstore.Start; from < head; {
		page, err := x.store.ReadAll(x.ctx, from, x.opts.PageSize)
		if err != nil {
			return err
		}
		if len(page) == 0 {
			return nil
		}
		if err := x.write(page); err != nil {
			return err
		}
		from = page[len(page)-1].Position
		if err := x.endPage(min(from, head)); err != nil {
			return err
		}
	}
	return nil
}

// stream pages through one stream up to the log's head.
func (x *exporter) stream(stream string) error {
	for rev := eventstore.Revision(0); ; {
		page, err := x.store.ReadStream(x.ctx, stream, eventstore.ReadStreamOptions{From: rev, Limit: x.opts.PageSize})
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := x.write(page); err != nil {
			return err
		}
		if len(page) < x.opts.PageSize || page[len(page)-1].Position >= x.stats.Head {
			return nil
		}
		last := page[len(page)-1]
		rev = last.Revision + 1
		if err := x.endPage(last.Position); err != nil {
			return err
		}
	}
}

// write encodes the selected events of a page, stopping at the head.
func (x *exporter) write(page []eventstore.RecordedEvent) error {
	for i := range page {
		ev := &page[i]
		if ev.Position > x.stats.Head {
			break
		}
		if !x.m.match(ev) {
			continue
		}
		if err := x.enc.write(ev); err != nil {
			return err
		}
		x.stats.Events++
	}
	return nil
}

// endPage sends a page on and reports progress.
func (x *exporter) endPage(done eventstore.Position) error {
	if err := x.enc.flush(); err != nil {
		return err
	}
	if x.opts.Flush != nil {
		if err := x.opts.Flush(); err != nil {
			return err
		}
	}
	if x.opts.Progress != nil {
		x.opts.Progress(done, x.stats.Head)
	}
	return nil
}

// encoder writes events in one format through a buffer.
type encoder struct {
	bw        *bufio.Writer
	csv       bool
	auditView bool
	line      []byte
}

func newEncoder(w io.Writer, format Format) (*encoder, error) {
	e := &encoder{bw: bufio.NewWriterSize(w, 64<<10)}
	switch format {
	case NDJSON:
		return e, nil
	case CSV:
		e.csv = true
		for i, c := range CSVColumns {
			if i > 0 {
				e.line = append(e.line, ',')
			}
			e.line = appendCSVField(e.line, c)
		}
		e.line = append(e.line, '\n')
		_, err := e.bw.Write(e.line)
		return e, err
	}
	return nil, fmt.Errorf("unknown format %q", format)
}

func (e *encoder) write(ev *eventstore.RecordedEvent) error {
	data, redacted := exportData(ev)
	if e.auditView {
		var viewed bool
		data, viewed = domain.AuditView(ev.Type, data)
		redacted = redacted || viewed
	}
	data = oneLine(data)
	if e.csv {
		e.line = appendCSVRow(e.line[:0], ev, data, redacted)
	} else {
		e.line = appendRecord(e.line[:0], ev, data, redacted)
	}
	_, err := e.bw.Write(e.line)
	return err
}

func (e *encoder) flush() error { return e.bw.Flush() }

// appendCSVRow appends ev as one CSV row in the order of CSVColumns.
func appendCSVRow(b []byte, ev *eventstore.RecordedEvent, data []byte, redacted bool) []byte {
	m := &ev.Metadata
	b = appendUUID(b, ev.ID)
	b = append(b, ',')
	b = appendCSVField(b, ev.Stream)
	b = append(b, ',')
	b = appendCSVField(b, ev.Type)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(ev.SchemaVersion), 10)
	b = append(b, ',')
	b = strconv.AppendUint(b, uint64(ev.Revision), 10)
	b = append(b, ',')
	b = strconv.AppendUint(b, uint64(ev.Position), 10)
	for _, s := range []string{m.ActorID, m.ActorRole, m.CorrelationID, m.CausationID} {
		b = append(b, ',')
		b = appendCSVText(b, s)
	}
	b = append(b, ',')
	b = m.OccurredAt.AppendFormat(b, time.RFC3339Nano)
	b = append(b, ',')
	b = m.RecordedAt.AppendFormat(b, time.RFC3339Nano)
	b = append(b, ',')
	b = hex.AppendEncode(b, ev.Hash)
	b = append(b, ',')
	b = strconv.AppendBool(b, redacted)
	b = append(b, ',')
	b = appendCSVField(b, data)
	return append(b, '\n')
}

// appendCSVText appends a text field that a spreadsheet must not run: one
// starting with =, +, -, @, a tab or a carriage return is prefixed with a
// quote, as OWASP advises against formula injection. Correlation IDs come
// from clients, so an auditor opening the export must not run them.
func appendCSVText(b []byte, s string) []byte {
	if s != "" && strings.IndexByte("=+-@\t\r", s[0]) >= 0 {
		return appendCSVField(b, "'"+s)
	}
	return appendCSVField(b, s)
}

// appendCSVField appends one field as encoding/csv's Writer writes it,
// quoted only when it must be. The export writes rows by hand because the
// Writer wants every field as a string, which costs an allocation each.
func appendCSVField[T string | []byte](b []byte, s T) []byte {
	if !csvNeedsQuotes(s) {
		return append(b, s...)
	}
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			b = append(b, s[start:i+1]...)
			b = append(b, '"')
			start = i + 1
		}
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// csvNeedsQuotes follows encoding/csv: a field is quoted when it holds a
// comma, a quote or a line break, starts with a space, or is \. alone.
func csvNeedsQuotes[T string | []byte](s T) bool {
	if len(s) == 0 {
		return false
	}
	if len(s) == 2 && s[0] == '\\' && s[1] == '.' {
		return true
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ',', '"', '\r', '\n':
			return true
		}
	}
	var first [utf8.UTFMax]byte
	n := 0
	for ; n < len(first) && n < len(s); n++ {
		first[n] = s[n]
	}
	r, _ := utf8.DecodeRune(first[:n])
	return unicode.IsSpace(r)
}

// oneLine returns JSON data without line breaks, as both formats want it;
// empty data becomes null.
func oneLine(data []byte) []byte {
	if len(data) == 0 {
		return []byte("null")
	}
	if bytes.IndexByte(data, '\n') < 0 && bytes.IndexByte(data, '\r') < 0 {
		return data
	}
	var b bytes.Buffer
	if json.Compact(&b, data) != nil {
		return []byte("null")
	}
	return b.Bytes()
}

// appendRecord appends ev as one NDJSON line in the shape of Record. It
// writes the line by hand because encoding/json costs several times more
// per event, which an export of the whole log feels.
func appendRecord(b []byte, ev *eventstore.RecordedEvent, data []byte, redacted bool) []byte {
	m := &ev.Metadata
	b = append(b, `{"eventId":"`...)
	b = appendUUID(b, ev.ID)
	b = append(b, `","stream":`...)
	b = appendString(b, ev.Stream)
	b = append(b, `,"type":`...)
	b = appendString(b, ev.Type)
	b = append(b, `,"schemaVersion":`...)
	b = strconv.AppendInt(b, int64(ev.SchemaVersion), 10)
	b = append(b, `,"revision":`...)
	b = strconv.AppendUint(b, uint64(ev.Revision), 10)
	b = append(b, `,"position":`...)
	b = strconv.AppendUint(b, uint64(ev.Position), 10)
	b = append(b, `,"data":`...)
	b = append(b, data...)
	b = append(b, `,"metadata":{"actorId":`...)
	b = appendString(b, m.ActorID)
	b = append(b, `,"actorRole":`...)
	b = appendString(b, m.ActorRole)
	b = append(b, `,"correlationId":`...)
	b = appendString(b, m.CorrelationID)
	b = append(b, `,"causationId":`...)
	b = appendString(b, m.CausationID)
	b = append(b, `,"occurredAt":"`...)
	b = m.OccurredAt.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","recordedAt":"`...)
	b = m.RecordedAt.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `"},"hash":"`...)
	b = hex.AppendEncode(b, ev.Hash)
	b = append(b, `","redacted":`...)
	b = strconv.AppendBool(b, redacted)
	return append(b, "}\n"...)
}

// appendUUID appends id in its canonical text form.
func appendUUID(b []byte, id uuid.UUID) []byte {
	b = hex.AppendEncode(b, id[0:4])
	b = append(b, '-')
	b = hex.AppendEncode(b, id[4:6])
	b = append(b, '-')
	b = hex.AppendEncode(b, id[6:8])
	b = append(b, '-')
	b = hex.AppendEncode(b, id[8:10])
	b = append(b, '-')
	return hex.AppendEncode(b, id[10:16])
}

// appendString appends s as a JSON string, escaped as encoding/json does
// apart from HTML characters, which need no escaping in a file.
func appendString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			// Valid JSON, but line terminators to JavaScript.
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
