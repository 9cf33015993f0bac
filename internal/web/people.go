package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"shequ/internal/access"
	"shequ/internal/assess"
	"shequ/internal/errs"
	"shequ/internal/store"
)

// peopleTab is one tab of the people-and-performance pages.
type peopleTab struct{ Name, Path string }

var peopleTabs = []peopleTab{{"staffing", "/people"}, {"workload", "/people/workload"}, {"assessment", "/people/assessment"},
	{"trends", "/people/trends"}, {"training", "/people/training"}, {"volunteers", "/people/volunteers"}}

func (s *Server) peopleRoutes(mux *router) {
	mux.HandleFunc("GET /people", s.signedIn(s.peopleStaffing))
	mux.HandleFunc("GET /people/workload", s.signedIn(s.peopleWorkload))
	mux.HandleFunc("GET /people/assessment", s.signedIn(s.peopleAssessment))
	mux.HandleFunc("GET /people/assessment.xlsx", s.signedIn(s.peopleExport))
	mux.HandleFunc("GET /people/assessment/{user}", s.signedIn(s.peopleWorker))
	mux.HandleFunc("POST /people/settings", s.signedIn(s.peopleSettings))
	mux.HandleFunc("POST /people/appeals/{id}", s.signedIn(s.peopleDecide))
	mux.HandleFunc("GET /people/trends", s.signedIn(s.peopleTrends))
	mux.HandleFunc("GET /people/me", s.signedIn(s.peopleMine))
	mux.HandleFunc("POST /people/me/notes", s.signedIn(s.peopleNote))
}

// peopleCommunity picks the community a people page is about among those
// where the principal may do a (the one asked for, else the first). Its
// third result is false when the answer has been written (refused).
func (s *Server) peopleCommunity(w http.ResponseWriter, r *http.Request, a access.Action) (store.OrgNode, []store.OrgNode, bool) {
	comms, err := s.Store.NodesAt(r.Context(), reqOf(r).p.Scopes(a), store.LevelCommunity)
	if err != nil {
		s.fail(w, r, err)
		return store.OrgNode{}, nil, false
	}
	if len(comms) == 0 {
		s.deny(w, r, string(a), "", "", "")
		return store.OrgNode{}, nil, false
	}
	want := r.FormValue("community")
	for _, c := range comms {
		if c.ID == want {
			return c, comms, true
		}
	}
	if want != "" {
		s.deny(w, r, string(a), "org_node", want, want)
		return store.OrgNode{}, nil, false
	}
	return comms[0], comms, true
}

// period reads the period a page is about: from and to (dates), else a
// month, else the current month.
func (s *Server) period(r *http.Request) (assess.Period, error) {
	if from, to := r.FormValue("from"), r.FormValue("to"); from != "" || to != "" {
		return assess.Span(from, to)
	}
	if m := r.FormValue("month"); m != "" {
		return assess.Month(m)
	}
	return assess.MonthOf(s.Store.Now()), nil
}

// peopleView picks the community (AssessView) and the period of a page;
// its last result is false when the answer has been written.
func (s *Server) peopleView(w http.ResponseWriter, r *http.Request) (store.OrgNode, []store.OrgNode, assess.Period, bool) {
	comm, comms, ok := s.peopleCommunity(w, r, access.AssessView)
	if !ok {
		return comm, nil, assess.Period{}, false
	}
	per, err := s.period(r)
	if err != nil {
		s.fail(w, r, err)
		return comm, nil, per, false
	}
	return comm, comms, per, true
}

// peopleData is what every people page passes to its template.
func peopleData(tab string, comm store.OrgNode, comms []store.OrgNode, per assess.Period, r *http.Request) map[string]any {
	return map[string]any{"Tab": tab, "Community": comm, "Communities": comms, "Period": per, "Month": per.From[:7],
		"Parts": assess.PartNames, "Error": r.URL.Query().Get("error")}
}

