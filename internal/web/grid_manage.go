package web

import (
	"html/template"
	"net/http"
	"net/url"

	"shequ/internal/access"
	"shequ/internal/errs"
	"shequ/internal/gridwork"
	"shequ/internal/pii"
	"shequ/internal/store"
)

// managedCommunities lists the communities where the principal organises
// grid work (OrgManage).
func (s *Server) managedCommunities(r *http.Request) ([]store.OrgNode, error) {
	return s.Store.NodesAt(r.Context(), reqOf(r).p.Scopes(access.OrgManage), store.LevelCommunity)
}

// gridCommunity picks the community a management page is about: the one
// asked for, else the first the principal manages.
func (s *Server) gridCommunity(w http.ResponseWriter, r *http.Request) (store.OrgNode, []store.OrgNode, bool) {
	comms, err := s.managedCommunities(r)
	if err != nil {
		s.fail(w, r, err)
		return store.OrgNode{}, nil, false
	}
	if len(comms) == 0 {
		s.deny(w, r, "org.manage", "", "", "")
		return store.OrgNode{}, nil, false
	}
	want := r.FormValue("community")
	for _, c := range comms {
		if c.ID == want {
			return c, comms, true
		}
	}
	if want != "" {
		s.deny(w, r, "org.manage", "org_node", want, want)
		return store.OrgNode{}, nil, false
	}
	return comms[0], comms, true
}

