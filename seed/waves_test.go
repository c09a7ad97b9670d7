package seed

import (
	"testing"
	"time"

	"github.com/mentorship/mentorship/domain"
)

// Within a wave no two actions append to one member's stream, and a
// member's actions keep their planned order across waves, so that any
// interleaving of a wave's actions writes the same streams.
func TestWavesNeverShareAMemberStream(t *testing.T) {
	opts := Options{Mentors: 30, Mentees: 200, Events: 8000, Seed: 11, Days: 400, End: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	pl := newPlanner(domain.DefaultProgram(), opts)
	later := 0
	for d := range opts.Days {
		pl.plan(d)
		for _, phase := range pl.buckets[d] {
			waves := pl.waves(phase)
			var flat []action
			for w, wave := range waves {
				keys := map[int64]bool{}
				for _, tk := range wave {
					for _, k := range pl.touches(tk) {
						if keys[k] {
							t.Fatalf("day %d wave %d: two actions append to member %d", d, w, k)
						}
						keys[k] = true
					}
				}
				if w > 0 {
					later += len(wave)
				}
				flat = append(flat, wave...)
			}
			if len(flat) != len(phase) {
				t.Fatalf("day %d: %d actions in waves of %d", d, len(flat), len(phase))
			}
			// A member's actions come in plan order.
			last := map[int64]int{}
			pos := map[action]int{}
			for i, tk := range phase {
				pos[tk] = i
			}
			for _, tk := range flat {
				for _, k := range pl.touches(tk) {
					if p, ok := last[k]; ok && p > pos[tk] {
						t.Fatalf("day %d: member %d's actions out of plan order", d, k)
					}
					last[k] = pos[tk]
				}
			}
		}
	}
	if later == 0 {
		t.Fatal("no member had two actions in a phase: the test shows nothing")
	}
}
