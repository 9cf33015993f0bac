package pii

import (
	"strings"
	"unicode"
)

// Masks for screens, exports and APIs (GB/T 35273 display restriction).
// All functions count runes, never bytes, so Chinese text is never cut
// inside a character.

// keep returns s with all runes except the first head and last tail replaced
// by '*'.
func keep(s string, head, tail int) string {
	r := []rune(s)
	if head+tail > len(r) {
		head, tail = 0, 0
	}
	var b strings.Builder
	for i, c := range r {
		if i < head || i >= len(r)-tail {
			b.WriteRune(c)
		} else {
			b.WriteByte('*')
		}
	}
	return b.String()
}

// MaskID masks a document number: an 18-character resident ID keeps the
// first 4 (province and city) and last 4 characters, "6104**********123X";
// shorter numbers keep the first 2 and last 2, and numbers too short for
// that keep only the first and last character.
func MaskID(number string) string {
	number = strings.TrimSpace(number)
	n := len([]rune(number))
	switch {
	case n >= 18:
		return keep(number, 4, 4)
	case n >= 6:
		return keep(number, 2, 2)
	case n >= 3:
		return keep(number, 1, 1)
	}
	return keep(number, 0, 0)
}

// MaskPhone masks a phone number: mobiles keep the operator prefix and the
// last 4 digits, "139****5678"; landlines keep the area code and last 2
// digits, "029-******66". Anything unrecognised keeps only its last 2
// characters, erring on the side of hiding too much.
func MaskPhone(p string) string {
	if strings.TrimSpace(p) == "" {
		return ""
	}
	n, err := NormalizePhone(p)
	if err != nil {
		return keep(strings.TrimSpace(p), 0, 2)
	}
	if area, num, ok := strings.Cut(n, "-"); ok {
		return area + "-" + keep(num, 0, 2)
	}
	return keep(n, 3, 4)
}

// MaskName masks a personal name. Chinese names keep the first character
// and, from three characters on, the last: "张*", "张*明", "欧**娜". Latin
// names keep the initial of each word: "J*** S****".
func MaskName(name string) string {
	name = NormalizeText(name)
	if name == "" {
		return ""
	}
	if !hasHan(name) {
		words := strings.Split(name, " ")
		for i, w := range words {
			words[i] = keep(w, 1, 0)
		}
		return strings.Join(words, " ")
	}
	// Spaces typed between Chinese characters would otherwise count as a
	// character and reveal the given name.
	name = strings.ReplaceAll(name, " ", "")
	switch n := len([]rune(name)); {
	case n == 1:
		return "*"
	case n == 2:
		return keep(name, 1, 0)
	default:
		return keep(name, 1, 1)
	}
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

// MaskText masks free text such as an address: the first and last rune
// stay, everything between becomes '*'. One- and two-rune values keep only
// their first rune when they have two, none when they have one.
func MaskText(s string) string {
	switch n := len([]rune(s)); {
	case n == 0:
		return ""
	case n <= 2:
		return keep(s, n-1, 0)
	default:
		return keep(s, 1, 1)
	}
}
