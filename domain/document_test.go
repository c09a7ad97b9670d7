package domain_test

import (
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
)

const sum1 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
const sum2 = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"

// hidden is a program that hides an ended match's documents from its
// partners; adding and removing stay refused on an ended match either way.
func hidden(p *domain.Program) { p.EndedMatchDocuments = domain.EndedMatchDocumentsHidden }

func TestAddDocument(t *testing.T) {
	add := domain.AddDocument{
		MatchID: matchID, DocumentID: documentID, Actor: mentee, Name: " plan.pdf ", Size: 1234,
		ContentType: "application/pdf", SHA256: strings.ToUpper(sum1), At: days(5),
	}
	withAdd := func(f func(*domain.AddDocument)) domain.AddDocument { c := add; f(&c); return c }
	added := func(id, uploader uuid.UUID, sum string, version int) domain.DocumentAdded {
		return domain.DocumentAdded{
			MatchID: matchID, DocumentID: id, UploaderID: uploader, Name: "plan.pdf", Size: 1234,
			ContentType: "application/pdf", SHA256: sum, Version: version, At: days(5),
		}
	}
	removed := domain.DocumentRemoved{MatchID: matchID, DocumentID: document2ID, RemovedBy: mentorID, Name: "plan.pdf", Version: 2, At: days(5)}
	runMatchCases(t, []matchCase{
		{name: "a partner adds a document, its checksum in lower case", given: active(), when: add, then: []domain.Event{added(documentID, menteeID, sum1, 1)}},
		{
			name: "the other partner adds one too", given: active(), when: withAdd(func(c *domain.AddDocument) { c.Actor = mentor }),
			then: []domain.Event{added(documentID, mentorID, sum1, 1)},
		},
		{
			name: "an upload under an existing name is the next version", given: with(active(), added(documentID, menteeID, sum1, 1)),
			when: withAdd(func(c *domain.AddDocument) { c.DocumentID, c.SHA256, c.Actor = document2ID, sum2, mentor }),
			then: []domain.Event{added(document2ID, mentorID, sum2, 2)},
		},
		{
			name: "versions keep counting after a removal", given: with(active(), added(documentID, menteeID, sum1, 1), added(document2ID, mentorID, sum2, 2), removed),
			when: withAdd(func(c *domain.AddDocument) { c.DocumentID = document3ID }),
			then: []domain.Event{added(document3ID, menteeID, sum1, 3)},
		},
		{
			name: "media type parameters are dropped", given: active(),
			when: withAdd(func(c *domain.AddDocument) { c.ContentType = "Text/Plain; charset=utf-8" }),
			then: []domain.Event{func() domain.Event { e := added(documentID, menteeID, sum1, 1); e.ContentType = "text/plain"; return e }()},
		},
		{name: "adding the same document again decides nothing", given: with(active(), added(documentID, menteeID, sum1, 1)), when: add},
		{
			name: "other contents under a used document ID are refused", given: with(active(), added(documentID, menteeID, sum1, 1)),
			when: withAdd(func(c *domain.AddDocument) { c.SHA256 = sum2 }), err: refused(domain.CodeDocumentExists),
		},
		{name: "an outsider does not add", given: active(), when: withAdd(func(c *domain.AddDocument) { c.Actor = otherMentor }), err: refused(domain.CodeNotAPartner)},
		{name: "staff do not add to a match", given: active(), when: withAdd(func(c *domain.AddDocument) { c.Actor = staff }), err: refused(domain.CodeNotAPartner)},
		{name: "a pending match has no documents", given: pending(), when: add, err: refused(domain.CodeMatchNotActive)},
		{name: "an ended match takes no documents", given: with(active(), ended(days(4), "OTHER")), when: add, err: refused(domain.CodeTerminalState)},
		{name: "an ended match takes no documents when they are hidden", program: hidden, given: with(active(), ended(days(4), "OTHER")), when: add, err: refused(domain.CodeTerminalState)},
		{name: "the mentor's ID as a mentee does not add", given: active(), when: withAdd(func(c *domain.AddDocument) { c.Actor = domain.Actor{ID: mentorID, Role: domain.RoleMentee} }), err: refused(domain.CodeNotAPartner)},
		{name: "a match that was never requested is not found", when: add, err: refused(domain.CodeMatchNotFound)},
		{name: "the document ID is required", given: active(), when: withAdd(func(c *domain.AddDocument) { c.DocumentID = uuid.Nil }), err: badInput("documentId")},
		{name: "the name is required", given: active(), when: withAdd(func(c *domain.AddDocument) { c.Name = " " }), err: badInput("name")},
		{name: "the name has no folders", given: active(), when: withAdd(func(c *domain.AddDocument) { c.Name = "../plan.pdf" }), err: badInput("name")},
		{name: "the name has no backslashes", given: active(), when: withAdd(func(c *domain.AddDocument) { c.Name = `c:\plan.pdf` }), err: badInput("name")},
		{name: "the name is not a dot", given: active(), when: withAdd(func(c *domain.AddDocument) { c.Name = ".." }), err: badInput("name")},
		{name: "the name has a length limit", given: active(), when: withAdd(func(c *domain.AddDocument) { c.Name = strings.Repeat("a", 256) }), err: badInput("name")},
		{name: "the name is one line", given: active(), when: withAdd(func(c *domain.AddDocument) { c.Name = "plan\n.pdf" }), err: badInput("name")},
		{name: "an empty document is refused", given: active(), when: withAdd(func(c *domain.AddDocument) { c.Size = 0 }), err: badInput("size")},
		{name: "a document over the size limit is refused", given: active(), when: withAdd(func(c *domain.AddDocument) { c.Size = 25<<20 + 1 }), err: badInput("size")},
		{name: "unlisted media types are refused", given: active(), when: withAdd(func(c *domain.AddDocument) { c.ContentType = "application/x-msdownload" }), err: badInput("contentType")},
		{name: "malformed media types are refused", given: active(), when: withAdd(func(c *domain.AddDocument) { c.ContentType = "pdf" }), err: badInput("contentType")},
		{name: "a short checksum is refused", given: active(), when: withAdd(func(c *domain.AddDocument) { c.SHA256 = sum1[:62] }), err: badInput("sha256")},
		{name: "a checksum that is not hex is refused", given: active(), when: withAdd(func(c *domain.AddDocument) { c.SHA256 = "z" + sum1[1:] }), err: badInput("sha256")},
	})
}

