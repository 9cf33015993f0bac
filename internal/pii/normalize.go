package pii

import (
	"errors"
	"strings"
	"unicode"
)

// NormalizeText folds what Chinese input methods commonly produce into plain
// text: full-width ASCII (U+FF01..U+FF5E) becomes half-width, the ideographic
// space becomes a space, leading and trailing whitespace is removed and inner
// runs of whitespace collapse to one space. Values must be normalised before
// they are compared or blind-indexed, or "１３９…" and "139…" would differ.
func NormalizeText(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		switch {
		case r >= 0xFF01 && r <= 0xFF5E:
			r -= 0xFEE0
		case r == 0x3000:
			r = ' '
		}
		if unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// ErrPhone is returned by NormalizePhone for anything that is not a mainland
// mobile or landline number.
var ErrPhone = errors.New("pii: invalid phone number")

// NormalizePhone returns a mainland mobile number as 11 digits, or a
// landline as "area-number" (e.g. "029-88886666"). It accepts a +86, 86 or
// 0086 prefix, spaces, dashes, parentheses and full-width digits.
func NormalizePhone(raw string) (string, error) {
	s := NormalizeText(raw)
	digits := make([]byte, 0, len(s))
	plus := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isDigit(c):
			digits = append(digits, c)
		case c == '+' && i == 0:
			plus = true
		case c == ' ' || c == '-' || c == '(' || c == ')':
		default:
			return "", ErrPhone
		}
	}
	d := string(digits)
	intl := false
	switch {
	case plus:
		if !strings.HasPrefix(d, "86") {
			return "", ErrPhone
		}
		d, intl = d[2:], true
	case strings.HasPrefix(d, "0086"):
		d, intl = d[4:], true
	case len(d) == 13 && strings.HasPrefix(d, "861"):
		// Without "+" only a mobile number is unambiguous after 86.
		d = d[2:]
	}
	if len(d) == 11 && d[0] == '1' && d[1] >= '3' && d[1] <= '9' {
		return d, nil
	}
	if intl {
		// International format drops the trunk 0 of the area code.
		d = "0" + d
	}
	// Area codes 010 and 020-029 have three digits, all others (0310 to
	// 0999) four, so the split does not depend on where the user typed a
	// dash.
	if len(d) < 10 || d[0] != '0' || d[1] == '0' || (d[1] == '1' && d[2] != '0') {
		return "", ErrPhone
	}
	area := 4
	if d[1] == '1' || d[1] == '2' {
		area = 3
	}
	num := d[area:]
	if len(num) < 7 || len(num) > 8 || num[0] == '0' || num[0] == '1' {
		return "", ErrPhone
	}
	return d[:area] + "-" + num, nil
}
