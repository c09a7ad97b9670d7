package follow

import (
	"encoding/binary"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
)

// Rebuilding the read models is mostly decoding JSON, and encoding/json
// spends several microseconds on an event. FastDecode reads the events'
// current shapes directly, in a fraction of that. It only accepts what it
// can read exactly as domain.Decode would: compact or spaced JSON with the
// domain's own key names, each key once, strings whose escapes it knows.
// Anything else (another spelling of a key, an unknown key, null, a number
// with a fraction, a surrogate escape, another schema version) makes it
// give up, and the caller decodes with domain.Decode, which stays the
// reference. Tests check the two agree on random events of every type,
// under fuzzing, and on an event of every type with every field set, found
// by reflection on the domain's structs, so that a field added there
// cannot be missed here. It stays because it is measured faster than the
// general decoders too (encoding/json, json v2, sonic): see BENCHMARKS.md.

// The keys the domain's events use. A key's bit marks it seen in one
// object, which refuses duplicates (encoding/json merges them in ways not
// worth copying) and keys the event type does not have (encoding/json
// ignores those; the fallback keeps that behaviour).
const (
	kMatchID uint64 = 1 << iota
	kMenteeID
	kMentorID
	kMemberID
	kStaffID
	kRequestedBy
	kSessionID
	kAuthorID
	kDocumentID
	kUploaderID
	kRemovedBy
	kResourceID
	kPublishedBy
	kRetiredBy
	kMessage
	kReason
	kNote
	kName
	kEmail
	kRole
	kContentType
	kSHA256
	kTitle
	kDescription
	kURL
	kText
	kAudience
	kCapacity
	kVersion
	kSize
	kAccepting
	kAt
	kDetails
	kProfile
)

// fields holds every key an event may have; a decoder fills it and the
// event type's constructor takes what it needs.
type fields struct {
	seen                                                          uint64
	matchID, menteeID, mentorID, memberID, staffID, requestedBy   uuid.UUID
	sessionID, authorID, documentID, uploaderID, removedBy        uuid.UUID
	resourceID, publishedBy, retiredBy                            uuid.UUID
	message, reason, note, name, email, role, contentType, sha256 string
	title, description, url, text, audience                       string
	capacity, version                                             int
	size                                                          int64
	accepting                                                     bool
	at                                                            time.Time
	details                                                       domain.SessionDetails
	profile                                                       domain.Profile
}

// fastType is what FastDecode knows of an event type: the type's zero
// value, which build switches on, and the keys it has.
type fastType struct {
	zero domain.Event
	keys uint64
}

// fastTypes holds the event types that build makes, with their keys read
// from the domain's own struct tags, so that the key sets cannot drift
// from the events. A type with a key this decoder does not know (a field
// added to the domain and not here) is left to domain.Decode.
var fastTypes = func() map[string]fastType {
	m := map[string]fastType{}
	for _, typ := range domain.EventTypes() {
		zero, _ := domain.ZeroEvent(typ)
		if build(zero, &fields{}) == nil {
			continue
		}
		if keys, ok := keysOf(reflect.TypeOf(zero)); ok {
			m[typ] = fastType{zero: zero, keys: keys}
		}
	}
	return m
}()

// keysOf returns the key bits of the JSON fields of struct type t, or
// false when one of them has no bit.
func keysOf(t reflect.Type) (uint64, bool) {
	var keys uint64
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		bit := eventKey([]byte(name))
		if bit == 0 {
			return 0, false
		}
		keys |= bit
	}
	return keys, true
}

