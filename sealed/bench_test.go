package sealed_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/google/uuid"
	"gocloud.dev/secrets/localsecrets"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/keyring"
	"github.com/mentorship/mentorship/keyring/filestore"
	"github.com/mentorship/mentorship/sealed"
)

// BenchmarkSealData seals the notes of a logged session, as every
// addSession does, with the member's key cached.
func BenchmarkSealData(b *testing.B) {
	ctx := context.Background()
	keyStore, err := filestore.Open(filepath.Join(b.TempDir(), "keys.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = keyStore.Close() })
	master, err := localsecrets.NewRandomKey()
	if err != nil {
		b.Fatal(err)
	}
	keeper := localsecrets.NewKeeper(master)
	b.Cleanup(func() { _ = keeper.Close() })
	keys, err := keyring.New(ctx, keyStore, keeper)
	if err != nil {
		b.Fatal(err)
	}
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
