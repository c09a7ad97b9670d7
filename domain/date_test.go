package domain_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/refusal"
)

func TestNewDate(t *testing.T) {
	d, err := domain.NewDate(2028, time.February, 29)
	if err != nil {
		t.Fatal(err)
	}
	if d.Year() != 2028 || d.Month() != time.February || d.Day() != 29 || d.String() != "2028-02-29" {
		t.Errorf("got %d %s %d %q", d.Year(), d.Month(), d.Day(), d)
	}
	for _, bad := range []struct {
		y int
		m time.Month
		d int
	}{{2027, time.February, 29}, {2026, time.April, 31}, {2026, 13, 1}, {2026, 1, 0}, {0, 1, 1}, {10000, 1, 1}} {
		if _, err := domain.NewDate(bad.y, bad.m, bad.d); refusal.CodeOf(err) != refusal.CodeInvalidInput {
			t.Errorf("NewDate(%d, %d, %d): %v, want INVALID_INPUT", bad.y, bad.m, bad.d, err)
		}
	}
}

func TestParseDate(t *testing.T) {
	for _, bad := range []string{"", "2026-3-5", "05/03/2026", "2026-02-30", "2026-03-05T00:00:00Z"} {
		if _, err := domain.ParseDate(bad); refusal.CodeOf(err) != refusal.CodeInvalidInput {
			t.Errorf("ParseDate(%q): %v, want INVALID_INPUT", bad, err)
		}
	}
	a, b := date(t, "2026-03-05"), date(t, "2026-03-06")
	if !a.Before(b) || a.After(b) || !b.After(a) || a.Equal(b) || !a.Equal(date(t, "2026-03-05")) {
		t.Error("comparisons are wrong")
	}
	if !date(t, "2025-12-31").Before(date(t, "2026-01-01")) || !date(t, "2026-01-31").Before(date(t, "2026-02-01")) {
		t.Error("comparisons across months and years are wrong")
	}
}

func TestDateOf(t *testing.T) {
	at := time.Date(2026, 3, 3, 2, 0, 0, 0, time.UTC)
	if got := domain.DateOf(at, time.UTC); got.String() != "2026-03-03" {
		t.Errorf("UTC: %s", got)
	}
	if got := domain.DateOf(at, time.FixedZone("EST", -5*3600)); got.String() != "2026-03-02" {
		t.Errorf("EST: %s", got)
	}
}

func TestDateJSON(t *testing.T) {
	type holder struct {
		D domain.Date `json:"d"`
	}
	b, err := json.Marshal(holder{D: date(t, "2026-03-05")})
	if err != nil || string(b) != `{"d":"2026-03-05"}` {
		t.Errorf("Marshal: %s, %v", b, err)
	}
	b, err = json.Marshal(holder{})
	if err != nil || string(b) != `{"d":null}` {
		t.Errorf("Marshal of the zero Date: %s, %v", b, err)
	}
	var h holder
	if err := json.Unmarshal([]byte(`{"d":null}`), &h); err != nil || !h.D.IsZero() {
		t.Errorf("Unmarshal null: %v, %v", h.D, err)
	}
	if err := json.Unmarshal([]byte(`{"d":"2026-03-05"}`), &h); err != nil || h.D.String() != "2026-03-05" {
		t.Errorf("Unmarshal: %v, %v", h.D, err)
	}
	for _, bad := range []string{`{"d":5}`, `{"d":"yesterday"}`} {
		if err := json.Unmarshal([]byte(bad), &h); err == nil {
			t.Errorf("Unmarshal(%s) succeeded", bad)
		}
	}
	if (domain.Date{}).String() != "" {
		t.Error("the zero Date prints as text")
	}
}
