package domain

import "github.com/google/uuid"

// Personal is implemented by the events that carry members' personal texts:
// names, login and contact emails, phone numbers, biographies and other free
// text of profiles, request and decline messages, session notes, document
// names and staff notes written to or about partners. MapPersonal returns a
// copy of the event with every such text replaced by f(owner, text), where
// owner is the member whose personal data the text is. The store seals each
// text under its owner's key, so that erasing the member leaves the text
// unreadable; a text about both partners of a match goes through f twice,
// once per partner, and is unreadable once either is erased.
//
// Lists chosen from the program's settings (discipline, province,
// languages, reasons) are not personal texts: they stay readable for
// reports.
type Personal interface {
	Event
	MapPersonal(f func(owner uuid.UUID, text string) string) Event
}

// IsPersonal reports whether events of the type carry personal texts.
func IsPersonal(eventType string) bool { return personalTypes[eventType] }

var personalTypes = func() map[string]bool {
	m := map[string]bool{}
	for typ, fn := range decoders {
		e, err := fn([]byte("{}"))
		if err != nil {
			panic(err)
		}
		if _, ok := e.(Personal); ok {
			m[typ] = true
		}
	}
	return m
}()

// both seals a text about both partners of a match.
func both(f func(uuid.UUID, string) string, a, b uuid.UUID, text string) string {
	return f(b, f(a, text))
}

// MapPersonal implements Personal.
func (e MemberRegistered) MapPersonal(f func(uuid.UUID, string) string) Event {
	e.Name = f(e.MemberID, e.Name)
	e.Email = f(e.MemberID, e.Email)
	return e
}

// MapPersonal implements Personal.
func (e ProfileUpdated) MapPersonal(f func(uuid.UUID, string) string) Event {
	e.Profile = e.Profile.clone()
	e.Profile.mapPersonal(func(s string) string { return f(e.MemberID, s) })
	return e
}

// mapPersonal replaces the profile's free texts in place.
func (pr *Profile) mapPersonal(f func(string) string) {
	pr.Name = f(pr.Name)
	pr.Location.City = f(pr.Location.City)
	pr.Biography = f(pr.Biography)
	pr.Preferences.Partner.Notes = f(pr.Preferences.Partner.Notes)
	pr.Contact.Email = f(pr.Contact.Email)
	pr.Contact.Phone = f(pr.Contact.Phone)
}

// MapPersonal implements Personal.
func (e RequestSlotTaken) MapPersonal(f func(uuid.UUID, string) string) Event {
	e.Message = f(e.MemberID, e.Message)
	return e
}

// MapPersonal implements Personal.
func (e MatchRequested) MapPersonal(f func(uuid.UUID, string) string) Event {
	e.Message = f(e.MenteeID, e.Message)
	return e
}

// MapPersonal implements Personal.
func (e MatchDeclined) MapPersonal(f func(uuid.UUID, string) string) Event {
	e.Message = both(f, e.MentorID, e.MenteeID, e.Message)
	return e
}

// MapPersonal implements Personal.
func (e MentorNudged) MapPersonal(f func(uuid.UUID, string) string) Event {
	e.Note = both(f, e.MentorID, e.MenteeID, e.Note)
	return e
}

// MapPersonal implements Personal.
func (e MatchEnded) MapPersonal(f func(uuid.UUID, string) string) Event {
	e.Note = both(f, e.MentorID, e.MenteeID, e.Note)
	return e
}

// MapPersonal implements Personal.
func (e MatchEndRequested) MapPersonal(f func(uuid.UUID, string) string) Event {
	e.Note = both(f, e.MentorID, e.MenteeID, e.Note)
	return e
}

// MapPersonal implements Personal.
func (e SessionLogged) MapPersonal(f func(uuid.UUID, string) string) Event {
	e.Details.Notes = f(e.AuthorID, e.Details.Notes)
	return e
}

// MapPersonal implements Personal.
func (e SessionEdited) MapPersonal(f func(uuid.UUID, string) string) Event {
	e.Details.Notes = f(e.AuthorID, e.Details.Notes)
	return e
}

// MapPersonal implements Personal.
func (e DocumentAdded) MapPersonal(f func(uuid.UUID, string) string) Event {
	e.Name = f(e.UploaderID, e.Name)
	return e
}

// MapPersonal implements Personal.
func (e DocumentRemoved) MapPersonal(f func(uuid.UUID, string) string) Event {
	owner := e.UploaderID
	if owner == uuid.Nil {
		owner = e.RemovedBy
	}
	e.Name = f(owner, e.Name)
	return e
}

// MapPersonal implements Personal.
func (e AccountClosureRequested) MapPersonal(f func(uuid.UUID, string) string) Event {
	e.Note = f(e.MemberID, e.Note)
	return e
}
