package graph

import (
	"context"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/graph/model"
	"github.com/mentorship/mentorship/projections"
)

// DocumentsPath is where documents are downloaded from: GET
// DocumentsPath + a document's global ID.
const DocumentsPath = "/documents/"

func downloadURL(id uuid.UUID) string {
	return DocumentsPath + model.GlobalID(model.KindDocument, id)
}

// uploadDocument translates an upload for the documents use case, which
// stores the bytes and records the document; the payload shows the
// document once the read models hold it.
func (r *Resolver) uploadDocument(ctx context.Context, in model.UploadDocumentInput) (*model.DocumentPayload, error) {
	a, matchID, err := r.matchInput(ctx, in.MatchID, domain.RoleMentee, domain.RoleMentor)
	if err != nil {
		return nil, err
	}
	if r.Documents == nil {
		return nil, &apiError{CodeUnavailable, "document storage is not configured on this server"}
	}
	docID, res, err := r.Documents.Upload(ctx, request(ctx, a, in.ClientMutationID), matchID, in.File.Filename, in.File.File)
	ue, err := userErrors(err)
	if err != nil {
		return nil, err
	}
	p := &model.DocumentPayload{UserErrors: ue, ClientMutationID: in.ClientMutationID}
	if docID == uuid.Nil {
		// Refused before anything was recorded.
		return p, nil
	}
	r.settle(ctx, res)
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
		return &model.DocumentPayload{UserErrors: refused(domain.CodeDocumentNotFound, "documentId", "no such document"), ClientMutationID: in.ClientMutationID}, nil
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
		if !ok || !r.documentsVisible(a, m) || d.Removed || r.Documents == nil {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		rc, err := r.Documents.Open(req.Context(), d.SHA256)
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
