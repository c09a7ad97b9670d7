package projections

import "github.com/google/uuid"

// Document finds a shared document by ID, with the match it belongs to.
func (p *Matches) Document(id uuid.UUID) (DocumentView, *MatchView, bool, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	for _, m := range p.matches {
		for _, d := range m.Documents {
			if d.ID == id {
				return d, m.clone(), true, nil
			}
		}
	}
	return DocumentView{}, nil, false, nil
}
