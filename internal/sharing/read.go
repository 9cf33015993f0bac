package sharing

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"shequ/internal/store"
)

// Query asks for a page of a dataset.
type Query struct {
	After  string // cursor: the last id of the previous page
	Since  int64  // updated at or after (Unix ms)
	ID     string // one record
	Limit  int    // 1–500, default 100
	Node   string // narrow to this org node (must lie within the agreement)
	Fields []string
}

// Page is what a partner gets: records holding only the agreed fields,
// and the cursor of the next page ("" on the last).
type Page struct {
	Records []map[string]any `json:"records"`
	Next    string           `json:"next,omitempty"`
}

// MaxPage bounds a page.
const MaxPage = 500

// Read serves a page of a dataset under an access: only fields the
// agreement grants (fields asked for beyond it are silently left out),
// protected fields masked unless granted unmasked, only records in scope,
// and every record served logged against the agreement in the same
// transaction as nothing else.
func (s *Service) Read(ctx context.Context, acc Access, q Query, request string) (Page, error) {
	fields := acc.Grant.Fields
	if len(q.Fields) > 0 {
		fields = slices.DeleteFunc(slices.Clone(fields), func(f string) bool { return !slices.Contains(q.Fields, f) })
	}
	if !slices.Contains(fields, "id") && acc.Dataset.Has("id") {
		fields = append([]string{"id"}, fields...)
	}
	scopes := acc.Scopes
	if q.Node != "" {
		n, err := s.Store.OrgNode(ctx, q.Node)
		if err != nil {
			return Page{}, err
		}
		if scopes = intersect(n.Path, acc.Scopes); len(scopes) == 0 {
			return Page{Records: []map[string]any{}}, nil
		}
	}
	if q.Limit <= 0 {
		q.Limit = 100
	}
	q.Limit = min(q.Limit, MaxPage)
	var records []map[string]any
	var ids []string
	next := ""
	if acc.Dataset.Name == "aggregates" {
		figs, err := s.Store.CommunityFigures(ctx, scopes)
		if err != nil {
			return Page{}, err
		}
		for _, f := range figs {
			rec := aggregateRecord(f)
			for k := range rec {
				if !slices.Contains(fields, k) {
					delete(rec, k)
				}
			}
			records = append(records, rec)
			ids = append(ids, f.CommunityCode)
		}
	} else {
		var plain []string
		for _, f := range fields {
			if slices.Contains(acc.Grant.Unmasked, f) {
				plain = append(plain, f)
			}
		}
		rows, err := s.Store.ShareRows(ctx, store.ShareQuery{Dataset: acc.Dataset.Name, Fields: fields, Plain: plain, Scopes: scopes,
			After: q.After, Since: q.Since, ID: q.ID, Limit: q.Limit + 1})
		if err != nil {
			return Page{}, err
		}
		if len(rows) > q.Limit {
			rows = rows[:q.Limit]
			next = str(rows[len(rows)-1][0])
		}
		for _, row := range rows {
			rec := map[string]any{}
			for i, f := range fields {
				rec[f] = s.value(acc.Dataset, f, row[i+1], slices.Contains(plain, f))
			}
			records = append(records, rec)
			ids = append(ids, str(row[0]))
		}
	}
	if records == nil {
		records = []map[string]any{}
	}
	if len(ids) > 0 {
		err := s.Store.Write(ctx, func(tx *store.Tx) error { return tx.LogAccess(ctx, acc.Agreement.ID, acc.Dataset.Name, request, ids) })
		if err != nil {
			return Page{}, err
		}
	}
	return Page{Records: records, Next: next}, nil
}

// value turns a column's value into the field's JSON: integers stay
// numbers, text is text, and a granted protected field is decrypted.
func (s *Service) value(d Dataset, field string, v any, plain bool) any {
	if plain {
		b, _ := v.([]byte)
		if len(b) == 0 {
			return ""
		}
		txt, err := s.Keys.DecryptString(b, d.Name+"."+field)
		if err != nil {
			return ""
		}
		return txt
	}
	switch d.field(field).Type {
	case "integer", "datetime":
		switch x := v.(type) {
		case int64:
			return x
		case int32:
			return int64(x)
		case float64:
			return int64(x)
		case nil:
			return int64(0)
		}
		return v
	case "list":
		if t := str(v); t != "" {
			return strings.Split(t, ",")
		}
		return []string{}
	case "code":
		if x, ok := v.(int64); ok {
			return strconv.FormatInt(x, 10)
		}
	}
	return str(v)
}

func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	case nil:
		return ""
	case int64:
		return strconv.FormatInt(x, 10)
	}
	return ""
}

func aggregateRecord(f store.Figures) map[string]any {
	return map[string]any{"community_code": f.CommunityCode, "community_name": f.CommunityName, "population": f.Population,
		"registered": f.Registered, "floating": f.Floating, "households": f.Households, "rooms_surveyed": f.RoomsSurveyed,
		"rooms": f.Rooms, "leads_open": f.LeadsOpen, "events_open": f.EventsOpen, "alarms_open": f.AlarmsOpen}
}
