package graph

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/blob"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/graph/model"
	"github.com/mentorship/mentorship/projections"
	"github.com/mentorship/mentorship/refusal"
)

// DocumentsPath is where documents are downloaded from: GET
// DocumentsPath + a document's global ID.
const DocumentsPath = "/documents/"

func downloadURL(id uuid.UUID) string {
	return DocumentsPath + model.GlobalID(model.KindDocument, id)
}

// uploadDocument stores the bytes first, then records the document, so no
// event ever points at missing bytes. The upload then ends with the blob
// store: kept once recorded (or when the outcome is unknown), discarded
// when refused, which deletes the bytes unless another upload of the same
// bytes needs them. What a crash leaves, CollectDocumentBlobs removes.
func (r *Resolver) uploadDocument(ctx context.Context, in model.UploadDocumentInput) (*model.DocumentPayload, error) {
	a, matchID, err := r.matchInput(ctx, in.MatchID, domain.RoleMentee, domain.RoleMentor)
	if err != nil {
		return nil, err
	}
	if r.Blobs == nil {
		return nil, &apiError{CodeUnavailable, "document storage is not configured on this server"}
	}
	refuse := func(code refusal.Code, field, msg string) (*model.DocumentPayload, error) {
		f := field
		return &model.DocumentPayload{UserErrors: []*model.UserError{{Code: string(code), Field: &f, Message: msg}}, ClientMutationID: in.ClientMutationID}, nil
	}
	// Refuse what the rules would refuse before storing anything, on the
	// match's own stream rather than a read model that may lag.
	m, err := r.Commands.Match(ctx, matchID)
	if err != nil {
		return nil, err
	}
	if err := m.CheckDocumentUpload(matchID, a); err != nil {
		ue, uerr := userErrors(err)
		if uerr != nil {
			return nil, uerr
		}
		if ue[0].Field == nil {
			ue[0].Field = strPtr("matchId")
		}
		return &model.DocumentPayload{UserErrors: ue, ClientMutationID: in.ClientMutationID}, nil
	}
	name, err := domain.CleanDocumentName(r.program(), baseName(in.File.Filename))
	if err != nil {
		ue, _ := userErrors(err)
		ue[0].Field = strPtr("file")
		return &model.DocumentPayload{UserErrors: ue, ClientMutationID: in.ClientMutationID}, nil
	}
	stored, err := r.Blobs.Put(ctx, in.File.File, name)
	switch {
	case errors.Is(err, blob.ErrTooLarge), errors.Is(err, blob.ErrNotAllowed), errors.Is(err, blob.ErrEmpty):
		return refuse(refusal.CodeInvalidInput, "file", err.Error())
	case err != nil:
		return nil, err
	}
	req := request(ctx, a, in.ClientMutationID)
	docID := uuid.New()
	if req.CommandID != "" {
		docID = domain.EventID("document-id", req.CommandID)
	}
	res, err := r.Commands.AddDocument(ctx, req, domain.AddDocument{
		MatchID: matchID, DocumentID: docID, Name: name, Size: stored.Size, ContentType: stored.ContentType, SHA256: stored.SHA256,
	})
	ue, uerr := userErrors(err)
	if uerr == nil && len(ue) > 0 {
		if err := r.Blobs.Discard(context.WithoutCancel(ctx), stored); err != nil {
			logFor(ctx, r.Log).Warn().Err(err).Str("sha256", stored.SHA256).Msg("refused upload's bytes not deleted")
		}
	} else {
		// Recorded, or perhaps recorded: an error after the append was
		// durable must not delete the bytes its event points at.
		r.Blobs.Keep(stored)
	}
	if uerr != nil {
		return nil, uerr
	}
	r.settle(ctx, res)
	p := &model.DocumentPayload{UserErrors: ue, ClientMutationID: in.ClientMutationID}
	r.readBack(ctx, res.Position, func() error {
		d, m, ok, err := r.Matches.Document(docID)
		if ok {
			p.Document = r.showDocument(a, d, m)
		}
		return err
	})
	return p, nil
}

func (r *Resolver) removeDocument(ctx context.Context, in model.RemoveDocumentInput) (*model.DocumentPayload, error) {
	a, err := requireRole(ctx, domain.RoleMentee, domain.RoleMentor)
	if err != nil {
		return nil, err
	}
	docID, err := model.ParseID(in.DocumentID, model.KindDocument)
	if err != nil {
		return nil, err
	}
	d, m, ok, err := r.Matches.Document(docID)
	if err != nil {
		return nil, err
	}
	if !ok || !r.documentsVisible(a, m) {
		f := "documentId"
		return &model.DocumentPayload{UserErrors: []*model.UserError{{Code: string(domain.CodeDocumentNotFound), Field: &f, Message: "no such document"}}, ClientMutationID: in.ClientMutationID}, nil
	}
	res, err := r.Commands.RemoveDocument(ctx, request(ctx, a, in.ClientMutationID), m.ID, docID)
	ue, err := userErrors(err)
	if err != nil {
		return nil, err
	}
	r.settle(ctx, res)
	p := &model.DocumentPayload{UserErrors: ue, ClientMutationID: in.ClientMutationID}
	r.readBack(ctx, res.Position, func() error {
		nd, nm, ok, err := r.Matches.Document(d.ID)
		if ok {
			p.Document = r.showDocument(a, nd, nm)
		}
		return err
	})
	return p, nil
}

