package domain

import (
	"encoding/hex"
	"mime"
	"slices"
	"strings"

	"github.com/google/uuid"
)

// cleanDocumentName checks a file name: one line of visible text (see
// CheckText: a right-to-left override would let "invoice\u202Efdp.exe" show
// as "invoiceexe.pdf" to the partner who downloads it, who may then run a
// program taken for a PDF), without path separators, and not "." or "..".
func cleanDocumentName(p Program, name string) (string, error) {
	name, err := cleanLine("name", name, p.Limits.DocumentNameLength, true)
	if err != nil {
		return "", err
	}
	if strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		return "", invalid("name", "must be a file name without folders")
	}
	return name, nil
}

// CleanDocumentName checks a document's file name as the decider will, so
// that an upload with a bad name is refused before its bytes are stored.
func CleanDocumentName(p Program, name string) (string, error) { return cleanDocumentName(p, name) }

// cleanContentType reads a media type, dropping parameters such as the
// charset, and checks it against the program's list.
func cleanContentType(p Program, ct string) (string, error) {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return "", invalid("contentType", "%q is not a media type", ct)
	}
	if !slices.Contains(p.DocumentContentTypes, mt) {
		return "", invalid("contentType", "%s documents are not accepted", mt)
	}
	return mt, nil
}

// cleanChecksum checks a hex SHA-256 checksum and writes it in lower case.
func cleanChecksum(sum string) (string, error) {
	sum = strings.ToLower(strings.TrimSpace(sum))
	if b, err := hex.DecodeString(sum); err != nil || len(b) != 32 {
		return "", invalid("sha256", "must be a SHA-256 checksum in 64 hex digits")
	}
	return sum, nil
}

// CheckDocumentUpload refuses, as AddDocument would, a document from actor
// on match id whatever its contents: on a match that does not exist or is
// not active, or from anyone but its partners. Callers check it before
// storing an upload's bytes.
func (m Match) CheckDocumentUpload(id uuid.UUID, actor Actor) error {
	if err := m.check(id); err != nil {
		return err
	}
	return m.checkActive(actor)
}

func decideAddDocument(p Program, m Match, c AddDocument) ([]Event, error) {
	if err := checkBasics("matchId", c.MatchID, c.Actor, c.At); err != nil {
		return nil, err
	}
	if c.DocumentID == uuid.Nil {
		return nil, invalid("documentId", "is required")
	}
	name, err := cleanDocumentName(p, c.Name)
	if err != nil {
		return nil, err
	}
	if c.Size < 1 || c.Size > p.Limits.DocumentSize {
		return nil, invalid("size", "must be from 1 to %d bytes (got %d)", p.Limits.DocumentSize, c.Size)
	}
	ct, err := cleanContentType(p, c.ContentType)
	if err != nil {
		return nil, err
	}
	sum, err := cleanChecksum(c.SHA256)
	if err != nil {
		return nil, err
	}
	if err := m.CheckDocumentUpload(c.MatchID, c.Actor); err != nil {
		return nil, err
	}
	if d, ok := m.documents[c.DocumentID]; ok {
		if d.name == name && d.sha256 == sum && d.uploaderID == c.Actor.ID {
			return nil, nil
		}
		return nil, refuse(CodeDocumentExists, "a different document was added under this ID")
	}
	return []Event{DocumentAdded{
		MatchID: m.id, DocumentID: c.DocumentID, UploaderID: c.Actor.ID, Name: name, Size: c.Size,
		ContentType: ct, SHA256: sum, Version: m.versions[name] + 1, At: c.At.UTC(),
	}}, nil
}

func decideRemoveDocument(m Match, c RemoveDocument) ([]Event, error) {
	if err := checkBasics("matchId", c.MatchID, c.Actor, c.At); err != nil {
		return nil, err
	}
	if c.DocumentID == uuid.Nil {
		return nil, invalid("documentId", "is required")
	}
	if err := m.check(c.MatchID); err != nil {
		return nil, err
	}
	if err := m.checkActive(c.Actor); err != nil {
		return nil, err
	}
	d, ok := m.documents[c.DocumentID]
	if !ok {
		return nil, refuse(CodeDocumentNotFound, "no such document on this match")
	}
	if d.removed {
		return nil, nil
	}
	return []Event{DocumentRemoved{
		MatchID: m.id, DocumentID: c.DocumentID, RemovedBy: c.Actor.ID, UploaderID: d.uploaderID, Name: d.name, Version: d.version, At: c.At.UTC(),
	}}, nil
}
