package domain

import (
	"net/mail"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

func isControl(r rune) bool { return unicode.IsControl(r) }

// cleanLine trims a single-line text field and checks it: valid UTF-8, no
// control characters, present when required, at most max characters.
func cleanLine(field, s string, max int, required bool) (string, error) {
	return cleanText(field, s, max, required, false)
}

// cleanNotes is cleanLine for free text, which may also hold line breaks
// and tabs. Windows line breaks are stored as plain ones.
func cleanNotes(field, s string, max int, required bool) (string, error) {
	return cleanText(field, s, max, required, true)
}

func cleanText(field, s string, max int, required, multiline bool) (string, error) {
	if !utf8.ValidString(s) {
		return "", invalid(field, "must be valid UTF-8 text")
	}
	s = strings.TrimSpace(s)
	if multiline {
		s = strings.ReplaceAll(s, "\r\n", "\n")
	}
	for _, r := range s {
		if isControl(r) && !(multiline && (r == '\n' || r == '\t')) {
			return "", invalid(field, "must not contain control characters")
		}
	}
	if s == "" {
		if required {
			return "", invalid(field, "is required")
		}
		return "", nil
	}
	if n := utf8.RuneCountInString(s); n > max {
		return "", invalid(field, "must be at most %d characters (got %d)", max, n)
	}
	return s, nil
}

// cleanChoice checks an optional value against a program list; the empty
// value means no choice.
func cleanChoice(field, v string, list []string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" || slices.Contains(list, v) {
		return v, nil
	}
	return "", invalid(field, "%q is not one of the program's values", v)
}

// cleanSet checks values against a program list and returns them as a set:
// sorted, without duplicates, and nil when empty.
func cleanSet(field string, vs []string, list []string) ([]string, error) {
	var out []string
	for _, v := range vs {
		v = strings.TrimSpace(v)
		if v == "" {
			return nil, invalid(field, "must not hold an empty value")
		}
		if !slices.Contains(list, v) {
			return nil, invalid(field, "%q is not one of the program's values", v)
		}
		out = append(out, v)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// cleanEmail checks an optional email address.
func cleanEmail(field, s string, max int, required bool) (string, error) {
	s, err := cleanLine(field, s, max, required)
	if err != nil || s == "" {
		return s, err
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s {
		return "", invalid(field, "must be an email address such as name@example.org")
	}
	return s, nil
}

// cleanPhone checks an optional phone number: digits with the usual
// separators, 7 to 15 digits in all.
func cleanPhone(field, s string, max int) (string, error) {
	s, err := cleanLine(field, s, max, false)
	if err != nil || s == "" {
		return s, err
	}
	digits := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0:
		case strings.ContainsRune(" -().", r):
		default:
			return "", invalid(field, "may hold only digits, spaces and the characters + - ( ) .")
		}
	}
	if digits < 7 || digits > 15 {
		return "", invalid(field, "must have 7 to 15 digits (got %d)", digits)
	}
	return s, nil
}

// checkRating checks an optional rating: 0 means none, otherwise 1 to 5.
func checkRating(field string, v int) error {
	if v < 0 || v > 5 {
		return invalid(field, "must be from 1 to 5 (got %d)", v)
	}
	return nil
}