// build makes the event of zero's type from its fields; nil for a type it
// does not make. It is a switch rather than a table of functions so that f
// stays on the caller's stack.
func build(zero domain.Event, f *fields) domain.Event {
	switch zero.(type) {
	case domain.MemberRegistered:
		return domain.MemberRegistered{MemberID: f.memberID, Role: domain.Role(f.role), Name: f.name, Email: f.email, Capacity: f.capacity, Accepting: f.accepting, At: f.at}
	case domain.ProfileUpdated:
		return domain.ProfileUpdated{MemberID: f.memberID, Profile: f.profile, At: f.at}
	case domain.MentorCapacityChanged:
		return domain.MentorCapacityChanged{MemberID: f.memberID, Capacity: f.capacity, At: f.at}
	case domain.MentorAvailabilityChanged:
		return domain.MentorAvailabilityChanged{MemberID: f.memberID, Accepting: f.accepting, At: f.at}
	case domain.RequestSlotTaken:
		return domain.RequestSlotTaken{MemberID: f.memberID, MatchID: f.matchID, MentorID: f.mentorID, Message: f.message, At: f.at}
	case domain.RequestSlotActivated:
		return domain.RequestSlotActivated{MemberID: f.memberID, MatchID: f.matchID, At: f.at}
	case domain.RequestSlotReleased:
		return domain.RequestSlotReleased{MemberID: f.memberID, MatchID: f.matchID, At: f.at}
	case domain.CapacitySlotReserved:
		return domain.CapacitySlotReserved{MemberID: f.memberID, MatchID: f.matchID, MenteeID: f.menteeID, At: f.at}
	case domain.CapacitySlotReleased:
		return domain.CapacitySlotReleased{MemberID: f.memberID, MatchID: f.matchID, At: f.at}
	case domain.MatchRequested:
		return domain.MatchRequested{MatchID: f.matchID, MenteeID: f.menteeID, MentorID: f.mentorID, Message: f.message, At: f.at}
	case domain.MatchAccepted:
		return domain.MatchAccepted{MatchID: f.matchID, MenteeID: f.menteeID, MentorID: f.mentorID, At: f.at}
	case domain.MatchDeclined:
		return domain.MatchDeclined{MatchID: f.matchID, MenteeID: f.menteeID, MentorID: f.mentorID, Reason: f.reason, Message: f.message, At: f.at}
	case domain.MatchCancelled:
		return domain.MatchCancelled{MatchID: f.matchID, MenteeID: f.menteeID, MentorID: f.mentorID, At: f.at}
	case domain.NudgeRequested:
		return domain.NudgeRequested{MatchID: f.matchID, MenteeID: f.menteeID, MentorID: f.mentorID, At: f.at}
	case domain.MentorNudged:
		return domain.MentorNudged{MatchID: f.matchID, MenteeID: f.menteeID, MentorID: f.mentorID, StaffID: f.staffID, Note: f.note, At: f.at}
	case domain.ResponseWindowElapsed:
		return domain.ResponseWindowElapsed{MatchID: f.matchID, MenteeID: f.menteeID, MentorID: f.mentorID, At: f.at}
	case domain.FirstMeetingReminderDue:
		return domain.FirstMeetingReminderDue{MatchID: f.matchID, MenteeID: f.menteeID, MentorID: f.mentorID, At: f.at}
	case domain.MatchEnded:
		return domain.MatchEnded{MatchID: f.matchID, MenteeID: f.menteeID, MentorID: f.mentorID, Reason: f.reason,
			RequestedBy: f.requestedBy, StaffID: f.staffID, Note: f.note, At: f.at}
	case domain.ProfileReviewRequested:
		return domain.ProfileReviewRequested{MatchID: f.matchID, MenteeID: f.menteeID, MentorID: f.mentorID, At: f.at}
	case domain.SessionLogged:
		return domain.SessionLogged{MatchID: f.matchID, SessionID: f.sessionID, AuthorID: f.authorID, Details: f.details, At: f.at}
	case domain.SessionEdited:
		return domain.SessionEdited{MatchID: f.matchID, SessionID: f.sessionID, AuthorID: f.authorID, Details: f.details, At: f.at}
	case domain.DocumentAdded:
		return domain.DocumentAdded{MatchID: f.matchID, DocumentID: f.documentID, UploaderID: f.uploaderID, Name: f.name, Size: f.size,
			ContentType: f.contentType, SHA256: f.sha256, Version: f.version, At: f.at}
	case domain.DocumentRemoved:
		return domain.DocumentRemoved{MatchID: f.matchID, DocumentID: f.documentID, RemovedBy: f.removedBy, UploaderID: f.uploaderID, Name: f.name, Version: f.version, At: f.at}
	case domain.ResourcePublished:
		return domain.ResourcePublished{ResourceID: f.resourceID, PublishedBy: f.publishedBy, Title: f.title, Description: f.description,
			URL: f.url, Text: f.text, Audience: domain.Audience(f.audience), At: f.at}
	case domain.ResourceRetired:
		return domain.ResourceRetired{ResourceID: f.resourceID, RetiredBy: f.retiredBy, At: f.at}
	case domain.MatchEndRequested:
		return domain.MatchEndRequested{MatchID: f.matchID, MenteeID: f.menteeID, MentorID: f.mentorID, RequestedBy: f.requestedBy,
			Reason: f.reason, Note: f.note, At: f.at}
	case domain.AccountClosureRequested:
		return domain.AccountClosureRequested{MemberID: f.memberID, Note: f.note, At: f.at}
	case domain.MemberSignedIn:
		return domain.MemberSignedIn{MemberID: f.memberID, At: f.at}
	}
	return nil
}

