package pii

import (
	"regexp"
	"strings"
	"time"
)

// Found is a piece of personal data found in text, already masked.
type Found struct {
	Kind   string // "id" (resident ID number) or "phone" (mainland mobile)
	Masked string
}

// A candidate is a digit run not glued to other letters or digits: IDs,
// tokens and hashes in logs mix letters and digits, and a run inside
// them is not a number someone wrote down.
var (
	idRun    = regexp.MustCompile(`(?:^|[^0-9A-Za-z])([0-9]{17}[0-9Xx])(?:[^0-9A-Za-z]|$)`)
	phoneRun = regexp.MustCompile(`(?:^|[^0-9A-Za-z+])(?:\+?86[- ]?)?(1[3-9][0-9]{9})(?:[^0-9A-Za-z]|$)`)
)

// FindPersonal finds resident ID numbers (18 characters with a valid check
// digit and a plausible birth date at now) and mainland mobile numbers (1,
// then 3 to 9, then nine digits, not part of a longer run) in text. The
// log test of the end-to-end run and the request-log tests use it.
func FindPersonal(text string, now time.Time) []Found {
	var out []Found
	// Overlapping matches share their boundary character, so scan with
	// the boundary consumed and retry one character on after each hit.
	for _, m := range allSubmatches(idRun, text) {
		if _, err := ParseID(DocResidentID, m, now); err == nil {
			out = append(out, Found{Kind: "id", Masked: MaskID(strings.ToUpper(m))})
		}
	}
	for _, m := range allSubmatches(phoneRun, text) {
		out = append(out, Found{Kind: "phone", Masked: MaskPhone(m)})
	}
	return out
}

func allSubmatches(re *regexp.Regexp, text string) []string {
	var out []string
	for start := 0; start < len(text); {
		loc := re.FindStringSubmatchIndex(text[start:])
		if loc == nil {
			break
		}
		out = append(out, text[start+loc[2]:start+loc[3]])
		start += loc[3] // the end of the number: the next may start right after
	}
	return out
}
