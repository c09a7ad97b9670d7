package projections_test

import (
	"testing"

	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/projections"
	"github.com/mentorship/mentorship/projections/readmodeltest"
)

// The in-memory read models pass the suite every read-model store runs.
func TestReadModelConformance(t *testing.T) {
	readmodeltest.Run(t, readmodeltest.Harness{Open: func(t *testing.T) readmodeltest.Models {
		members, matches := projections.NewMembers(), projections.NewMatches()
		return readmodeltest.Models{
			Members: members, Matches: matches,
			Apply: func(events []projections.Event) error {
				if err := members.Apply(events); err != nil {
					return err
				}
				return matches.Apply(events)
			},
			Position: func() (eventstore.Position, error) { return min(members.Position(), matches.Position()), nil },
		}
	}})
}