// FastDecode decodes an event of the domain's current schema version, or
// reports false when the caller must use domain.Decode. Decode tries it
// first; it is exported so that tests can check it against domain.Decode.
func FastDecode(typ string, version int, data []byte) (domain.Event, bool) {
	return fastDecode(typ, version, data, nil)
}

// fastDecode is FastDecode reading the values of enumerations and short
// lists through in (when not nil).
func fastDecode(typ string, version int, data []byte, in *interner) (domain.Event, bool) {
	t, ok := fastTypes[typ]
	if !ok || version != domain.SchemaVersion {
		return nil, false
	}
	var f fields
	r := jsonReader{b: data, in: in}
	first := true
	if !r.open() {
		return nil, false
	}
	for r.field(&first) {
		bit := eventKey(r.key)
		if bit == 0 || bit&t.keys == 0 || f.seen&bit != 0 {
			return nil, false
		}
		f.seen |= bit
		r.eventValue(&f, bit)
	}
	if !r.end() {
		return nil, false
	}
	e := build(t.zero, &f)
	return e, e != nil
}

func eventKey(k []byte) uint64 {
	switch string(k) {
	case "matchId":
		return kMatchID
	case "menteeId":
		return kMenteeID
	case "mentorId":
		return kMentorID
	case "memberId":
		return kMemberID
	case "staffId":
		return kStaffID
	case "requestedBy":
		return kRequestedBy
	case "sessionId":
		return kSessionID
	case "authorId":
		return kAuthorID
	case "documentId":
		return kDocumentID
	case "uploaderId":
		return kUploaderID
	case "removedBy":
		return kRemovedBy
	case "resourceId":
		return kResourceID
	case "publishedBy":
		return kPublishedBy
	case "retiredBy":
		return kRetiredBy
	case "message":
		return kMessage
	case "reason":
		return kReason
	case "note":
		return kNote
	case "name":
		return kName
	case "email":
		return kEmail
	case "role":
		return kRole
	case "contentType":
		return kContentType
	case "sha256":
		return kSHA256
	case "title":
		return kTitle
	case "description":
		return kDescription
	case "url":
		return kURL
	case "text":
		return kText
	case "audience":
		return kAudience
	case "capacity":
		return kCapacity
	case "version":
		return kVersion
	case "size":
		return kSize
	case "accepting":
		return kAccepting
	case "at":
		return kAt
	case "details":
		return kDetails
	case "profile":
		return kProfile
	}
	return 0
}

func (r *jsonReader) eventValue(f *fields, bit uint64) {
	switch bit {
	case kMatchID:
		f.matchID = r.uuid()
	case kMenteeID:
		f.menteeID = r.uuid()
	case kMentorID:
		f.mentorID = r.uuid()
	case kMemberID:
		f.memberID = r.uuid()
	case kStaffID:
		f.staffID = r.uuid()
	case kRequestedBy:
		f.requestedBy = r.uuid()
	case kSessionID:
		f.sessionID = r.uuid()
	case kAuthorID:
		f.authorID = r.uuid()
	case kDocumentID:
		f.documentID = r.uuid()
	case kUploaderID:
		f.uploaderID = r.uuid()
	case kRemovedBy:
		f.removedBy = r.uuid()
	case kResourceID:
		f.resourceID = r.uuid()
	case kPublishedBy:
		f.publishedBy = r.uuid()
	case kRetiredBy:
		f.retiredBy = r.uuid()
	case kMessage:
		f.message = r.str()
	case kReason:
		f.reason = r.word()
	case kNote:
		f.note = r.str()
	case kName:
		f.name = r.str()
	case kEmail:
		f.email = r.str()
	case kRole:
		f.role = r.word()
	case kContentType:
		f.contentType = r.word()
	case kSHA256:
		f.sha256 = r.str()
	case kTitle:
		f.title = r.str()
	case kDescription:
		f.description = r.str()
	case kURL:
		f.url = r.str()
	case kText:
		f.text = r.str()
	case kAudience:
		f.audience = r.word()
	case kCapacity:
		f.capacity = r.int()
	case kVersion:
		f.version = r.int()
	case kSize:
		f.size = int64(r.int())
	case kAccepting:
		f.accepting = r.bool()
	case kAt:
		f.at = r.time()
	case kDetails:
		f.details = r.sessionDetails()
	case kProfile:
		f.profile = r.profile()
	}
}

