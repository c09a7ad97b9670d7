package domain

import (
	"encoding/json"
	"fmt"
	"time"
)

// Date is a calendar day without a time or a time zone, such as the day a
// session took place. The zero Date means "no date".
type Date struct {
	year  int
	month time.Month
	day   int
}

// NewDate returns the day year-month-day, refusing days that do not exist
// (such as 31 April) and years outside 1..9999.
func NewDate(year int, month time.Month, day int) (Date, error) {
	if year < 1 || year > 9999 {
		return Date{}, invalid("date", "year %d is out of range", year)
	}
	t := time.Date(year, month, day, 0, 0, 0, 0, time.UTC)
	if t.Year() != year || t.Month() != month || t.Day() != day {
		return Date{}, invalid("date", "%04d-%02d-%02d is not a calendar day", year, int(month), day)
	}
	return Date{year: year, month: month, day: day}, nil
}

// ParseDate reads a day written as YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, invalid("date", "%q is not a day written as YYYY-MM-DD", s)
	}
	return NewDate(t.Year(), t.Month(), t.Day())
}

// DateOf returns the calendar day of t in loc.
func DateOf(t time.Time, loc *time.Location) Date {
	y, m, d := t.In(loc).Date()
	return Date{year: y, month: m, day: d}
}

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// Year returns d's year.
func (d Date) Year() int { return d.year }

// Month returns d's month.
func (d Date) Month() time.Month { return d.month }

// Day returns d's day of the month.
func (d Date) Day() int { return d.day }

// Equal reports whether d and o are the same day.
func (d Date) Equal(o Date) bool { return d == o }

// Before reports whether d comes before o.
func (d Date) Before(o Date) bool { return d.compare(o) < 0 }

// After reports whether d comes after o.
func (d Date) After(o Date) bool { return d.compare(o) > 0 }

func (d Date) compare(o Date) int {
	switch {
	case d.year != o.year:
		return d.year - o.year
	case d.month != o.month:
		return int(d.month - o.month)
	default:
		return d.day - o.day
	}
}

// String writes d as YYYY-MM-DD, or "" for the zero Date.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.year, int(d.month), d.day)
}

// MarshalJSON writes d as "YYYY-MM-DD", or null for the zero Date.
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(d.String())
}

// UnmarshalJSON reads "YYYY-MM-DD" or null.
func (d *Date) UnmarshalJSON(b []byte) error {
	var s *string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("date: %w", err)
	}
	if s == nil {
		*d = Date{}
		return nil
	}
	v, err := ParseDate(*s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}
