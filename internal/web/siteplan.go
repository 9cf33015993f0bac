package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"shequ/internal/access"
	"shequ/internal/errs"
	"shequ/internal/siteplan"
	"shequ/internal/store"
)

// siteplanRoutes are the digital twin: the community's site plan.
func (s *Server) siteplanRoutes(mux *router) {
	mux.HandleFunc("GET /siteplan", s.signedIn(s.sitePlanPage))
	mux.HandleFunc("GET /siteplan/svg", s.signedIn(s.sitePlanSVG))
	mux.HandleFunc("POST /siteplan/import", s.signedIn(s.sitePlanImport))
	mux.HandleFunc("POST /siteplan/footprint", s.signedIn(s.sitePlanFootprint))
	mux.HandleFunc("POST /siteplan/footprint/remove", s.signedIn(s.sitePlanRemove))
	mux.HandleFunc("POST /siteplan/gate", s.signedIn(s.sitePlanGate))
}

// sitePlanCommunity picks the community a site-plan request is about:
// ?community=ID, else the first one the principal may view (person.view
// or brain.view at the community). Denied requests are answered.
func (s *Server) sitePlanCommunity(w http.ResponseWriter, r *http.Request) (store.OrgNode, []store.OrgNode, bool) {
	p := reqOf(r).p
	scopes := append(p.Scopes(access.PersonView), p.Scopes(access.BrainView)...)
	nodes, err := s.Store.NodesAt(r.Context(), scopes, store.LevelCommunity)
	if err != nil {
		s.fail(w, r, err)
		return store.OrgNode{}, nil, false
	}
	var comms []store.OrgNode
	for _, n := range nodes {
		if p.Can(access.PersonView, n.Path) || p.Can(access.BrainView, n.Path) {
			comms = append(comms, n)
		}
	}
	want := r.FormValue("community")
	for _, c := range comms {
		if c.ID == want || (want == "" && len(comms) > 0) {
			return c, comms, true
		}
	}
	s.deny(w, r, "siteplan.view", "org_node", want, want)
	return store.OrgNode{}, nil, false
}