func (r *jsonReader) sessionDetails() domain.SessionDetails {
	var d domain.SessionDetails
	var seen uint8
	first := true
	if !r.open() {
		return d
	}
	for r.field(&first) {
		var bit uint8
		switch string(r.key) {
		case "date":
			bit = 1
			d.Date = r.date()
		case "minutes":
			bit = 2
			d.Minutes = r.int()
		case "notes":
			bit = 4
			d.Notes = r.str()
		case "value":
			bit = 8
			d.Value = r.int()
		}
		r.once(&seen, bit)
	}
	return d
}

func (r *jsonReader) profile() domain.Profile {
	var p domain.Profile
	var seen uint16
	first := true
	if !r.open() {
		return p
	}
	for r.field(&first) {
		var bit uint16
		switch string(r.key) {
		case "name":
			bit = 1 << 0
			p.Name = r.str()
		case "designation":
			bit = 1 << 1
			p.Designation = r.word()
		case "discipline":
			bit = 1 << 2
			p.Discipline = r.word()
		case "industry":
			bit = 1 << 3
			p.Industry = r.word()
		case "location":
			bit = 1 << 4
			p.Location = r.location()
		case "yearsOfExperience":
			bit = 1 << 5
			p.YearsOfExperience = r.int()
		case "languages":
			bit = 1 << 6
			p.Languages = r.strings()
		case "biography":
			bit = 1 << 7
			p.Biography = r.str()
		case "focus":
			bit = 1 << 8
			p.Focus = r.strings()
		case "skills":
			bit = 1 << 9
			p.Skills = r.ratings()
		case "preferences":
			bit = 1 << 10
			p.Preferences = r.preferences()
		case "contact":
			bit = 1 << 11
			p.Contact = r.contact()
		}
		r.once16(&seen, bit)
	}
	return p
}

func (r *jsonReader) location() domain.Location {
	var l domain.Location
	var seen uint8
	first := true
	if !r.open() {
		return l
	}
	for r.field(&first) {
		var bit uint8
		switch string(r.key) {
		case "city":
			bit = 1
			l.City = r.word()
		case "province":
			bit = 2
			l.Province = r.word()
		}
		r.once(&seen, bit)
	}
	return l
}

func (r *jsonReader) preferences() domain.Preferences {
	var p domain.Preferences
	var seen uint8
	first := true
	if !r.open() {
		return p
	}
	for r.field(&first) {
		var bit uint8
		switch string(r.key) {
		case "meetingFormats":
			bit = 1
			p.MeetingFormats = r.strings()
		case "meetingFrequency":
			bit = 2
			p.MeetingFrequency = r.word()
		case "partner":
			bit = 4
			p.Partner = r.partner()
		}
		r.once(&seen, bit)
	}
	return p
}

func (r *jsonReader) partner() domain.PartnerPreferences {
	var p domain.PartnerPreferences
	var seen uint8
	first := true
	if !r.open() {
		return p
	}
	for r.field(&first) {
		var bit uint8
		switch string(r.key) {
		case "disciplines":
			bit = 1
			p.Disciplines = r.strings()
		case "industries":
			bit = 2
			p.Industries = r.strings()
		case "provinces":
			bit = 4
			p.Provinces = r.strings()
		case "languages":
			bit = 8
			p.Languages = r.strings()
		case "minYearsOfExperience":
			bit = 16
			p.MinYearsOfExperience = r.int()
		case "notes":
			bit = 32
			p.Notes = r.str()
		}
		r.once(&seen, bit)
	}
	return p
}

