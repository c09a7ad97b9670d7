package projections

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
)

// The heap that keeps a broad search's first page gives the same page as
// sorting every hit.
func TestSmallestHitsAreTheSortedPrefix(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{1, 7, 100, 2000} {
		hits := make([]SearchHit, n)
		for i := range hits {
			hits[i] = SearchHit{Score: r.IntN(5), Mentor: &MemberView{ID: uuid.New(), Profile: domain.Profile{Name: fmt.Sprintf("M%02d", r.IntN(40))}}}
		}
		want := slices.Clone(hits)
		slices.SortFunc(want, compareHits)
		for _, k := range []int{1, 5, 21, 101} {
			got := smallest(slices.Clone(hits), k)
			slices.SortFunc(got, compareHits)
			if diff := cmp.Diff(want[:min(k, n)], got); diff != "" {
				t.Fatalf("n=%d k=%d (-sorted +heap):\n%s", n, k, diff)
			}
		}
	}
}
