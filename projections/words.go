package projections

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Words splits text into the words the biography search matches, as the
// index splits biographies: see appendWords.
func Words(text string) []string {
	var out []string
	appendWords(nil, text, func(w []byte) { out = append(out, string(w)) })
	return out
}

// appendWords appends each word of text, lower-cased, to dst and calls fn
// with dst holding the word; it returns dst as it was. A word is a run of
// letters and digits with the combining marks that follow them, in
// composed form: "café" is one word whether its accent was typed as part
// of the "é" or after an "e", and neither is the word "cafe"; a Devanagari
// word keeps its vowel signs. Everything else (spaces, punctuation,
// symbols, emoji) separates words, so that a text of only those holds
// none. Variation selectors choose how the character before them is
// drawn, not which it is, and are left out.
func appendWords(dst []byte, text string, fn func([]byte)) []byte {
	base := len(dst)
	w := dst
	// wide records a character beyond ASCII in the word so far: only such
	// a word may need composing, which keeps the common case a byte loop.
	wide := false
	for i := 0; i < len(text); {
		c := text[i]
		var r rune
		size := 1
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if 'a' <= c && c <= 'z' || '0' <= c && c <= '9' {
				w = append(w, c)
				i++
				continue
			}
		} else {
			r, size = utf8.DecodeRuneInString(text[i:])
			if r != utf8.RuneError || size > 1 {
				if lr := unicode.ToLower(r); unicode.IsLetter(lr) || unicode.IsDigit(lr) || len(w) > base && isWordMark(r) {
					w = utf8.AppendRune(w, lr)
					wide = true
					i += size
					continue
				}
				if unicode.Is(unicode.Variation_Selector, r) {
					i += size
					continue
				}
			}
		}
		// A separator ends the word so far.
		if len(w) > base {
			fn(composed(w, base, wide))
			w, wide = w[:base], false
		}
		i += size
	}
	if len(w) > base {
		fn(composed(w, base, wide))
	}
	return w[:base]
}

// isWordMark reports whether r is a combining mark that belongs to the word
// it follows: any but a variation selector.
func isWordMark(r rune) bool {
	return unicode.IsMark(r) && !unicode.Is(unicode.Variation_Selector, r)
}

// composed returns w with the word from base in NFC, the composed form.
func composed(w []byte, base int, wide bool) []byte {
	if !wide || norm.NFC.IsNormal(w[base:]) {
		return w
	}
	return append(w[:base], norm.NFC.Bytes(w[base:])...)
}
