package exchange

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"shequ/internal/audit"
	"shequ/internal/errs"
	"shequ/internal/fhir"
	"shequ/internal/ledgerio"
	"shequ/internal/pii"
	"shequ/internal/store"
)

// Problem is one thing wrong with a row (or the file): ledgerio's type, so
// the same error report serves both imports.
type Problem = ledgerio.Problem

// Unmatched is a row whose person is not in the ledger of the area.
type Unmatched struct {
	Line   int
	Name   string
	IDMask string
}

// Result is what an import did, or would have done.
type Result struct {
	Kind      Kind
	Rows      int         // data rows read
	Applied   int         // records written (tags: people whose tags changed)
	Unchanged int         // already in the ledger exactly so: skipped
	Unmatched []Unmatched // not in the ledger of the area: skipped, listed
	// Problems, when any, mean nothing was applied.
	Problems []Problem
	// BatchID is the exchange_batches row of an applied file.
	BatchID string
}

// record is one checked row.
type record struct {
	line             int
	idNumber, name   string
	kind, result     string
	sampled, reportd time.Time
	institution      string
	vaccine          string
	dose             int
	givenOn          string
	site, lot        string
	tag, change      string
}

// Message keys of row problems (besides ledgerio's).
const (
	keyTestKind     = "err.exchange.test_kind"
	keyResult       = "err.exchange.result"
	keyVaccine      = "err.exchange.vaccine"
	keyTag          = "err.exchange.tag"
	keyChange       = "err.exchange.change"
	keyDose         = "err.exchange.dose"
	keyFuture       = "err.exchange.future"
	keyResultBefore = "err.exchange.result_before_sample"
	keyNameMismatch = "err.exchange.name_mismatch"
	keyNoRows       = "err.exchange.no_rows"
)

// Import checks a file of kind and, when it has no problem, applies it in
// one transaction. err reports what stops the whole file (unknown kind, no
// department, no right to import at the scope, unreadable file, missing
// columns); row problems come back in Result.Problems with nothing
// applied.
func (s *Service) Import(ctx context.Context, a Actor, kind Kind, fileName string, data []byte) (Result, error) {
	res := Result{Kind: kind}
	if !kind.Valid() {
		return res, errs.E(errs.Invalid, "err.exchange.kind").OnField("kind")
	}
	if err := a.check(); err != nil {
		return res, err
	}
	fileName = strings.TrimSpace(fileName)
	rows, err := readRows(fileName, data)
	if err != nil {
		return res, err
	}
	cols := columns(kind)
	pos, headerAt, err := findHeader(rows, cols)
	if err != nil {
		return res, err
	}
	now := s.Ledger.Store.Now()
	var recs []record
	for _, r := range rows[headerAt+1:] {
		res.Rows++
		rec, probs := checkRow(kind, cols, pos, r, now, a.Department)
		res.Problems = append(res.Problems, probs...)
		if len(probs) == 0 {
			recs = append(recs, rec)
		}
	}
	if res.Rows == 0 {
		return res, errs.E(errs.Invalid, keyNoRows)
	}
	// Match the checked rows; a row with problems is not matched, so a
	// person's name is never shown for a row whose number was wrong.
	var numbers []string
	for _, r := range recs {
		numbers = append(numbers, r.idNumber)
	}
	found, err := s.find(ctx, a.Scope, numbers)
	if err != nil {
		return res, err
	}
	var apply []record
	var matched []match
	for _, r := range recs {
		m, ok := found[r.idNumber]
		if !ok {
			res.Unmatched = append(res.Unmatched, Unmatched{Line: r.line, Name: r.name, IDMask: pii.MaskID(r.idNumber)})
			continue
		}
		if !sameName(m.name, r.name) {
			res.Problems = append(res.Problems, Problem{Line: r.line, Column: nameColumn.header, Key: keyNameMismatch,
				Args: []any{pii.MaskName(m.name)}, Value: r.name})
			continue
		}
		apply = append(apply, r)
		matched = append(matched, m)
	}
	if len(res.Problems) > 0 {
		slices.SortStableFunc(res.Problems, func(x, y Problem) int { return x.Line - y.Line })
		return res, nil
	}
	prov := provenance(a.Department, fileName)
	err = s.Ledger.Store.Write(ctx, func(tx *store.Tx) error {
		res.Applied, res.Unchanged = 0, 0
		for i, r := range apply {
			changed, err := s.applyRow(ctx, tx, a, store.SourceImport, prov, kind, matched[i].personID, r)
			if err != nil {
				return err
			}
			if changed != "" {
				res.Applied++
			} else {
				res.Unchanged++
			}
		}
		node := lastID(a.Scope)
		b := &store.ExchangeBatch{Kind: string(kind), Department: a.Department, FileName: fileName, NodeID: node,
			ActorID: a.id(), ActorName: a.name(), Rows: res.Rows, Applied: res.Applied, Unchanged: res.Unchanged, Unmatched: len(res.Unmatched)}
		if err := tx.AddExchangeBatch(ctx, b); err != nil {
			return err
		}
		res.BatchID = b.ID
		if s.Ledger.Audit == nil {
			return nil
		}
		return s.Ledger.Audit.Append(ctx, tx, &store.AuditEntry{ActorID: a.id(), ActorName: a.name(), Action: "exchange.import",
			TargetType: "exchange_batch", TargetID: b.ID, NodeID: node, IP: a.IP,
			Detail: audit.Detail("kind", string(kind), "department", a.Department, "file", fileName, "rows", res.Rows,
				"applied", res.Applied, "unchanged", res.Unchanged, "unmatched", len(res.Unmatched))})
	})
	if err != nil {
		return Result{Kind: kind}, err
	}
	return res, nil
}