// sitePlanPage shows the plan coloured by a measure, the legend, the
// gates, the buildings to look at, and for those who may change the
// organisation the drawing tools and the GeoJSON import.
func (s *Server) sitePlanPage(w http.ResponseWriter, r *http.Request) {
	comm, comms, ok := s.sitePlanCommunity(w, r)
	if !ok {
		return
	}
	rq := reqOf(r)
	plan, err := siteplan.Load(r.Context(), s.Store, comm.ID, r.FormValue("measure"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	type option struct {
		ID, Name, Ring string
		Kind           string
	}
	var placed []option
	for _, b := range plan.Buildings {
		var pts []string
		for _, p := range b.Ring {
			pts = append(pts, strconv.FormatFloat(p.X, 'f', -1, 64)+","+strconv.FormatFloat(p.Y, 'f', -1, 64))
		}
		placed = append(placed, option{ID: b.ID, Name: b.Name, Kind: b.Kind, Ring: strings.Join(pts, "\n")})
	}
	type look struct{ ID, Name, Figure, Detail string }
	var attention []look
	for _, b := range plan.Attention(8) {
		attention = append(attention, look{b.ID, b.Name, plan.Figure(b, rq.pr.T), plan.Detail(b, rq.pr.T)})
	}
	q := r.URL.Query()
	data := map[string]any{
		"Community": comm, "Communities": comms, "Plan": plan, "SVG": siteplan.SVGWith(plan, rq.pr.T, siteplan.Options{Legend: true, Labels: true, ID: "plan"}),
		"Measures": siteplan.Measures, "Attention": attention, "Placed": placed, "Total": len(plan.Buildings) + len(plan.Unplaced),
		"CanEdit": rq.p.Can(access.OrgManage, comm.Path),
		"Live":    rq.p.CanAnywhere(access.GateView) || rq.p.CanAnywhere(access.GateOperate),
		"Error":   q.Get("error"), "Saved": q.Get("saved") != "",
	}
	if imp := q.Get("imported"); imp != "" {
		var n [4]int
		fmt.Sscanf(imp, "%d.%d.%d.%d", &n[0], &n[1], &n[2], &n[3])
		data["Imported"] = rq.pr.T("siteplan.import_done", n[0], n[1], n[2], n[3])
	}
	s.render(w, r, "siteplan", data)
}

// sitePlanSVG is the plan alone, for screens that refresh it in place.
func (s *Server) sitePlanSVG(w http.ResponseWriter, r *http.Request) {
	comm, _, ok := s.sitePlanCommunity(w, r)
	if !ok {
		return
	}
	plan, err := siteplan.Load(r.Context(), s.Store, comm.ID, r.FormValue("measure"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	fmt.Fprint(w, siteplan.SVGWith(plan, reqOf(r).pr.T, siteplan.Options{Legend: r.FormValue("legend") != "0", Labels: r.FormValue("labels") != "0"}))
}

// sitePlanEdit checks a change to a community's plan may be made and
// returns the community and where to go back to.
func (s *Server) sitePlanEdit(w http.ResponseWriter, r *http.Request) (store.OrgNode, string, bool) {
	comm, err := s.Store.OrgNode(r.Context(), r.FormValue("community"))
	if err != nil || comm.Level != store.LevelCommunity {
		s.deny(w, r, "siteplan.edit", "org_node", r.FormValue("community"), "")
		return comm, "", false
	}
	if !reqOf(r).p.Can(access.OrgManage, comm.Path) {
		s.deny(w, r, "siteplan.edit", "org_node", comm.ID, comm.ID)
		return comm, "", false
	}
	back := "/siteplan?community=" + url.QueryEscape(comm.ID)
	if m := r.FormValue("measure"); siteplan.ValidMeasure(m) {
		back += "&measure=" + m
	}
	return comm, back, true
}

func (s *Server) sitePlanActor(r *http.Request) siteplan.Actor {
	rq := reqOf(r)
	return siteplan.Actor{UserID: rq.p.UserID, Name: rq.p.Name, IP: rq.ip, Log: s.Audit}
}

// sitePlanImport takes a GeoJSON file: all of it, or none of it.
func (s *Server) sitePlanImport(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, siteplan.MaxFileSize+1<<16)
	if err := r.ParseMultipartForm(1 << 20); err != nil && err != http.ErrNotMultipart {
		s.formDone(w, r, "/siteplan?community="+url.QueryEscape(r.FormValue("community")), "import", errs.E(errs.Invalid, "err.siteplan.too_large"))
		return
	}
	comm, back, ok := s.sitePlanEdit(w, r)
	if !ok {
		return
	}
	f, _, err := r.FormFile("file")
	if err != nil {
		s.formDone(w, r, back, "import", errs.E(errs.Invalid, "err.siteplan.no_file").OnField("file"))
		return
	}
	defer f.Close()
	sum, err := siteplan.Import(r.Context(), s.Store, s.sitePlanActor(r), comm.ID, f, r.FormValue("replace") == "1")
	if err != nil {
		s.formDone(w, r, back, "import", err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("%s&imported=%d.%d.%d.%d", back, sum.Footprints, sum.Gates, sum.Grids, sum.Shapes), http.StatusSeeOther)
}

// sitePlanFootprint saves a building's outline drawn or typed on the page.
func (s *Server) sitePlanFootprint(w http.ResponseWriter, r *http.Request) {
	comm, back, ok := s.sitePlanEdit(w, r)
	if !ok {
		return
	}
	corners, err := siteplan.ParsePoints(r.PostFormValue("points"))
	if err == nil {
		err = siteplan.SaveFootprint(r.Context(), s.Store, s.sitePlanActor(r), comm.ID, r.PostFormValue("place"), corners)
	}
	if err != nil {
		s.formDone(w, r, back, "draw", err)
		return
	}
	http.Redirect(w, r, back+"&saved=1#plan", http.StatusSeeOther)
}

// sitePlanRemove takes a building off the plan.
func (s *Server) sitePlanRemove(w http.ResponseWriter, r *http.Request) {
	comm, back, ok := s.sitePlanEdit(w, r)
	if !ok {
		return
	}
	if err := siteplan.RemoveFootprint(r.Context(), s.Store, s.sitePlanActor(r), comm.ID, r.PostFormValue("place")); err != nil {
		s.formDone(w, r, back, "draw", err)
		return
	}
	http.Redirect(w, r, back+"&saved=1#plan", http.StatusSeeOther)
}

// sitePlanGate puts a gate where it was clicked.
func (s *Server) sitePlanGate(w http.ResponseWriter, r *http.Request) {
	comm, back, ok := s.sitePlanEdit(w, r)
	if !ok {
		return
	}
	x, errX := strconv.ParseFloat(strings.TrimSpace(r.PostFormValue("x")), 64)
	y, errY := strconv.ParseFloat(strings.TrimSpace(r.PostFormValue("y")), 64)
	var err error
	if errX != nil || errY != nil {
		err = errs.E(errs.Invalid, "err.siteplan.position").OnField("x")
	} else {
		err = siteplan.PlaceGate(r.Context(), s.Store, s.sitePlanActor(r), comm.ID, r.PostFormValue("gate"), x, y)
	}
	if err != nil {
		s.formDone(w, r, back, "draw", err)
		return
	}
	http.Redirect(w, r, back+"&saved=1#plan", http.StatusSeeOther)
}