func TestRemoveDocument(t *testing.T) {
	added := domain.DocumentAdded{
		MatchID: matchID, DocumentID: documentID, UploaderID: menteeID, Name: "plan.pdf", Size: 10,
		ContentType: "application/pdf", SHA256: sum1, Version: 1, At: days(3),
	}
	remove := domain.RemoveDocument{MatchID: matchID, DocumentID: documentID, Actor: mentor, At: days(5)}
	removed := domain.DocumentRemoved{MatchID: matchID, DocumentID: documentID, RemovedBy: mentorID, UploaderID: menteeID, Name: "plan.pdf", Version: 1, At: days(5)}
	withRemove := func(f func(*domain.RemoveDocument)) domain.RemoveDocument { c := remove; f(&c); return c }
	runMatchCases(t, []matchCase{
		{name: "the partner who did not upload removes a document", given: with(active(), added), when: remove, then: []domain.Event{removed}},
		{name: "removing it again decides nothing", given: with(active(), added, removed), when: remove},
		{name: "a document never added is not found", given: active(), when: remove, err: refused(domain.CodeDocumentNotFound)},
		{name: "an outsider does not remove", given: with(active(), added), when: withRemove(func(c *domain.RemoveDocument) { c.Actor = otherMentee }), err: refused(domain.CodeNotAPartner)},
		{name: "documents of an ended match stay", given: with(active(), added, ended(days(4), "OTHER")), when: remove, err: refused(domain.CodeTerminalState)},
		{name: "hidden documents of an ended match stay too", program: hidden, given: with(active(), added, ended(days(4), "OTHER")), when: remove, err: refused(domain.CodeTerminalState)},
		{
			name: "the uploader removes it", given: with(active(), added), when: withRemove(func(c *domain.RemoveDocument) { c.Actor = mentee }),
			then: []domain.Event{func() domain.DocumentRemoved { e := removed; e.RemovedBy = menteeID; return e }()},
		},
		{name: "staff do not remove", given: with(active(), added), when: withRemove(func(c *domain.RemoveDocument) { c.Actor = staff }), err: refused(domain.CodeNotAPartner)},
		{name: "a pending match has no documents", given: pending(), when: remove, err: refused(domain.CodeMatchNotActive)},
		{name: "the document ID is required", given: with(active(), added), when: withRemove(func(c *domain.RemoveDocument) { c.DocumentID = uuid.Nil }), err: badInput("documentId")},
	})
}
