package web

import (
	"net/http"
	"net/url"
	"strings"

	"shequ/internal/access"
	"shequ/internal/audit"
	"shequ/internal/ledger"
	"shequ/internal/ledgerio"
	"shequ/internal/pii"
	"shequ/internal/store"
)

// ledgerExport writes the people of a search or a building as .xlsx:
// masked by default; with plain=1, for those allowed, with full ID numbers
// and phones. Every export is audited and carries the exporter's name and
// time in the sheet.
func (s *Server) ledgerExport(w http.ResponseWriter, r *http.Request) {
	rq := reqOf(r)
	q := r.URL.Query()
	plain := q.Get("plain") == "1"
	action := access.DataExport
	if plain {
		action = access.ExportPlain
	}
	scopes := rq.p.Scopes(action)
	if len(scopes) == 0 {
		s.deny(w, r, string(action), "", "", "")
		return
	}
	// Search within the scopes of the export permission only.
	p := &access.Principal{UserID: rq.p.UserID, Name: rq.p.Name}
	for _, a := range rq.p.Assignments {
		if access.RoleAllows(a.Role, action) {
			p.Assignments = append(p.Assignments, a)
		}
	}
	title := s.Cat.Printer(rq.pr.Lang).T("export.people")
	if id := q.Get("place"); id != "" {
		pl, path, err := s.Store.Place(r.Context(), id)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if !rq.p.Can(action, path) {
			s.deny(w, r, string(action), "place", id, lastNode(path))
			return
		}
		title = pl.Address + " " + title
	}
	now := s.Store.Now().In(shanghai).Format("2006-01-02 15:04")
	footerKey := "export.footer_masked"
	if plain {
		footerKey = "export.footer_plain"
	}
	pr := rq.pr
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", `attachment; filename="people.xlsx"; filename*=UTF-8''`+url.PathEscape(title+".xlsx"))
	w.Header().Set("Cache-Control", "no-store")
	x, err := ledgerio.NewExport(w, ledgerio.Sheet{Title: title, Footer: pr.T(footerKey, rq.p.Name, now),
		Headers: []string{pr.T("field.name"), pr.T("person.doc_type"), pr.T("person.id_number"), pr.T("person.sex_age"), pr.T("person.birth"),
			pr.T("field.phone"), pr.T("person.residency"), pr.T("ledger.address"), pr.T("person.relation"), pr.T("person.tags")}})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	count := 0
	for page := 1; ; page++ {
		hits, _, err := s.Ledger.Search(r.Context(), p, ledger.Query{Text: q.Get("q"), Residency: q.Get("residency"), Tag: q.Get("tag"),
			PlaceID: q.Get("place"), Page: page, PageSize: 1000})
		if err != nil {
			s.Log.Error("export", "err", err.Error())
			break
		}
		for _, h := range hits {
			name, id, phone := h.Name, h.IDMask, h.PhoneMask
			if plain {
				id, _ = s.Keys.DecryptString(h.IDEnc, "persons.id_number")
				phone, _ = s.Keys.DecryptString(h.PhoneEnc, "persons.phone")
			} else {
				name = pii.MaskName(name)
			}
			var tags []string
			for _, t := range strings.Split(h.Tags, ",") {
				if t != "" {
					tags = append(tags, pr.T("tag."+t))
				}
			}
			if err := x.Row(name, pr.T("doc."+h.IDType), id, pr.T("sex."+itoaSex(h.Sex)), h.BirthDate, phone,
				pr.T("residency."+h.Residency), h.Address, pr.T("rel."+h.Relation), strings.Join(tags, "、")); err != nil {
				s.Log.Error("export row", "err", err.Error())
				return
			}
			count++
		}
		if len(hits) < 1000 {
			break
		}
	}
	if err := x.Close(); err != nil {
		s.Log.Error("export close", "err", err.Error())
	}
	s.Audit.Record(r.Context(), s.Store, &store.AuditEntry{ActorID: rq.p.UserID, ActorName: rq.p.Name, Action: "export.people",
		TargetType: "place", TargetID: q.Get("place"), IP: rq.ip,
		Detail: audit.Detail("rows", count, "unmasked", plain, "query", q.Get("q"), "residency", q.Get("residency"), "tag", q.Get("tag"))})
}

func itoaSex(n int) string { return string(rune('0' + n%10)) }
