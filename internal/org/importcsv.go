package org

import (
	"context"
	"encoding/csv"
	"errors"
	"io"
	"sort"
	"strings"

	"shequ/internal/errs"
	"shequ/internal/pii"
	"shequ/internal/store"
)

// RowError is one problem in an imported file, by row (1-based, the header
// is row 1) and column.
type RowError struct {
	Row    int
	Column string
	Err    *errs.Error
}

// ImportResult tells what an import did or would do.
type ImportResult struct {
	Created int
	Skipped int // rows whose code already exists with the same name
	Errors  []RowError
}

type divRow struct {
	row        int
	code, name string
	level      store.Level
}

// ImportCSV loads a division table (columns code,name and optionally
// level) into the tree. Parents are found by code prefix, in the file or
// already in the tree. Every row is checked first; if any row is bad,
// nothing is written and every problem is reported.
func ImportCSV(ctx context.Context, s *store.Store, r io.Reader, actorID string, audit func(tx *store.Tx, created int) error) (ImportResult, error) {
	var res ImportResult
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		return res, errs.Wrap(err, errs.Invalid, "err.csv_unreadable")
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	ci, okC := col["code"]
	ni, okN := col["name"]
	if !okC || !okN {
		return res, errs.E(errs.Invalid, "err.csv_columns", "code, name, level")
	}
	li, hasLevel := col["level"]
	var rows []divRow
	seen := map[string]int{}
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			res.Errors = append(res.Errors, RowError{Row: line, Err: errs.Wrap(err, errs.Invalid, "err.csv_bad_row")})
			continue
		}
		get := func(i int) string {
			if i < len(rec) {
				return pii.NormalizeText(rec[i])
			}
			return ""
		}
		d := divRow{row: line, code: strings.ReplaceAll(get(ci), " ", ""), name: get(ni)}
		l, ok := LevelOf(d.code)
		switch {
		case !ok || l == store.LevelGrid:
			res.Errors = append(res.Errors, RowError{line, "code", errs.E(errs.Invalid, "err.org_code_invalid", d.code)})
			continue
		case d.name == "":
			res.Errors = append(res.Errors, RowError{line, "name", errs.E(errs.Invalid, "err.org_name_required")})
			continue
		case hasLevel && get(li) != "" && store.Level(get(li)) != l:
			res.Errors = append(res.Errors, RowError{line, "level", errs.E(errs.Invalid, "err.org_level_mismatch", d.code)})
			continue
		}
		if prev, dup := seen[d.code]; dup {
			res.Errors = append(res.Errors, RowError{line, "code", errs.E(errs.Invalid, "err.csv_duplicate_row", prev)})
			continue
		}
		seen[d.code] = line
		d.level = l
		rows = append(rows, d)
	}
	if len(res.Errors) > 0 {
		return res, nil
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].level.Depth() < rows[j].level.Depth() })
	err = s.Write(ctx, func(tx *store.Tx) error {
		byCode := map[string]store.OrgNode{}
		find := func(code string) (store.OrgNode, bool) {
			if n, ok := byCode[code]; ok {
				return n, true
			}
			n, err := tx.OrgNodeByCode(ctx, code)
			if err != nil {
				return n, false
			}
			byCode[code] = n
			return n, true
		}
		for _, d := range rows {
			if n, ok := find(d.code); ok {
				if n.Name != d.name {
					if err := tx.RenameOrgNode(ctx, n.ID, d.name, n.Code, actorID); err != nil {
						return err
					}
					res.Created++
				} else {
					res.Skipped++
				}
				continue
			}
			parentID := ""
			if d.level != store.LevelProvince {
				p, ok := findParent(d, find)
				if !ok {
					res.Errors = append(res.Errors, RowError{d.row, "code", errs.E(errs.Invalid, "err.org_parent_missing", d.code)})
					continue
				}
				parentID = p.ID
			}
			n, err := Create(ctx, tx, parentID, d.code, d.name, actorID)
			if err != nil {
				e, _ := errs.As(err)
				if e == nil {
					return err
				}
				res.Errors = append(res.Errors, RowError{d.row, orDefault(e.Field, "code"), e})
				continue
			}
			byCode[n.Code] = n
			res.Created++
		}
		if len(res.Errors) > 0 {
			return errRollback
		}
		if audit != nil {
			return audit(tx, res.Created)
		}
		return nil
	})
	if errors.Is(err, errRollback) {
		res.Created, res.Skipped = 0, 0
		return res, nil
	}
	return res, err
}

var errRollback = errors.New("rollback")

// findParent looks for the nearest existing ancestor code: city, then
// province (municipal districts may hang directly under a province).
func findParent(d divRow, find func(string) (store.OrgNode, bool)) (store.OrgNode, bool) {
	c := d.code
	candidates := map[store.Level][]string{
		store.LevelCity:      {c[:2] + "0000000000"},
		store.LevelDistrict:  {c[:4] + "00000000", c[:2] + "0000000000"},
		store.LevelStreet:    {c[:6] + "000000"},
		store.LevelCommunity: {c[:9] + "000"},
	}[d.level]
	for _, code := range candidates {
		if n, ok := find(code); ok {
			return n, true
		}
	}
	return store.OrgNode{}, false
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}
