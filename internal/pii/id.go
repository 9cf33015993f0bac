package pii

import (
	"strings"
	"time"
	"unicode/utf8"
)

// DocType is the kind of identity document. Values are stored as these short
// codes, so never rename them.
type DocType string

// Document types.
const (
	DocResidentID    DocType = "resident_id" // 居民身份证, GB 11643-1999
	DocPassport      DocType = "passport"    // 护照
	DocHKMacaoPermit DocType = "hkmo_permit" // 港澳居民来往内地通行证
	DocTaiwanPermit  DocType = "tw_permit"   // 台湾居民来往大陆通行证
	DocForeignPR     DocType = "foreign_pr"  // 外国人永久居留身份证
)

// ID is a validated, normalised identity document number and what can be
// derived from it.
type ID struct {
	Type DocType
	// Number is trimmed, half-width, upper-case and without spaces;
	// 15-digit resident numbers are upgraded to 18.
	Number string
	// Birth is the birth date at UTC midnight, or zero when the document
	// type does not carry one.
	Birth time.Time
	// Sex follows GB/T 2261.1: 0 unknown, 1 male, 2 female.
	Sex int
	// Region is the 6-digit GB/T 2260 address code of a resident ID, else "".
	Region string
}

// Reason codes carried by IDError. They are stable so the UI can translate
// them instead of showing English text to residents.
const (
	ReasonEmpty  = "empty"
	ReasonLength = "length"
	ReasonChars  = "chars"
	ReasonRegion = "region"
	ReasonBirth  = "birth"
	ReasonCheck  = "check"
	ReasonType   = "type"
)

// IDError reports why ParseID rejected a number.
type IDError struct{ Reason string }

func (e *IDError) Error() string { return "pii: invalid id: " + e.Reason }

func idErr(reason string) error { return &IDError{Reason: reason} }

// provinces are the GB/T 2260 province-level codes (plus 71 Taiwan and
// 81/82/83 used by residence permits). Only the prefix is checked because
// county codes change yearly and an ID keeps the code it was issued with.
var provinces = map[string]bool{
	"11": true, "12": true, "13": true, "14": true, "15": true,
	"21": true, "22": true, "23": true,
	"31": true, "32": true, "33": true, "34": true, "35": true, "36": true, "37": true,
	"41": true, "42": true, "43": true, "44": true, "45": true, "46": true,
	"50": true, "51": true, "52": true, "53": true, "54": true,
	"61": true, "62": true, "63": true, "64": true, "65": true,
	"71": true, "81": true, "82": true, "83": true,
}

// earliestBirth rejects typos such as 1089 for 1989 while still accepting
// the standard's own 1880 sample.
var earliestBirth = time.Date(1880, 1, 1, 0, 0, 0, 0, time.UTC)

// normalizeDocNumber applies the normalisation shared by all document types.
// Document numbers never contain spaces, so spaces typed for readability are
// dropped rather than rejected.
func normalizeDocNumber(raw string) string {
	return strings.ToUpper(strings.ReplaceAll(NormalizeText(raw), " ", ""))
}

// ParseID validates and normalises an identity document number of type t.
// now bounds resident birth dates; its calendar date in its own location is
// "today". Errors are *IDError.
func ParseID(t DocType, raw string, now time.Time) (ID, error) {
	switch t {
	case DocResidentID, DocPassport, DocHKMacaoPermit, DocTaiwanPermit, DocForeignPR:
	default:
		return ID{}, idErr(ReasonType)
	}
	n := normalizeDocNumber(raw)
	if n == "" {
		return ID{}, idErr(ReasonEmpty)
	}
	// Length is counted in runes so that stray non-ASCII input is reported
	// as bad characters, not as a confusing length error.
	size := utf8.RuneCountInString(n)
	var err error
	switch t {
	case DocResidentID:
		return parseResident(n, size, now)
	case DocPassport:
		err = checkPassport(n, size)
	case DocHKMacaoPermit:
		err = checkHKMacao(n, size)
	case DocTaiwanPermit:
		err = checkTaiwan(n, size)
	case DocForeignPR:
		err = checkForeignPR(n, size)
	}
	if err != nil {
		return ID{}, err
	}
	return ID{Type: t, Number: n}, nil
}