// peopleStaffing shows who covers which grid, the load per worker, and the
// history. A grid worker, who sees no community, is taken to their own
// assessment.
func (s *Server) peopleStaffing(w http.ResponseWriter, r *http.Request) {
	p := reqOf(r).p
	if comms, _ := s.Store.NodesAt(r.Context(), p.Scopes(access.AssessView), store.LevelCommunity); len(comms) == 0 && p.CanAnywhere(access.GridWork) {
		http.Redirect(w, r, "/people/me", http.StatusSeeOther)
		return
	}
	comm, comms, ok := s.peopleCommunity(w, r, access.AssessView)
	if !ok {
		return
	}
	st, err := s.Assess.Staffing(r.Context(), p, comm.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := peopleData("staffing", comm, comms, assess.MonthOf(s.Store.Now()), r)
	data["Staffing"] = st
	data["CanManage"] = p.Can(access.AssessManage, comm.Path)
	s.render(w, r, "people_staffing", data)
}

func (s *Server) peopleWorkload(w http.ResponseWriter, r *http.Request) {
	comm, comms, per, ok := s.peopleView(w, r)
	if !ok {
		return
	}
	wl, err := s.Assess.Workload(r.Context(), reqOf(r).p, comm.ID, per)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := peopleData("workload", comm, comms, per, r)
	data["Work"] = wl
	s.render(w, r, "people_workload", data)
}

func (s *Server) peopleAssessment(w http.ResponseWriter, r *http.Request) {
	comm, comms, per, ok := s.peopleView(w, r)
	if !ok {
		return
	}
	rep, err := s.Assess.Assess(r.Context(), reqOf(r).p, comm.ID, per)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := peopleData("assessment", comm, comms, per, r)
	data["Report"] = rep
	data["CanManage"] = reqOf(r).p.Can(access.AssessManage, comm.Path)
	s.render(w, r, "people_assessment", data)
}

// peopleWorker shows one worker's assessment with every input and the
// calculation.
func (s *Server) peopleWorker(w http.ResponseWriter, r *http.Request) {
	comm, comms, per, ok := s.peopleView(w, r)
	if !ok {
		return
	}
	rep, err := s.Assess.Assess(r.Context(), reqOf(r).p, comm.ID, per)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sc, found := rep.Worker(r.PathValue("user"))
	if !found {
		s.fail(w, r, errNotFound)
		return
	}
	data := peopleData("assessment", comm, comms, per, r)
	data["Report"], data["Score"] = rep, sc
	data["CanManage"] = reqOf(r).p.Can(access.AssessManage, comm.Path)
	s.render(w, r, "people_worker", data)
}

func (s *Server) peopleExport(w http.ResponseWriter, r *http.Request) {
	comm, _, per, ok := s.peopleView(w, r)
	if !ok {
		return
	}
	p := reqOf(r).p
	rep, err := s.Assess.Assess(r.Context(), p, comm.ID, per)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.Audit.Record(r.Context(), s.Store, &store.AuditEntry{ActorID: p.UserID, ActorName: p.Name, Action: "export", Outcome: "ok",
		TargetType: "assessment", TargetID: per.Key(), NodeID: comm.ID, IP: reqOf(r).ip})
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", `attachment; filename="`+assess.FileName(rep)+`"`)
	if err := assess.WriteXLSX(w, rep, reqOf(r).pr.T); err != nil {
		s.Log.Error("assessment export", "err", err.Error())
	}
}

func (s *Server) peopleSettings(w http.ResponseWriter, r *http.Request) {
	comm, _, ok := s.peopleCommunity(w, r, access.AssessManage)
	if !ok {
		return
	}
	num := func(name string) int { n, _ := strconv.Atoi(strings.TrimSpace(r.PostFormValue(name))); return n }
	set := store.AssessSettings{Visits: num("w_visits"), Leads: num("w_leads"), Events: num("w_events"), Patrols: num("w_patrols"),
		Rating: num("w_rating"), PatrolsPerWeek: num("patrols_per_week"), LoadLimit: num("load_limit"), VisitCycleDays: num("visit_cycle_days")}
	err := s.Assess.SaveSettings(r.Context(), reqOf(r).p, comm.ID, set)
	back := "/people/assessment?community=" + url.QueryEscape(comm.ID) + "&month=" + url.QueryEscape(r.PostFormValue("month"))
	if r.PostFormValue("back") == "staffing" {
		back = "/people?community=" + url.QueryEscape(comm.ID)
	}
	s.formDone(w, r, back, "settings", err)
}

func (s *Server) peopleDecide(w http.ResponseWriter, r *http.Request) {
	comm, _, ok := s.peopleCommunity(w, r, access.AssessManage)
	if !ok {
		return
	}
	adjust, err := tenths(r.PostFormValue("adjust"))
	if err == nil {
		err = s.Assess.Decide(r.Context(), reqOf(r).p, comm.ID, r.PathValue("id"), r.PostFormValue("status"), r.PostFormValue("reply"), adjust)
	}
	back := fmt.Sprintf("/people/assessment/%s?community=%s&from=%s&to=%s", url.PathEscape(r.PostFormValue("user")), url.QueryEscape(comm.ID),
		url.QueryEscape(r.PostFormValue("from")), url.QueryEscape(r.PostFormValue("to")))
	s.formDone(w, r, back, "notes", err)
}

// tenths reads points with at most one decimal ("+3", "-1.5") as tenths.
func tenths(v string) (int, error) {
	v = strings.TrimPrefix(strings.TrimSpace(v), "+")
	if v == "" {
		return 0, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f*10 != float64(int(f*10)) {
		return 0, errs.E(errs.Invalid, "err.assess.adjust").OnField("adjust")
	}
	return int(f * 10), nil
}

func (s *Server) peopleTrends(w http.ResponseWriter, r *http.Request) {
	comm, comms, ok := s.peopleCommunity(w, r, access.AssessView)
	if !ok {
		return
	}
	tr, err := s.Assess.Trends(r.Context(), reqOf(r).p, comm.ID, 6, s.Store.Now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := peopleData("trends", comm, comms, tr.Months[len(tr.Months)-1], r)
	data["Trend"] = tr
	var labels []string
	for _, m := range tr.Months {
		labels = append(labels, m.From[:7])
	}
	data["GridChart"] = lineChart(labels, tr.Grids)
	data["WorkerChart"] = lineChart(labels, tr.Workers)
	s.render(w, r, "people_trends", data)
}

// peopleMine is a grid worker's own assessment, with the inputs, and the
// form to explain or appeal it.
func (s *Server) peopleMine(w http.ResponseWriter, r *http.Request) {
	per, err := s.period(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	reps, err := s.Assess.Mine(r.Context(), reqOf(r).p, per)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "people_me", map[string]any{"Reports": reps, "Period": per, "Month": per.From[:7], "Parts": assess.PartNames,
		"Kinds": assess.NoteKinds, "Error": r.URL.Query().Get("error")})
}

func (s *Server) peopleNote(w http.ResponseWriter, r *http.Request) {
	per, err := s.period(r)
	if err == nil {
		err = s.Assess.AddNote(r.Context(), reqOf(r).p, r.PostFormValue("community"), per, r.PostFormValue("kind"), r.PostFormValue("body"))
	}
	s.formDone(w, r, "/people/me?from="+url.QueryEscape(per.From)+"&to="+url.QueryEscape(per.To), "notes", err)
}