// provenance is the change log's reason for inbound data.
func provenance(department, file string) string {
	if file == "" {
		return department
	}
	return department + " · " + file
}

// applyRow writes one matched record: the health record or the new tags,
// and its change-log line. It returns the record id (tests and doses) or
// "tags", or "" when the ledger already had it.
func (s *Service) applyRow(ctx context.Context, tx *store.Tx, a Actor, source, prov string, kind Kind, personID string, r record) (string, error) {
	logChange := func(entity, action string, detail map[string]any) error {
		b, _ := json.Marshal(detail)
		return tx.LogChange(ctx, &store.Change{EntityType: entity, EntityID: personID, PersonID: personID, ActorID: a.id(),
			ActorName: a.name(), Source: source, Action: action, Reason: prov, Changes: string(b)})
	}
	switch kind {
	case KindTests:
		same, err := tx.SameTest(ctx, personID, r.kind, r.sampled, r.result)
		if err != nil || same != "" {
			return "", err
		}
		t := store.HealthTest{PersonID: personID, Kind: r.kind, SampledAt: r.sampled, ResultAt: r.reportd, Result: r.result,
			Institution: r.institution, Source: source, EnteredBy: a.id()}
		if err := tx.AddTest(ctx, &t); err != nil {
			return "", err
		}
		return t.ID, logChange("health", "test", map[string]any{"kind": r.kind, "result": r.result, "sampled": r.sampled.Format(time.RFC3339)})
	case KindVaccinations:
		same, err := tx.SameVaccination(ctx, personID, r.vaccine, r.dose, r.givenOn)
		if err != nil || same != "" {
			return "", err
		}
		v := store.Vaccination{PersonID: personID, Vaccine: r.vaccine, Dose: r.dose, GivenOn: r.givenOn, Site: r.site, Lot: r.lot,
			Source: source, EnteredBy: a.id()}
		if err := tx.AddVaccination(ctx, &v); err != nil {
			return "", err
		}
		return v.ID, logChange("health", "vaccination", map[string]any{"vaccine": r.vaccine, "dose": r.dose, "date": r.givenOn})
	case KindTags:
		p, err := tx.Person(ctx, personID)
		if err != nil {
			return "", err
		}
		var tags []string
		for _, t := range strings.Split(p.Tags, ",") {
			if t != "" && !(r.change == "remove" && t == r.tag) && !slices.Contains(tags, t) {
				tags = append(tags, t)
			}
		}
		if r.change != "remove" && !slices.Contains(tags, r.tag) {
			tags = append(tags, r.tag)
		}
		next := strings.Join(tags, ",")
		if next == p.Tags {
			return "", nil
		}
		if err := tx.SetPersonTags(ctx, personID, next); err != nil {
			return "", err
		}
		return "tags", logChange("person", "update", map[string]any{"tags": [2]string{p.Tags, next}})
	}
	return "", nil
}

