package web

import (
	"net/http"

	"shequ/internal/access"
	"shequ/internal/audit"
	"shequ/internal/auth"
	"shequ/internal/store"
)

type scopeView struct {
	Role  string
	Node  store.OrgNode
	Trail []trailItem
}

// trailItem is one step of a path from the top of the tree; only the
// steps the principal may open are links.
type trailItem struct {
	Node store.OrgNode
	Link bool
}

func (s *Server) trail(r *http.Request, nodes []store.OrgNode) []trailItem {
	p := reqOf(r).p
	out := make([]trailItem, len(nodes))
	for i, n := range nodes {
		out[i] = trailItem{Node: n, Link: p.Can(access.OrgView, n.Path)}
	}
	return out
}

// scopes describes where the principal's roles apply, with the path from
// the top of the tree.
func (s *Server) scopes(r *http.Request) ([]scopeView, error) {
	rq := reqOf(r)
	var out []scopeView
	for _, a := range rq.p.Assignments {
		trail, err := s.Store.OrgAncestors(r.Context(), a.NodePath)
		if err != nil {
			return nil, err
		}
		if len(trail) == 0 {
			continue
		}
		out = append(out, scopeView{Role: string(a.Role), Node: trail[len(trail)-1], Trail: s.trail(r, trail)})
	}
	return out, nil
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	rq := reqOf(r)
	scopes, err := s.scopes(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	counts := map[store.Level]int{}
	for _, path := range rq.p.Scopes(access.OrgView) {
		c, err := s.Store.CountOrgNodes(r.Context(), path)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for l, n := range c {
			counts[l] += n
		}
	}
	var pop store.Population
	for _, path := range rq.p.Scopes(access.PersonView) {
		p, err := s.Store.CountPopulation(r.Context(), path)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		pop.Registered += p.Registered
		pop.Permanent += p.Permanent
		pop.Floating += p.Floating
		pop.Households += p.Households
		pop.Rooms += p.Rooms
	}
	s.render(w, r, "home", map[string]any{"Scopes": scopes, "Counts": counts, "Levels": store.Levels,
		"Pop": pop, "ShowPop": rq.p.CanAnywhere(access.PersonView)})
}

func (s *Server) accountPage(w http.ResponseWriter, r *http.Request) {
	scopes, err := s.scopes(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "account", map[string]any{"Account": reqOf(r).user, "Scopes": scopes})
}

func (s *Server) accountPassword(w http.ResponseWriter, r *http.Request) {
	rq := reqOf(r)
	data := map[string]any{"Account": rq.user}
	scopes, _ := s.scopes(r)
	data["Scopes"] = scopes
	if rq.user.Kind != store.KindStaff || !auth.CheckPassword(rq.user.PasswordHash, r.PostFormValue("current")) {
		data["Error"] = rq.pr.T("err.password_current")
		w.WriteHeader(http.StatusBadRequest)
		s.render(w, r, "account", data)
		return
	}
	if err := s.Auth.ChangePassword(r.Context(), rq.p, rq.p.UserID, r.PostFormValue("new"), rq.ip); err != nil {
		if statusOf(err) >= 500 {
			s.fail(w, r, err)
			return
		}
		data["Error"] = message(rq, err)
		w.WriteHeader(statusOf(err))
		s.render(w, r, "account", data)
		return
	}
	// Changing the password ended every session, this one too.
	s.setCookie(w, r, s.cookie(sessionCookie, "", -1))
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (s *Server) auditPage(w http.ResponseWriter, r *http.Request) {
	rq := reqOf(r)
	if !rq.p.CanAnywhere(access.AuditView) {
		s.deny(w, r, "audit.view", "", "", "")
		return
	}
	q := r.URL.Query()
	f := store.AuditFilter{Action: q.Get("action"), Outcome: q.Get("outcome"), Limit: 100}
	if t, ok := parseDate(q.Get("from")); ok {
		f.From = t
	}
	if t, ok := parseDate(q.Get("to")); ok {
		f.To = t.AddDate(0, 0, 1)
	}
	f.BeforeSeq = int64(atoiDefault(q.Get("before"), 0))
	var entries []store.AuditEntry
	scopes := rq.p.Scopes(access.AuditView)
	for _, sc := range scopes {
		f.ScopePath = sc
		if isRootPath(sc) {
			f.ScopePath = ""
		}
		es, err := s.Store.AuditEntries(r.Context(), f)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		entries = append(entries, es...)
	}
	// Everyone also sees their own actions.
	f.ScopePath, f.ActorID = "", rq.p.UserID
	own, err := s.Store.AuditEntries(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	entries = mergeAudit(entries, own, f.Limit)
	data := map[string]any{"Entries": entries, "Filter": q}
	if len(entries) == f.Limit {
		data["Before"] = entries[len(entries)-1].Seq
	}
	s.render(w, r, "audit", data)
	s.Audit.Record(r.Context(), s.Store, &store.AuditEntry{ActorID: rq.p.UserID, ActorName: rq.p.Name, Action: "audit.view",
		IP: rq.ip, Detail: audit.Detail("filter", q.Encode())})
}

// mergeAudit joins result lists newest first without duplicates.
func mergeAudit(a, b []store.AuditEntry, limit int) []store.AuditEntry {
	seen := map[int64]bool{}
	var all []store.AuditEntry
	for _, e := range append(a, b...) {
		if !seen[e.Seq] {
			seen[e.Seq] = true
			all = append(all, e)
		}
	}
	sortAuditDesc(all)
	if len(all) > limit {
		all = all[:limit]
	}
	return all
}
