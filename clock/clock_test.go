package clock_test

import (
	"testing"
	"time"

	"github.com/mentorship/mentorship/clock"
)

func TestSystemOffset(t *testing.T) {
	before := time.Now()
	got := clock.System{Offset: 360 * time.Hour}.Now()
	if d := got.Sub(before); d < 360*time.Hour || d > 360*time.Hour+time.Minute {
		t.Fatalf("offset clock is %v ahead, want 360h", d)
	}
	if got.Location() != time.UTC {
		t.Fatalf("clock returns %v, want UTC", got.Location())
	}
}

func TestFake(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f := clock.NewFake(start)
	if !f.Now().Equal(start) {
		t.Fatal("fake clock does not start where told")
	}
	f.Advance(14 * 24 * time.Hour)
	if want := start.AddDate(0, 0, 14); !f.Now().Equal(want) {
		t.Fatalf("after 14 days: %v, want %v", f.Now(), want)
	}
	f.Set(start)
	if !f.Now().Equal(start) {
		t.Fatal("Set did not move the clock")
	}
}
