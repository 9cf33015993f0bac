package web

import (
	"net/http"

	"shequ/internal/access"
	"shequ/internal/errs"
	"shequ/internal/gate"
	"shequ/internal/ledger"
	"shequ/internal/pii"
	"shequ/internal/store"
)

// gatesManage registers gates and devices and keeps the time-boxed lists.
func (s *Server) gatesManage(w http.ResponseWriter, r *http.Request) {
	s.renderGatesManage(w, r, nil, nil)
}

func (s *Server) renderGatesManage(w http.ResponseWriter, r *http.Request, formErr error, extra map[string]any) {
	rq := reqOf(r)
	if !rq.p.CanAnywhere(access.GateManage) {
		s.deny(w, r, "gate.manage", "", "", "")
		return
	}
	gates, err := s.gatesFor(r, access.GateManage)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	comms, err := s.communitiesFor(r, access.GateManage)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var ids []string
	for _, c := range comms {
		ids = append(ids, c.ID)
	}
	entries, names, err := s.Store.ListEntries(r.Context(), ids, s.Store.Now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := map[string]any{"Gates": gates, "Communities": comms, "Entries": entries, "Names": names,
		"Now": s.Store.Now().In(shanghai).Format("2006-01-02T15:04"), "Later": s.Store.Now().AddDate(0, 1, 0).In(shanghai).Format("2006-01-02T15:04")}
	for k, v := range extra {
		data[k] = v
	}
	if formErr != nil {
		data["Error"] = message(rq, formErr)
		w.WriteHeader(statusOf(formErr))
	}
	s.render(w, r, "gates_manage", data)
}

// communitiesFor lists the communities where the principal may do a.
func (s *Server) communitiesFor(r *http.Request, a access.Action) ([]store.OrgNode, error) {
	var out []store.OrgNode
	for _, sc := range reqOf(r).p.Scopes(a) {
		ns, err := s.Store.OrgSubtree(r.Context(), sc)
		if err != nil {
			return nil, err
		}
		for _, n := range ns {
			if n.Level == store.LevelCommunity {
				out = append(out, n)
			}
		}
	}
	return out, nil
}

func (s *Server) gateAdminError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errs.CodeOf(err) == errs.Forbidden:
		s.deny(w, r, "gate.manage", "", "", "")
	case statusOf(err) >= 500:
		s.fail(w, r, err)
	default:
		s.renderGatesManage(w, r, err, nil)
	}
}

func (s *Server) gateCreate(w http.ResponseWriter, r *http.Request) {
	rq := reqOf(r)
	_, err := s.Gates.AddGate(r.Context(), gate.Actor{P: rq.p, IP: rq.ip}, r.PostFormValue("community"), r.PostFormValue("code"),
		r.PostFormValue("name"), r.PostFormValue("kind"))
	if err != nil {
		s.gateAdminError(w, r, err)
		return
	}
	http.Redirect(w, r, "/gates/manage", http.StatusSeeOther)
}

// deviceCreate registers a device and shows its token this once.
func (s *Server) deviceCreate(w http.ResponseWriter, r *http.Request) {
	rq := reqOf(r)
	tok, err := s.Gates.AddDevice(r.Context(), gate.Actor{P: rq.p, IP: rq.ip}, s.Auth, r.PathValue("id"), r.PostFormValue("name"))
	if err != nil {
		s.gateAdminError(w, r, err)
		return
	}
	s.renderGatesManage(w, r, nil, map[string]any{"NewToken": tok, "NewTokenGate": r.PathValue("id")})
}

// listEntryCreate gives someone, found or registered by ID number, a
// time-boxed right to pass.
func (s *Server) listEntryCreate(w http.ResponseWriter, r *http.Request) {
	rq := reqOf(r)
	ctx := r.Context()
	id, err := pii.ParseID(pii.DocResidentID, r.PostFormValue("id_number"), s.Store.Now())
	if err != nil {
		s.gateAdminError(w, r, errs.E(errs.Invalid, "err.person.id_check").OnField("id_number"))
		return
	}
	var personID string
	ps, err := s.Store.PersonsByIDBidx(ctx, s.Ledger.IDIndex(pii.DocResidentID, id.Number))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(ps) > 0 {
		personID = ps[0].ID
	} else {
		p, err := s.Ledger.Normalize(ledger.PersonInput{Name: r.PostFormValue("name"), IDNumber: id.Number, Phone: r.PostFormValue("phone"),
			Residency: "floating", Notes: r.PostFormValue("note")}, s.Store.Now())
		if err != nil {
			s.gateAdminError(w, r, err)
			return
		}
		if err := s.Store.Write(ctx, func(tx *store.Tx) error { return tx.CreatePerson(ctx, &p) }); err != nil {
			s.fail(w, r, err)
			return
		}
		personID = p.ID
	}
	from, until := parseLocal(r.PostFormValue("from")), parseLocal(r.PostFormValue("until"))
	if _, err := s.Gates.AddListEntry(ctx, gate.Actor{P: rq.p, IP: rq.ip}, r.PostFormValue("community"), personID, r.PostFormValue("kind"),
		from, until, r.PostFormValue("note")); err != nil {
		s.gateAdminError(w, r, err)
		return
	}
	http.Redirect(w, r, "/gates/manage", http.StatusSeeOther)
}
