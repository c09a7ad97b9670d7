package sealed_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/keyring"
	"github.com/mentorship/mentorship/keyring/keyringtest"
	"github.com/mentorship/mentorship/sealed"
)

// BenchmarkSealData seals the notes of a logged session, as every
// addSession does, with the member's key cached.
func BenchmarkSealData(b *testing.B) {
	ctx := context.Background()
	keys := keyringtest.Local(b, b.TempDir())
	s := sealed.Wrap(nil, sealed.Keyring(keys), keyring.Prefix)
	day, _ := domain.NewDate(2026, 3, 2)
	enc, err := domain.Encode(domain.SessionLogged{MatchID: uuid.New(), SessionID: uuid.New(), AuthorID: uuid.New(),
		Details: domain.SessionDetails{Date: day, Minutes: 45, Notes: "Discussed the next steps of the licensing application.", Value: 4}, At: at})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.SealData(ctx, enc.Type, enc.SchemaVersion, enc.Data); err != nil {
			b.Fatal(err)
		}
	}
}