// headerSearch is how many non-empty rows may come before the header (a
// title such as "2026年11月低保名单").
const headerSearch = 5

// findHeader finds the header row: the first of the first rows that has
// the ID column. pos maps column index → cell index (-1 absent).
func findHeader(rows []sheetRow, cols []column) ([]int, int, error) {
	idx := headerIndex(cols)
	var all, missing []string
	for _, c := range cols {
		all = append(all, c.header)
	}
	for i, r := range rows {
		if i == headerSearch {
			break
		}
		pos := make([]int, len(cols))
		for j := range pos {
			pos[j] = -1
		}
		for j, cell := range r.cells {
			if k, ok := idx[cleanHeader(cell)]; ok && pos[k] < 0 {
				pos[k] = j
			}
		}
		if pos[0] < 0 {
			continue
		}
		for k, c := range cols {
			if c.required && pos[k] < 0 {
				missing = append(missing, c.header)
			}
		}
		if len(missing) > 0 {
			return nil, 0, errs.E(errs.Invalid, ledgerio.KeyColumns, strings.Join(missing, "、"), strings.Join(all, "、"))
		}
		return pos, i, nil
	}
	for _, c := range cols {
		if c.required {
			missing = append(missing, c.header)
		}
	}
	return nil, 0, errs.E(errs.Invalid, ledgerio.KeyColumns, strings.Join(missing, "、"), strings.Join(all, "、"))
}

