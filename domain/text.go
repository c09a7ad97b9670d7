package domain

import (
	"net/mail"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// TextKind says which layout characters a text field may hold.
type TextKind int

const (
	// SingleLine is one line, such as a name, a title, a city, an email
	// address, a URL or search words: it holds no control character at all.
	SingleLine TextKind = iota
	// MultiLine is free text, such as a biography, notes, a message or a
	// description: it may also hold line breaks and tabs.
	MultiLine
)

// blackFlag is the base of the emoji flags of subdivisions (England,
// Scotland, Wales), which are spelled with tag characters.
const blackFlag = '\U0001F3F4'

// maxFlagTags bounds the tag characters of one flag: a subdivision code is
// at most seven letters and digits ("gbsct" is five).
const maxFlagTags = 7

// CheckText refuses, with an INVALID_INPUT *refusal.Error naming field,
// text that a field of the kind must not hold: text that is not valid
// UTF-8, control characters (but the line breaks and tabs of multi-line
// text), line and paragraph separators, bidirectional formatting characters, and tag
// characters outside an emoji flag. All of them are invisible or move the
// text around them, so that what a reader sees is not what was written:
// "invoice\u202Efdp.exe" shows as "invoiceexe.pdf", a name with a
// right-to-left override reads backwards in an email subject, and tag
// characters carry hidden text. Every text field of every command is
// checked here, so that no field lets them through. Letters of any script,
// combining marks and emoji, with their zero-width joiners, are text.
func CheckText(field, s string, kind TextKind) error {
	if !utf8.ValidString(s) {
		return invalid(field, "must be valid UTF-8 text")
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '\n' || r == '\t':
			if kind != MultiLine {
				return invalid(field, "must be one line, without line breaks or tabs")
			}
		case unicode.IsControl(r), r == '\u2028', r == '\u2029':
			return invalid(field, "must not contain control characters or line separators")
		case unicode.Is(unicode.Bidi_Control, r):
			return invalid(field, "must not contain bidirectional formatting characters, which make text display other than it is")
		case isTag(r):
			return invalid(field, "must not contain invisible tag characters")
		case r == blackFlag:
			size += flagTags(s[i+size:])
		}
		i += size
	}
	return nil
}

// visible reports whether s holds a character that shows: not only
// spaces, format characters (zero-width spaces and joiners, word joiners)
// and the blank fillers of Hangul and Braille.
func visible(s string) bool {
	for _, r := range s {
		switch {
		case unicode.IsSpace(r), unicode.Is(unicode.Cf, r):
		case r == '\u115F', r == '\u1160', r == '\u3164', r == '\uFFA0', r == '\u2800':
		default:
			return true
		}
	}
	return false
}

// isTag reports whether r is in the Tags block, invisible characters that
// only emoji flags of subdivisions legitimately use.
func isTag(r rune) bool { return r >= 0xE0000 && r <= 0xE007F }

// flagTags returns the length in bytes of the tag sequence that makes a
// black flag the flag of a subdivision: one to maxFlagTags tag letters or
// digits, then the cancel tag. It returns 0 when s does not start with
// one, so that the tags are checked, and refused, one by one.
func flagTags(s string) int {
	for i, n := 0, 0; i < len(s); n++ {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == 0xE007F && n > 0:
			return i + size
		case n == maxFlagTags, !(r >= 0xE0030 && r <= 0xE0039 || r >= 0xE0061 && r <= 0xE007A):
			return 0
		}
		i += size
	}
	return 0
}

// cleanLine trims a single-line text field and checks it with CheckText:
// present when required, at most max characters.
func cleanLine(field, s string, max int, required bool) (string, error) {
	return cleanText(field, s, max, required, SingleLine)
}

// cleanNotes is cleanLine for free text, which may also hold line breaks
// and tabs. Windows line breaks are stored as plain ones.
func cleanNotes(field, s string, max int, required bool) (string, error) {
	return cleanText(field, s, max, required, MultiLine)
}

func cleanText(field, s string, max int, required bool, kind TextKind) (string, error) {
	s = strings.TrimSpace(s)
	if kind == MultiLine {
		s = strings.ReplaceAll(s, "\r\n", "\n")
	}
	if err := CheckText(field, s, kind); err != nil {
		return "", err
	}
	if s == "" {
		if required {
			return "", invalid(field, "is required")
		}
		return "", nil
	}
	if !visible(s) {
		// A name of zero-width spaces reads as no name at all.
		return "", invalid(field, "must hold a visible character, not only invisible ones")
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