func parseResident(n string, size int, now time.Time) (ID, error) {
	switch size {
	case 15:
		if !allDigits(n) {
			return ID{}, idErr(ReasonChars)
		}
		// GB 11643-1999 upgrade: 15-digit numbers were issued to people
		// born in the 1900s; add the century and compute the check char.
		first17 := n[:6] + "19" + n[6:]
		n = first17 + string(IDCheckChar(first17))
	case 18:
		if !allDigits(n[:17]) || !(isDigit(n[17]) || n[17] == 'X') {
			return ID{}, idErr(ReasonChars)
		}
	default:
		return ID{}, idErr(ReasonLength)
	}
	if !provinces[n[:2]] {
		return ID{}, idErr(ReasonRegion)
	}
	birth, ok := parseDate(n[6:14])
	if !ok || birth.Before(earliestBirth) {
		return ID{}, idErr(ReasonBirth)
	}
	y, m, d := now.Date()
	if birth.After(time.Date(y, m, d, 0, 0, 0, 0, time.UTC)) {
		return ID{}, idErr(ReasonBirth)
	}
	if IDCheckChar(n[:17]) != n[17] {
		return ID{}, idErr(ReasonCheck)
	}
	sex := 2 // odd sequence = male, even = female
	if (n[16]-'0')%2 == 1 {
		sex = 1
	}
	return ID{Type: DocResidentID, Number: n, Birth: birth, Sex: sex, Region: n[:6]}, nil
}

// parseDate reads YYYYMMDD and rejects dates that time.Date would silently
// roll over, such as 19490231.
func parseDate(s string) (time.Time, bool) {
	y := atoi(s[0:4])
	m := atoi(s[4:6])
	d := atoi(s[6:8])
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Year() != y || int(t.Month()) != m || t.Day() != d {
		return time.Time{}, false
	}
	return t, true
}

func checkPassport(n string, size int) error {
	if size < 5 || size > 17 {
		return idErr(ReasonLength)
	}
	if !allAlnum(n) {
		return idErr(ReasonChars)
	}
	return nil
}

// checkHKMacao accepts H/M plus 8 digits (current cards) or 10 digits
// (older booklets, whose last two digits count renewals).
func checkHKMacao(n string, size int) error {
	if size != 9 && size != 11 {
		return idErr(ReasonLength)
	}
	if (n[0] != 'H' && n[0] != 'M') || !allDigits(n[1:]) {
		return idErr(ReasonChars)
	}
	return nil
}

// checkTaiwan accepts the 8-digit card number and the older 10-character
// booklet numbers.
func checkTaiwan(n string, size int) error {
	switch size {
	case 8:
		if !allDigits(n) {
			return idErr(ReasonChars)
		}
	case 10:
		if !allAlnum(n) {
			return idErr(ReasonChars)
		}
	default:
		return idErr(ReasonLength)
	}
	return nil
}

// checkForeignPR accepts the 2017 card (3-letter nationality + 12 digits)
// and the 2023 card (18 characters starting with 9, MOD 11-2 check like a
// resident ID). Birth date and sex are not derived: the published layout of
// these numbers has not been verified.
func checkForeignPR(n string, size int) error {
	switch size {
	case 15:
		if !allUpper(n[:3]) || !allDigits(n[3:]) {
			return idErr(ReasonChars)
		}
	case 18:
		if n[0] != '9' || !allDigits(n[:17]) || !(isDigit(n[17]) || n[17] == 'X') {
			return idErr(ReasonChars)
		}
		if IDCheckChar(n[:17]) != n[17] {
			return idErr(ReasonCheck)
		}
	default:
		return idErr(ReasonLength)
	}
	return nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

func allUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

func allAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isDigit(c) && (c < 'A' || c > 'Z') {
			return false
		}
	}
	return true
}

// atoi converts a string already known to be ASCII digits.
func atoi(s string) int {
	v := 0
	for i := 0; i < len(s); i++ {
		v = v*10 + int(s[i]-'0')
	}
	return v
}