// gridManage is the staff's page for grid work in a community: who staffs
// the grids, chiefs and where they are missing, checklists, patrol points
// and their findings, and investigation campaigns.
func (s *Server) gridManage(w http.ResponseWriter, r *http.Request) {
	comm, comms, ok := s.gridCommunity(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	p := reqOf(r).p
	st, err := s.Grid.Staffing(ctx, p, comm.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	lists, err := s.Store.Checklists(ctx, []string{comm.ID})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	points, err := s.Store.PatrolPoints(ctx, []string{comm.ID}, nil)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	patrols, err := s.Store.Patrols(ctx, []string{comm.ID}, 20)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	camps, err := s.Store.Campaigns(ctx, []string{comm.ID})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	workers := map[string][]store.User{}
	for _, g := range st.Grids {
		ids, err := s.Store.GridWorkers(ctx, g.GridID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, id := range ids {
			if u, err := s.Store.User(ctx, id); err == nil {
				workers[g.GridID] = append(workers[g.GridID], u)
			}
		}
	}
	missing := st.Missing
	if len(missing) > 40 {
		missing = missing[:40]
	}
	s.render(w, r, "grid_manage", map[string]any{"Community": comm, "Communities": comms, "Staffing": st, "Missing": missing,
		"Checklists": lists, "Points": points, "Patrols": patrols, "Campaigns": camps, "Workers": workers,
		"PointKinds": gridwork.PointKinds, "Levels": gridwork.ChiefLevels, "Today": s.Store.Today(),
		"Error": r.URL.Query().Get("error")})
}

// gridManagePost handles the forms of the management page; every one
// comes back to it, with the error (translated) when there is one.
func (s *Server) gridManagePost(w http.ResponseWriter, r *http.Request) {
	comm, _, ok := s.gridCommunity(w, r)
	if !ok {
		return
	}
	ctx, p := r.Context(), reqOf(r).p
	var err error
	switch r.PathValue("what") {
	case "roles":
		err = s.Grid.AddChiefRole(ctx, p, comm.ID, r.PostFormValue("name"), r.PostFormValue("level"))
	case "chiefs":
		var personID string
		if personID, err = s.personByIDNumber(r, r.PostFormValue("id_number")); err == nil {
			err = s.Grid.AppointChief(ctx, p, comm.ID, r.PostFormValue("role"), r.PostFormValue("where"), personID)
		}
	case "buildings":
		err = s.Grid.MoveBuilding(ctx, p, comm.ID, r.PostFormValue("building"), r.PostFormValue("grid"))
	case "leaders":
		err = s.Grid.SetLeader(ctx, p, comm.ID, r.PostFormValue("grid"), r.PostFormValue("user"))
	case "checklists":
		_, err = s.Grid.AddChecklist(ctx, p, comm.ID, r.PostFormValue("name"), r.PostFormValue("items"))
	case "points":
		_, err = s.Grid.AddPoint(ctx, p, gridwork.PointInput{CommunityID: comm.ID, GridID: r.PostFormValue("grid"), Name: r.PostFormValue("name"),
			Kind: r.PostFormValue("kind"), ChecklistID: r.PostFormValue("checklist")})
	case "campaigns":
		r.ParseForm()
		var c store.Campaign
		c, err = s.Grid.CreateCampaign(ctx, p, gridwork.CampaignInput{CommunityID: comm.ID, Name: r.PostFormValue("name"), GridIDs: r.PostForm["grid"],
			Deadline: r.PostFormValue("deadline"), ChecklistID: r.PostFormValue("checklist")})
		if err == nil {
			http.Redirect(w, r, "/grid/campaigns/"+c.ID, http.StatusSeeOther)
			return
		}
	default:
		s.fail(w, r, errNotFound)
		return
	}
	if errs.Is(err, errs.Forbidden) {
		s.deny(w, r, "grid.manage", "org_node", comm.ID, comm.ID)
		return
	}
	s.formDone(w, r, "/grid/manage?community="+url.QueryEscape(comm.ID), r.PathValue("what"), err)
}

// personByIDNumber finds a person by a typed identity number.
func (s *Server) personByIDNumber(r *http.Request, number string) (string, error) {
	id, err := pii.ParseID(pii.DocResidentID, number, s.Store.Now())
	if err != nil {
		return "", errs.E(errs.Invalid, "err.person.id_check").OnField("id_number")
	}
	ps, err := s.Store.PersonsByIDBidx(r.Context(), s.Ledger.IDIndex(pii.DocResidentID, id.Number))
	if err != nil {
		return "", err
	}
	if len(ps) == 0 {
		return "", errs.E(errs.Invalid, "err.gate.list_person").OnField("id_number")
	}
	return ps[0].ID, nil
}

// gridCampaign shows a campaign's progress per grid and what is left.
func (s *Server) gridCampaign(w http.ResponseWriter, r *http.Request) {
	rep, err := s.Grid.Campaign(r.Context(), reqOf(r).p, r.PathValue("id"))
	if errs.Is(err, errs.Forbidden) {
		s.deny(w, r, "campaign.view", "campaign", r.PathValue("id"), "")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "grid_campaign", map[string]any{"C": rep, "Today": s.Store.Today()})
}

// gridStickers prints the QR stickers of a community's patrol points:
// scanning one opens the check-in form of that point on the worker's phone.
func (s *Server) gridStickers(w http.ResponseWriter, r *http.Request) {
	comm, _, ok := s.gridCommunity(w, r)
	if !ok {
		return
	}
	points, err := s.Store.PatrolPoints(r.Context(), []string{comm.ID}, nil)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	type sticker struct {
		Point store.PatrolPoint
		QR    template.URL
		URL   string
	}
	var out []sticker
	for _, pt := range points {
		u := s.publicURL(r) + "/grid/?point=" + pt.Token
		qr, err := qrDataURL(u)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		out = append(out, sticker{Point: pt, QR: qr, URL: u})
	}
	s.render(w, r, "grid_stickers", map[string]any{"Community": comm, "Stickers": out})
}

// patrolToEvent turns a problem found on patrol into an event ticket.
func (s *Server) patrolToEvent(w http.ResponseWriter, r *http.Request) {
	t, community, err := s.Store.PatrolByID(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// Turning a finding into an event is grid work (staff and grid
	// workers): reporting events alone (a resident) is not enough, since
	// it also marks the finding handled.
	if node, err := s.Store.OrgNode(r.Context(), community); err != nil || !reqOf(r).p.CanAtOrBelow(access.GridWork, node.Path) {
		s.deny(w, r, "grid.work", "patrol", t.ID, community)
		return
	}
	ev, err := s.Events.FromPatrol(r.Context(), reqOf(r).p, t, community)
	if errs.Is(err, errs.Forbidden) {
		s.deny(w, r, "event.report", "patrol", t.ID, community)
		return
	}
	if err != nil {
		s.formDone(w, r, "/grid/manage?community="+url.QueryEscape(community), "findings", err)
		return
	}
	if err := s.Store.Write(r.Context(), func(tx *store.Tx) error { return tx.HandlePatrol(r.Context(), t.ID) }); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/events/"+ev.Ref, http.StatusSeeOther)
}
