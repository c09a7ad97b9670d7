package documents

import (
	"context"
	"fmt"
	"time"

	"github.com/mentorship/mentorship/blob"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/follow"
)

// BlobsGrace is how old stored bytes must be before CollectBlobs may
// remove them: far longer than any upload takes between storing its bytes
// and recording its document.
const BlobsGrace = 24 * time.Hour

// CollectBlobs removes the stored bytes that no recorded document points
// at and that were stored before before (the wall time less BlobsGrace):
// what uploads left when the server stopped between storing their bytes
// and recording their documents. It reads the documents from the event log
// itself, so it never trusts a read model that may lag, and may run while
// the server serves. It returns how many files it removed.
func CollectBlobs(ctx context.Context, store eventstore.Store, blobs *blob.Store, before time.Time) (int, error) {
	// The bytes' own times bound what the log must show: read the log up
	// to its head now, and anything stored before before was recorded by
	// then or never will be.
	head, err := store.Head(ctx)
	if err != nil {
		return 0, fmt.Errorf("collect document blobs: %w", err)
	}
	referenced := map[string]bool{}
	added := (domain.DocumentAdded{}).EventType()
	_, err = follow.Read(ctx, store, eventstore.Start, head, func(typ string) bool { return typ == added }, func(batch []follow.Event) error {
		for _, ev := range batch {
			if doc, ok := ev.Data.(domain.DocumentAdded); ok {
				referenced[doc.SHA256] = true
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("collect document blobs: %w", err)
	}
	n, err := blobs.Collect(ctx, func(sum string) bool { return referenced[sum] }, before)
	if err != nil {
		return n, fmt.Errorf("collect document blobs: %w", err)
	}
	return n, nil
}
