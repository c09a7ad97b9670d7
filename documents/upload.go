// Package documents is the use case of the documents a match's partners
// share: an upload stores the bytes and records the document on the
// match, and a collector removes the bytes that no recorded document points
// at. The API only translates to and from these calls.
package documents

import (
	"context"
	"errors"
	"io"
	"path"
	"strings"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/mentorship/mentorship/blob"
	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/refusal"
)

// Commands is what the documents need of the command side.
type Commands interface {
	// Program returns the settings whose document rules apply.
	Program() domain.Program
	// Match loads a match's current state from its stream.
	Match(ctx context.Context, id uuid.UUID) (domain.Match, error)
	// AddDocument records a document on a match.
	AddDocument(ctx context.Context, req command.Request, cmd domain.AddDocument) (command.Result, error)
}

// Service stores documents' bytes, records the documents on their
// matches, and opens the bytes of recorded documents.
type Service struct {
	commands Commands
	blobs    *blob.Store
	log      zerolog.Logger
}

// New returns the documents whose bytes blobs keeps and whose records
// commands appends. Failures to delete a refused upload's bytes are logged
// to the request's logger, or to log.
func New(commands Commands, blobs *blob.Store, log zerolog.Logger) *Service {
	return &Service{commands: commands, blobs: blobs, log: log}
}

// Open returns the bytes of a recorded document by their digest. The
// caller decides who may read them.
func (s *Service) Open(ctx context.Context, sha256 string) (io.ReadCloser, error) {
	return s.blobs.Open(ctx, sha256)
}

// Upload stores a file the actor of req sends for a match, under the name
// the client gave it (folders dropped), and records it as a new document
// of the match. It returns the document's ID and where the record landed,
// also when the record is refused, so that the answer can show the
// document that holds the ID.
//
// It stores the bytes first and records the document after, so that no
// event ever points at missing bytes. Before storing anything it refuses
// what the rules would refuse, on the match's own stream rather than a read
// model that may lag. Every refusal is a *refusal.Error naming the input at
// fault ("matchId" or "file") and leaves nothing behind: the bytes of an
// upload the record refuses are discarded, unless another upload of the
// same bytes needs them. Bytes whose record fails in an unknown way are
// kept, since the event may be durable; Collect removes them if it is not.
// With the same req.CommandID, a retried upload gets the same document ID.
func (s *Service) Upload(ctx context.Context, req command.Request, matchID uuid.UUID, filename string, file io.Reader) (uuid.UUID, command.Result, error) {
	m, err := s.commands.Match(ctx, matchID)
	if err != nil {
		return uuid.Nil, command.Result{}, err
	}
	if err := m.CheckDocumentUpload(matchID, req.Actor); err != nil {
		return uuid.Nil, command.Result{}, refusal.OnField(err, "matchId")
	}
	name, err := domain.CleanDocumentName(s.commands.Program(), baseName(filename))
	if err != nil {
		return uuid.Nil, command.Result{}, onFile(err)
	}
	stored, err := s.blobs.Put(ctx, file, name)
	switch {
	case errors.Is(err, blob.ErrTooLarge), errors.Is(err, blob.ErrNotAllowed), errors.Is(err, blob.ErrEmpty):
		return uuid.Nil, command.Result{}, &refusal.Error{Code: refusal.CodeInvalidInput, Field: "file", Message: err.Error()}
	case err != nil:
		return uuid.Nil, command.Result{}, err
	}
	docID := uuid.New()
	if req.CommandID != "" {
		docID = domain.EventID("document-id", req.CommandID)
	}
	res, err := s.commands.AddDocument(ctx, req, domain.AddDocument{
		MatchID: matchID, DocumentID: docID, Name: name, Size: stored.Size, ContentType: stored.ContentType, SHA256: stored.SHA256,
	})
	if refusal.CodeOf(err) != "" {
		if derr := s.blobs.Discard(context.WithoutCancel(ctx), stored); derr != nil {
			s.logger(ctx).Warn().Err(derr).Str("sha256", stored.SHA256).Msg("refused upload's bytes not deleted")
		}
		return docID, res, err
	}
	// Recorded, or perhaps recorded: an error after the append was
	// durable must not delete the bytes its event points at.
	s.blobs.Keep(stored)
	return docID, res, err
}

// logger is the request's logger when it has one, the service's
// otherwise.
func (s *Service) logger(ctx context.Context) *zerolog.Logger {
	if l := zerolog.Ctx(ctx); l.GetLevel() != zerolog.Disabled {
		return l
	}
	return &s.log
}

// onFile names the file in a refusal of its name, whatever field the rule
// named.
func onFile(err error) error {
	if e, ok := refusal.As(err); ok {
		c := *e
		c.Field = "file"
		return &c
	}
	return err
}

// baseName drops any folders a client put in a file name, whichever
// separator it used.
func baseName(name string) string {
	name = strings.ReplaceAll(name, `\`, "/")
	if i := strings.LastIndex(name, "/"); i >= 0 {
		// A name that tries to climb folders is refused outright rather
		// than quietly shortened.
		if strings.Contains(name, "..") {
			return name
		}
		return path.Base(name)
	}
	return name
}