func (r *jsonReader) contact() domain.Contact {
	var c domain.Contact
	var seen uint8
	first := true
	if !r.open() {
		return c
	}
	for r.field(&first) {
		var bit uint8
		switch string(r.key) {
		case "email":
			bit = 1
			c.Email = r.str()
		case "phone":
			bit = 2
			c.Phone = r.str()
		case "preferredMethod":
			bit = 4
			c.PreferredMethod = domain.ContactMethod(r.word())
		}
		r.once(&seen, bit)
	}
	return c
}

// jsonReader reads the JSON of one event. Any input it does not handle
// sets bad; the readers then return zero values and the caller gives up.
type jsonReader struct {
	b   []byte
	i   int
	bad bool
	key []byte
	in  *interner
}

func (r *jsonReader) fail() { r.bad = true; r.i = len(r.b) }

// once marks a key of a nested object seen, failing on a key the object
// does not have (bit 0) or a key seen before.
func (r *jsonReader) once(seen *uint8, bit uint8) {
	if bit == 0 || *seen&bit != 0 {
		r.fail()
	}
	*seen |= bit
}

func (r *jsonReader) once16(seen *uint16, bit uint16) {
	if bit == 0 || *seen&bit != 0 {
		r.fail()
	}
	*seen |= bit
}

func (r *jsonReader) space() {
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

func (r *jsonReader) expect(c byte) bool {
	r.space()
	if r.i < len(r.b) && r.b[r.i] == c {
		r.i++
		return true
	}
	r.fail()
	return false
}

// open starts an object.
func (r *jsonReader) open() bool { return !r.bad && r.expect('{') }

// field moves to the next key of an object and reads it into r.key; it
// returns false at the object's end or on bad input.
func (r *jsonReader) field(first *bool) bool {
	if r.bad {
		return false
	}
	r.space()
	if r.i < len(r.b) && r.b[r.i] == '}' {
		r.i++
		return false
	}
	if !*first && !r.expect(',') {
		return false
	}
	*first = false
	if !r.expect('"') {
		return false
	}
	start := r.i
	for r.i < len(r.b) && r.b[r.i] != '"' {
		if c := r.b[r.i]; c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			r.fail()
			return false
		}
		r.i++
	}
	if r.i >= len(r.b) {
		r.fail()
		return false
	}
	r.key = r.b[start:r.i]
	r.i++
	return r.expect(':')
}

// end checks that nothing but space follows the value read.
func (r *jsonReader) end() bool {
	r.space()
	return !r.bad && r.i == len(r.b)
}

