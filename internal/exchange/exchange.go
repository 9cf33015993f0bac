// Package exchange takes in data from other departments and applies it to
// the population ledger: test results and vaccinations from the health side
// (.csv/.xlsx files, or one FHIR R4 Observation or Immunization through
// the API) and civil-affairs lists of care tags (低保, 残疾, 特困, 优抚).
//
// Every row is matched to a ledger person by the resident ID number's blind
// index, within the area the upload is for; the name must agree. A file
// with any problem (a bad ID number, an unknown code, a name that does not
// agree …) applies nothing and reports every problem by row and column. A
// clean file is applied in one transaction. Rows whose person is not in
// the ledger of the area are listed as unmatched: they are not problems
// and do not hold back the other rows, since a district's results always
// name people who live elsewhere. Each record keeps its provenance: the
// health record's source is "import" (files) or "partner" (API), and its
// change-log line names the department and the file or resource.
// docs/exchange.md describes the file formats.
package exchange

import (
	"context"
	"strings"

	"shequ/internal/access"
	"shequ/internal/errs"
	"shequ/internal/ledger"
	"shequ/internal/pii"
)

// Kind is the kind of inbound file.
type Kind string

// Kinds of inbound file.
const (
	KindTests        Kind = "tests"        // 检测结果 from the health side
	KindVaccinations Kind = "vaccinations" // 疫苗接种 from the health side
	KindTags         Kind = "tags"         // 民政名单: care tags from civil affairs
)

// Kinds lists the file kinds in the order pages offer them.
var Kinds = []Kind{KindTests, KindVaccinations, KindTags}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool {
	for _, x := range Kinds {
		if x == k {
			return true
		}
	}
	return false
}

// Service applies inbound data to the ledger.
type Service struct {
	Ledger *ledger.Service
}

// New returns the service over the ledger.
func New(l *ledger.Service) *Service { return &Service{Ledger: l} }

// Actor is who applies inbound data, and on whose word.
type Actor struct {
	// P is the staff member uploading a file; nil for a partner system
	// that the caller (the API, under an agreement) has already checked.
	P *access.Principal
	// Name is shown in the change log when P is nil (the partner's name).
	Name string
	// Department is where the data comes from (某区疾控中心, 某街道民政办);
	// it is recorded with every change.
	Department string
	// Scope is the org path whose people the data may change; people
	// living elsewhere are unmatched. "" means the whole ledger and is
	// allowed only without P.
	Scope string
	IP    string
}

func (a Actor) id() string {
	if a.P == nil {
		return ""
	}
	return a.P.UserID
}

func (a Actor) name() string {
	switch {
	case a.P != nil:
		return a.P.Name
	case a.Name != "":
		return a.Name
	}
	return "system"
}

// check validates the actor: a department, and for staff the right to
// import at the scope.
func (a *Actor) check() error {
	a.Department = pii.NormalizeText(a.Department)
	if a.Department == "" || len([]rune(a.Department)) > 60 {
		return errs.E(errs.Invalid, "err.exchange.department").OnField("department")
	}
	if a.P != nil && (a.Scope == "" || !a.P.Can(access.DataImport, a.Scope)) {
		return errs.E(errs.Forbidden, "err.forbidden")
	}
	return nil
}

// match is what a row's ID number found.
type match struct {
	personID string
	name     string
	tags     string
}

// find looks people up by resident ID number within the actor's scope:
// numbers → person, absent when not found or living outside the scope.
func (s *Service) find(ctx context.Context, scope string, numbers []string) (map[string]match, error) {
	bidx := make([]string, 0, len(numbers))
	byBidx := map[string]string{}
	for _, n := range numbers {
		b := s.Ledger.IDIndex(pii.DocResidentID, n)
		if _, ok := byBidx[b]; !ok {
			bidx = append(bidx, b)
		}
		byBidx[b] = n
	}
	found, err := s.Ledger.Store.ExistingIDBidx(ctx, bidx)
	if err != nil {
		return nil, err
	}
	out := map[string]match{}
	for b, pid := range found {
		if scope != "" {
			paths, err := s.Ledger.Store.PersonPaths(ctx, pid)
			if err != nil {
				return nil, err
			}
			in := false
			for _, p := range paths {
				if strings.HasPrefix(p, scope) {
					in = true
				}
			}
			if !in {
				continue
			}
		}
		p, err := s.Ledger.Store.Person(ctx, pid)
		if err != nil {
			return nil, err
		}
		out[byBidx[b]] = match{personID: pid, name: p.Name, tags: p.Tags}
	}
	return out, nil
}

// sameName compares names as people write them: full-width and spaces
// aside, and the middle dot of minority and foreign names in any form.
func sameName(a, b string) bool {
	norm := func(s string) string {
		s = pii.NormalizeText(s)
		s = strings.NewReplacer(" ", "", "•", "·", "・", "·", ".", "·").Replace(s)
		return strings.ToUpper(s)
	}
	return norm(a) == norm(b)
}

func lastID(path string) string {
	p := strings.TrimSuffix(path, "/")
	return p[strings.LastIndexByte(p, '/')+1:]
}