// documentsVisible reports whether a may list and download the documents
// of match m: staff always; its partners unless the match ended and the
// program hides an ended match's documents.
func (r *Resolver) documentsVisible(a domain.Actor, m *projections.MatchView) bool {
	switch {
	case a.Role == domain.RoleStaff:
		return true
	case a.Role != domain.RoleMentee && a.Role != domain.RoleMentor:
		return false
	case a.ID != m.MenteeID && a.ID != m.MentorID:
		return false
	}
	return r.program().PartnersSeeDocuments(m.Status)
}

// documentNode resolves node(id:) for a document, as match.documents shows
// it; a removed version still resolves, marked removed.
func (r *Resolver) documentNode(a domain.Actor, id uuid.UUID) (*model.Document, error) {
	d, m, ok, err := r.Matches.Document(id)
	if err != nil || !ok {
		return nil, err
	}
	return r.showDocument(a, d, m), nil
}

// DocumentBlobsGrace is how old stored bytes must be before
// CollectDocumentBlobs may remove them: far longer than any upload takes
// between storing its bytes and recording its document.
const DocumentBlobsGrace = 24 * time.Hour

// CollectDocumentBlobs removes the stored bytes that no recorded document
// points at and that were stored before before (the wall time less
// DocumentBlobsGrace): what uploads left when the server stopped between
// storing their bytes and recording their documents. It reads the
// documents from the event log itself, so it never trusts a read model
// that may lag, and may run while the server serves. It returns how many
// files it removed.
func CollectDocumentBlobs(ctx context.Context, store eventstore.Store, blobs *blob.Store, before time.Time) (int, error) {
	// The bytes' own times bound what the log must show: read the log up
	// to its head now, and anything stored before before was recorded by
	// then or never will be.
	head, err := store.Head(ctx)
	if err != nil {
		return 0, fmt.Errorf("collect document blobs: %w", err)
	}
	referenced := map[string]bool{}
	for from := eventstore.Start; from < head; {
		recs, err := store.ReadAll(ctx, from, 0)
		if err != nil {
			return 0, fmt.Errorf("collect document blobs: %w", err)
		}
		if len(recs) == 0 {
			break
		}
		for _, rec := range recs {
			if rec.Type != (domain.DocumentAdded{}).EventType() {
				continue
			}
			ev, err := domain.Decode(rec.Type, rec.SchemaVersion, rec.Data)
			if err != nil {
				return 0, fmt.Errorf("collect document blobs: %w", err)
			}
			referenced[ev.(domain.DocumentAdded).SHA256] = true
		}
		from = recs[len(recs)-1].Position
	}
	n, err := blobs.Collect(ctx, func(sum string) bool { return referenced[sum] }, before)
	if err != nil {
		return n, fmt.Errorf("collect document blobs: %w", err)
	}
	return n, nil
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

// DocumentHandler serves GET DocumentsPath{id} to the match's partners and
// staff, as an attachment that browsers never render or sniff. Mount it
// behind Authenticate.
func DocumentHandler(r *Resolver) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "only GET is allowed", http.StatusMethodNotAllowed)
			return
		}
		a, ok := ActorFrom(req.Context())
		if !ok {
			http.Error(w, "sign in first", http.StatusUnauthorized)
			return
		}
		id, err := model.ParseID(strings.TrimPrefix(req.URL.Path, DocumentsPath), model.KindDocument)
		if err != nil {
			http.Error(w, "invalid document ID", http.StatusBadRequest)
			return
		}
		d, m, ok, err := r.Matches.Document(id)
		if err != nil {
			WriteError(w, req, http.StatusServiceUnavailable, err)
			return
		}
		if !ok || !r.documentsVisible(a, m) || d.Removed || r.Blobs == nil {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		rc, err := r.Blobs.Open(req.Context(), d.SHA256)
		if err != nil {
			logFor(req.Context(), r.Log).Error().Err(err).Str("document", d.ID.String()).Msg("document bytes missing")
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		defer rc.Close()
		h := w.Header()
		h.Set("Content-Type", d.ContentType)
		h.Set("Content-Length", strconv.FormatInt(d.Size, 10))
		h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": d.Name}))
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "private, no-store")
		h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
		_, _ = io.Copy(w, rc)
	})
}

// requirePreflight refuses multipart requests (uploads) that lack a header
// a plain HTML form cannot send, so that a foreign page cannot post them.
func requirePreflight(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		mt, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type"))
		if mt == "multipart/form-data" && req.Header.Get("Apollo-Require-Preflight") == "" && req.Header.Get("GraphQL-Preflight") == "" {
			WriteError(w, req, http.StatusBadRequest, badInput("uploads need the Apollo-Require-Preflight header"))
			return
		}
		next.ServeHTTP(w, req)
	})
}
