package domain

import (
	"strconv"

	"github.com/google/uuid"
)

// Stream categories. A stream's name is its category, a dash and the ID of
// the aggregate it holds.
const (
	// MatchCategory streams hold the lifecycle of one match.
	MatchCategory = "match"
	// MemberCategory streams hold one member's account, profile and slots.
	MemberCategory = "member"
	// ResourceCategory streams hold one program resource.
	ResourceCategory = "resource"
)

// MatchStream returns the name of the stream of match id.
func MatchStream(id uuid.UUID) string { return MatchCategory + "-" + id.String() }

// MemberStream returns the name of the stream of member id.
func MemberStream(id uuid.UUID) string { return MemberCategory + "-" + id.String() }

// ResourceStream returns the name of the stream of resource id.
func ResourceStream(id uuid.UUID) string { return ResourceCategory + "-" + id.String() }

// eventNamespace roots every derived event ID, so that they never collide
// with name-based UUIDs of other systems.
var eventNamespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://github.com/mentorship/mentorship/events"))

// EventID derives a name-based (version 5) UUID from a namespace and the
// parts that identify an event's cause, such as a command ID and the event's
// index among the events the command decided. The same inputs always give
// the same ID, so a retried append is recognised by the store instead of
// duplicating events. Parts are length-prefixed, so ("ab", "c") and
// ("a", "bc") give different IDs.
func EventID(namespace string, parts ...string) uuid.UUID {
	b := appendPart(nil, namespace)
	for _, p := range parts {
		b = appendPart(b, p)
	}
	return uuid.NewSHA1(eventNamespace, b)
}

func appendPart(b []byte, s string) []byte {
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, ':')
	return append(b, s...)
}