// checkRow validates one data row and returns it in ledger terms with its
// problems.
func checkRow(kind Kind, cols []column, pos []int, r sheetRow, now time.Time, department string) (record, []Problem) {
	rec := record{line: r.line}
	var probs []Problem
	cell := func(key string) (string, column) {
		for k, c := range cols {
			if c.key == key {
				if pos[k] >= 0 && pos[k] < len(r.cells) {
					return strings.TrimSpace(pii.NormalizeText(r.cells[pos[k]])), c
				}
				return "", c
			}
		}
		return "", column{}
	}
	problem := func(c column, key, value string, args ...any) {
		probs = append(probs, Problem{Line: r.line, Column: c.header, Key: key, Args: args, Value: value})
	}
	required := func(key string) (string, column, bool) {
		v, c := cell(key)
		if v == "" && c.required {
			problem(c, ledgerio.KeyRequired, "")
			return v, c, false
		}
		return v, c, v != ""
	}
	text := func(key string, max int) string {
		v, c := cell(key)
		if utf8.RuneCountInString(v) > max {
			problem(c, ledgerio.KeyTooLong, v, max)
		}
		return v
	}
	// Who.
	if v, c, ok := required(colID); ok {
		id, err := pii.ParseID(pii.DocResidentID, v, now)
		switch {
		case strings.ContainsAny(v, "Ee+") && strings.Contains(v, "."):
			problem(c, ledgerio.KeyIDScientific, v)
		case err != nil:
			reason := pii.ReasonCheck
			if ie, ok := err.(*pii.IDError); ok {
				reason = ie.Reason
			}
			problem(c, ledgerio.KeyID(reason), maskCell(v))
		default:
			rec.idNumber = id.Number
		}
	}
	if v, c, ok := required(colName); ok {
		if utf8.RuneCountInString(v) > 40 {
			problem(c, ledgerio.KeyTooLong, v, 40)
		}
		rec.name = v
	}
	switch kind {
	case KindTests:
		if v, c, ok := required(colTestKind); ok {
			if k, ok := lookupCode(v, testKinds, testKindAliases); ok {
				rec.kind = k
			} else if tc, ok := fhir.TestByLOINC(v); ok {
				rec.kind = tc.Kind
			} else {
				problem(c, keyTestKind, v, v, strings.Join(names(testKinds), "、"))
			}
		}
		if v, c, ok := required(colResult); ok {
			if k, ok := lookupCode(v, results, resultAliases); ok {
				rec.result = k
			} else if rc, ok := fhir.ResultBySNOMED(v); ok {
				rec.result = rc.Result
			} else {
				problem(c, keyResult, v, v, strings.Join(names(results), "、"))
			}
		}
		if v, c, ok := required(colSampledAt); ok {
			t, ok := parseTime(v)
			switch {
			case !ok:
				problem(c, ledgerio.KeyDate, v)
			case t.After(now.Add(time.Hour)):
				problem(c, keyFuture, v)
			default:
				rec.sampled = t
			}
		}
		if v, c := cell(colResultAt); v != "" {
			t, ok := parseTime(v)
			switch {
			case !ok:
				problem(c, ledgerio.KeyDate, v)
			case t.After(now.Add(time.Hour)):
				problem(c, keyFuture, v)
			case !rec.sampled.IsZero() && t.Before(rec.sampled):
				problem(c, keyResultBefore, v)
			default:
				rec.reportd = t
			}
		}
		rec.institution = text(colInstitution, 60)
		if rec.institution == "" {
			rec.institution = department
		}
	case KindVaccinations:
		if v, c, ok := required(colVaccine); ok {
			if vc, ok := findVaccine(v); ok {
				rec.vaccine = vc.Name
			} else {
				problem(c, keyVaccine, v, v, strings.Join(vaccineNames(), "、"))
			}
		}
		if v, c, ok := required(colDose); ok {
			d, err := strconv.Atoi(strings.NewReplacer("第", "", "剂", "", "针", "", "次", "").Replace(v))
			if err != nil || d < 1 || d > 10 {
				problem(c, keyDose, v)
			} else {
				rec.dose = d
			}
		}
		if v, c, ok := required(colGivenOn); ok {
			t, ok := parseDate(v)
			switch {
			case !ok:
				problem(c, ledgerio.KeyDate, v)
			case t.Format("2006-01-02") > now.In(china).Format("2006-01-02"):
				problem(c, keyFuture, v)
			default:
				rec.givenOn = t.Format("2006-01-02")
			}
		}
		rec.site = text(colSite, 60)
		rec.lot = text(colLot, 40)
	case KindTags:
		if v, c, ok := required(colTag); ok {
			if t, ok := lookupCode(v, civilTags, civilTagAliases); ok {
				rec.tag = t
			} else {
				problem(c, keyTag, v, v, strings.Join(names(civilTags), "、"))
			}
		}
		rec.change = "add"
		if v, c := cell(colChange); v != "" {
			if ch, ok := lookupCode(v, changes, changeAliases); ok {
				rec.change = ch
			} else {
				problem(c, keyChange, v)
			}
		}
	}
	return rec, probs
}

// findVaccine reads a vaccine cell: a name of the table, shequ's code, or
// a CVX code.
func findVaccine(v string) (fhir.Vaccine, bool) {
	if vc, ok := fhir.VaccineByName(v); ok {
		return vc, true
	}
	if vc, ok := fhir.VaccineByCode(fhir.VaccineSystem, v); ok {
		return vc, true
	}
	return fhir.VaccineByCode(fhir.CVX, v)
}

// maskCell masks what may be an ID number for the problem list.
func maskCell(v string) string {
	if utf8.RuneCountInString(v) >= 8 {
		return pii.MaskID(v)
	}
	return v
}