// raw reads a string's contents, without the quotes, when it holds no
// escape: the common case, which needs no copy before conversion.
func (r *jsonReader) raw() ([]byte, bool) {
	if !r.expect('"') {
		return nil, false
	}
	start := r.i
	ascii := true
	// Skip eight bytes at a time while none of them ends the string, starts
	// an escape or is a control character: texts are long and plain.
	for r.i+8 <= len(r.b) {
		w := binary.LittleEndian.Uint64(r.b[r.i:])
		if plain(w) {
			r.i += 8
			continue
		}
		if w&highBits != 0 && plain(w&^highBits|w&highBits>>1) {
			// Only bytes of a multi-byte character: checked below.
			ascii = false
			r.i += 8
			continue
		}
		break
	}
	for r.i < len(r.b) {
		c := r.b[r.i]
		switch {
		case c == '"':
			s := r.b[start:r.i]
			r.i++
			if !ascii && !utf8.Valid(s) {
				r.fail()
				return nil, false
			}
			return s, true
		case c == '\\':
			r.i = start
			return nil, false
		case c < 0x20:
			r.fail()
			return nil, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
		r.i++
	}
	r.fail()
	return nil, false
}

// Masks for reading eight bytes of a string at once.
const (
	lowBits  = 0x0101010101010101
	highBits = 0x8080808080808080
)

// plain reports whether the eight bytes in w (little-endian) are all
// printable ASCII other than '"' and '\\': none of them needs a look of
// its own. A byte b is below n when b-n borrows, which sets its high bit
// where b's own high bit is clear; a byte equals c when b^c is below 1.
func plain(w uint64) bool {
	quote := w ^ ('"' * lowBits)
	backslash := w ^ ('\\' * lowBits)
	special := (w - 0x20*lowBits) | (quote - lowBits) | (backslash - lowBits)
	return (special|w)&highBits == 0
}

func (r *jsonReader) str() string {
	if r.bad {
		return ""
	}
	if s, ok := r.raw(); ok {
		return string(s)
	}
	if r.bad {
		return ""
	}
	return r.escaped()
}

// word reads a string that is one of few values over a log (a role, a
// discipline, a language, a skill), through the reader's interner.
func (r *jsonReader) word() string {
	if r.bad {
		return ""
	}
	if s, ok := r.raw(); ok {
		return r.in.intern(s)
	}
	if r.bad {
		return ""
	}
	return r.escaped()
}

// interner hands out one copy of each short string it is given, so that
// decoding a log allocates the few hundred values of its enumerations and
// facets (roles, disciplines, provinces, languages, skills) once rather
// than once per event, and the read models built from it hold one copy of
// each. It is not safe for concurrent use: each decoding goroutine has its
// own. A nil interner copies every string.
type interner struct{ strs map[string]string }

// Strings longer than internMaxLen are copied, not interned: they are
// texts rather than values from a list. An interner keeps at most
// internMaxStrings strings, so that a log of many distinct short values
// does not grow it without bound; past that it copies the new ones.
const (
	internMaxLen     = 48
	internMaxStrings = 1 << 14
)

func newInterner() *interner { return &interner{strs: make(map[string]string, 1024)} }

func (in *interner) intern(b []byte) string {
	if in == nil || len(b) > internMaxLen {
		return string(b)
	}
	if s, ok := in.strs[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(in.strs) < internMaxStrings {
		in.strs[s] = s
	}
	return s
}

// escaped reads a string with escapes, from just after its opening quote.
func (r *jsonReader) escaped() string {
	out := make([]byte, 0, 64)
	for r.i < len(r.b) {
		c := r.b[r.i]
		switch {
		case c == '"':
			r.i++
			if !utf8.Valid(out) {
				r.fail()
				return ""
			}
			return string(out)
		case c < 0x20:
			r.fail()
			return ""
		case c != '\\':
			out = append(out, c)
			r.i++
			continue
		}
		if r.i+1 >= len(r.b) {
			r.fail()
			return ""
		}
		switch e := r.b[r.i+1]; e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			if r.i+6 > len(r.b) {
				r.fail()
				return ""
			}
			v, ok := hex4(r.b[r.i+2 : r.i+6])
			// Surrogates pair up or turn into U+FFFD in encoding/json;
			// they are rare enough to leave to it.
			if !ok || 0xd800 <= v && v < 0xe000 {
				r.fail()
				return ""
			}
			out = utf8.AppendRune(out, rune(v))
			r.i += 6
			continue
		default:
			r.fail()
			return ""
		}
		r.i += 2
	}
	r.fail()
	return ""
}

// uuidHexAt are the offsets of a canonical UUID's byte pairs.
var uuidHexAt = [16]int{0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34}

// hexValue maps a hex digit to its value and anything else to 0xff.
var hexValue = func() (t [256]byte) {
	for i := range t {
		d, ok := unhex(byte(i))
		if !ok {
			d = 0xff
		}
		t[i] = d
	}
	return t
}()

func hex4(b []byte) (uint32, bool) {
	var v uint32
	for _, c := range b {
		d, ok := unhex(c)
		if !ok {
			return 0, false
		}
		v = v<<4 | uint32(d)
	}
	return v, true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// uuid reads the canonical 36-character form; uuid.Parse also takes other
// forms, which the fallback handles.
func (r *jsonReader) uuid() uuid.UUID {
	var u uuid.UUID
	s, ok := r.raw()
	if !ok || len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		r.fail()
		return u
	}
	var bad byte
	for j, i := range uuidHexAt {
		hi, lo := hexValue[s[i]], hexValue[s[i+1]]
		bad |= hi | lo
		u[j] = hi<<4 | lo&0x0f
	}
	if bad&0xf0 != 0 {
		r.fail()
		return uuid.UUID{}
	}
	return u
}

// int reads an integer without fraction or exponent, which encoding/json
// would refuse for an int field or read the same way.
func (r *jsonReader) int() int {
	r.space()
	start := r.i
	neg := r.i < len(r.b) && r.b[r.i] == '-'
	if neg {
		r.i++
	}
	var v int
	digits := 0
	for r.i < len(r.b) && '0' <= r.b[r.i] && r.b[r.i] <= '9' {
		v = v*10 + int(r.b[r.i]-'0')
		r.i++
		digits++
	}
	// Leading zeros are not JSON, and 18 digits always fit.
	if digits == 0 || digits > 18 || (digits > 1 && r.b[start+b2i(neg)] == '0') {
		r.fail()
		return 0
	}
	if r.i < len(r.b) {
		switch r.b[r.i] {
		case '.', 'e', 'E':
			r.fail()
			return 0
		}
	}
	if neg {
		return -v
	}
	return v
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (r *jsonReader) bool() bool {
	r.space()
	switch {
	case len(r.b)-r.i >= 4 && string(r.b[r.i:r.i+4]) == "true":
		r.i += 4
		return true
	case len(r.b)-r.i >= 5 && string(r.b[r.i:r.i+5]) == "false":
		r.i += 5
		return false
	}
	r.fail()
	return false
}

func (r *jsonReader) strings() []string {
	if !r.expect('[') {
		return nil
	}
	out := []string{}
	r.space()
	if r.i < len(r.b) && r.b[r.i] == ']' {
		r.i++
		return out
	}
	for !r.bad {
		out = append(out, r.word())
		r.space()
		if r.i < len(r.b) && r.b[r.i] == ']' {
			r.i++
			return out
		}
		r.expect(',')
	}
	return nil
}

func (r *jsonReader) ratings() map[string]int {
	first := true
	if !r.open() {
		return nil
	}
	out := map[string]int{}
	for r.field(&first) {
		if _, dup := out[string(r.key)]; dup {
			r.fail()
			return nil
		}
		k := r.in.intern(r.key)
		out[k] = r.int()
	}
	return out
}

// time reads the form time.Time.MarshalJSON writes for UTC times,
// "2006-01-02T15:04:05.999999999Z"; other offsets go to the fallback.
func (r *jsonReader) time() time.Time {
	s, ok := r.raw()
	if !ok || len(s) < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[len(s)-1] != 'Z' {
		r.fail()
		return time.Time{}
	}
	year, ok1 := digitsOf(s[0:4])
	month, ok2 := digitsOf(s[5:7])
	day, ok3 := digitsOf(s[8:10])
	hour, ok4 := digitsOf(s[11:13])
	minute, ok5 := digitsOf(s[14:16])
	sec, ok6 := digitsOf(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || sec > 59 {
		r.fail()
		return time.Time{}
	}
	nsec := 0
	if frac := s[19 : len(s)-1]; len(frac) > 0 {
		if len(frac) < 2 || len(frac) > 10 || frac[0] != '.' {
			r.fail()
			return time.Time{}
		}
		n, ok := digitsOf(frac[1:])
		if !ok {
			r.fail()
			return time.Time{}
		}
		for range 10 - len(frac) {
			n *= 10
		}
		nsec = n
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	if t.Day() != day {
		r.fail()
		return time.Time{}
	}
	return t
}

func digitsOf(b []byte) (int, bool) {
	v := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

// date reads "YYYY-MM-DD"; null and other forms go to the fallback.
func (r *jsonReader) date() domain.Date {
	s, ok := r.raw()
	if !ok || len(s) != 10 || s[4] != '-' || s[7] != '-' {
		r.fail()
		return domain.Date{}
	}
	year, ok1 := digitsOf(s[0:4])
	month, ok2 := digitsOf(s[5:7])
	day, ok3 := digitsOf(s[8:10])
	if !(ok1 && ok2 && ok3) {
		r.fail()
		return domain.Date{}
	}
	d, err := domain.NewDate(year, time.Month(month), day)
	if err != nil {
		r.fail()
	}
	return d
}
