package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"shequ/internal/access"
	"shequ/internal/errs"
	"shequ/internal/store"
	"shequ/internal/training"
)

func (s *Server) trainingRoutes(mux *router) {
	mux.HandleFunc("GET /people/training", s.signedIn(s.trainingHome))
	mux.HandleFunc("POST /people/training/courses", s.signedIn(s.trainingCreateCourse))
	mux.HandleFunc("GET /people/training/courses/{id}", s.signedIn(s.trainingCourse))
	mux.HandleFunc("POST /people/training/courses/{id}", s.signedIn(s.trainingUpdateCourse))
	mux.HandleFunc("POST /people/training/courses/{id}/attendance", s.signedIn(s.trainingAttendance))
	mux.HandleFunc("GET /people/training/certificates/{id}", s.signedIn(s.trainingCertificate))
	mux.HandleFunc("GET /people/volunteers", s.signedIn(s.volunteersHome))
	mux.HandleFunc("POST /people/volunteers", s.signedIn(s.volunteerRegister))
	mux.HandleFunc("POST /people/volunteers/mobilise", s.signedIn(s.volunteerMobilise))
	mux.HandleFunc("GET /people/volunteers/{id}", s.signedIn(s.volunteerShow))
	mux.HandleFunc("POST /people/volunteers/{id}", s.signedIn(s.volunteerUpdate))
	mux.HandleFunc("POST /people/volunteers/{id}/active", s.signedIn(s.volunteerActive))
	mux.HandleFunc("POST /people/volunteers/duties/{id}/hours", s.signedIn(s.volunteerHours))
}

// trainingSvc is the training service over the server's store, keys and
// audit log.
func (s *Server) trainingSvc() *training.Service {
	return &training.Service{Store: s.Store, Keys: s.Keys, Audit: s.Audit}
}

// viewCommunities lists the communities whose people pages the principal
// may see (for the switcher of a page about one record).
func (s *Server) viewCommunities(r *http.Request) []store.OrgNode {
	comms, _ := s.Store.NodesAt(r.Context(), reqOf(r).p.Scopes(access.AssessView), store.LevelCommunity)
	return comms
}

// trainingDone answers a training or volunteer form: a refusal for scope
// is a denial; anything else goes back to the page.
func (s *Server) trainingDone(w http.ResponseWriter, r *http.Request, back, anchor, targetType, targetID string, err error) {
	if errs.Is(err, errs.Forbidden) {
		s.deny(w, r, string(access.AssessManage), targetType, targetID, "")
		return
	}
	if errs.Is(err, errs.NotFound) {
		s.fail(w, r, err)
		return
	}
	s.formDone(w, r, back, anchor, err)
}

// trainingHome shows a community's courses and who is missing which.
func (s *Server) trainingHome(w http.ResponseWriter, r *http.Request) {
	comm, comms, ok := s.peopleCommunity(w, r, access.AssessView)
	if !ok {
		return
	}
	p := reqOf(r).p
	rep, err := s.trainingSvc().Missing(r.Context(), p, comm.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	recent, err := s.Store.CommunityAttendance(r.Context(), comm.ID, 15)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	gaps := map[string]training.CourseGap{}
	for _, g := range rep.ByCourse {
		gaps[g.Course.ID] = g
	}
	s.render(w, r, "people_training", map[string]any{"Tab": "training", "Community": comm, "Communities": comms, "Report": rep, "Gaps": gaps,
		"Recent": recent, "Manage": p.Can(access.AssessManage, comm.Path), "Roles": training.Roles, "Error": r.URL.Query().Get("error")})
}

func courseInput(r *http.Request) training.CourseInput {
	r.ParseForm()
	return training.CourseInput{CommunityID: r.PostFormValue("community"), Name: r.PostFormValue("name"), Hours: r.PostFormValue("hours"),
		ValidMonths: r.PostFormValue("valid_months"), Roles: r.PostForm["role"], Description: r.PostFormValue("description"),
		Retired: r.PostFormValue("retired") == "1"}
}

func (s *Server) trainingCreateCourse(w http.ResponseWriter, r *http.Request) {
	comm, _, ok := s.peopleCommunity(w, r, access.AssessManage)
	if !ok {
		return
	}
	in := courseInput(r)
	in.CommunityID = comm.ID
	c, err := s.trainingSvc().CreateCourse(r.Context(), reqOf(r).p, in)
	if err == nil {
		http.Redirect(w, r, "/people/training/courses/"+c.ID, http.StatusSeeOther)
		return
	}
	s.trainingDone(w, r, "/people/training?community="+url.QueryEscape(comm.ID), "new-course", "org_node", comm.ID, err)
}

// trainingCourse shows a course: its attendance with certificates, who
// still needs it, and the forms to record a session and to edit it.
func (s *Server) trainingCourse(w http.ResponseWriter, r *http.Request) {
	p := reqOf(r).p
	v, err := s.trainingSvc().Course(r.Context(), p, r.PathValue("id"))
	if errs.Is(err, errs.Forbidden) {
		s.deny(w, r, string(access.AssessView), "course", r.PathValue("id"), "")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "people_course", map[string]any{"Tab": "training", "Community": v.Community, "Communities": s.viewCommunities(r), "V": v,
		"Manage": p.Can(access.AssessManage, v.Community.Path), "Roles": training.Roles, "Today": s.Store.Today(),
		"Error": r.URL.Query().Get("error")})
}

func (s *Server) trainingUpdateCourse(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	_, err := s.trainingSvc().UpdateCourse(r.Context(), reqOf(r).p, id, courseInput(r))
	s.trainingDone(w, r, "/people/training/courses/"+url.PathEscape(id), "edit", "course", id, err)
}

func (s *Server) trainingAttendance(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	r.ParseForm()
	var as []training.Attendee
	passed := r.PostForm["passed"]
	for _, u := range r.PostForm["attended"] {
		as = append(as, training.Attendee{UserID: u, Passed: slices.Contains(passed, u)})
	}
	for _, u := range passed { // passed implies attended
		if !slices.Contains(r.PostForm["attended"], u) {
			as = append(as, training.Attendee{UserID: u, Passed: true})
		}
	}
	_, err := s.trainingSvc().RecordAttendance(r.Context(), reqOf(r).p, training.AttendanceInput{CourseID: id, HeldOn: r.PostFormValue("held_on"),
		Attendees: as, Note: r.PostFormValue("note")})
	s.trainingDone(w, r, "/people/training/courses/"+url.PathEscape(id), "attendance", "course", id, err)
}

// trainingCertificate is a printable certificate of a pass.
func (s *Server) trainingCertificate(w http.ResponseWriter, r *http.Request) {
	c, err := s.trainingSvc().Certificate(r.Context(), reqOf(r).p, r.PathValue("id"))
	if errs.Is(err, errs.Forbidden) {
		s.deny(w, r, string(access.AssessView), "certificate", r.PathValue("id"), "")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "people_certificate", map[string]any{"Tab": "training", "Community": c.Community, "Communities": s.viewCommunities(r), "C": c})
}

// volunteersHome is a community's register of volunteers and party
// members with their hours in a period, mobilisation and the duties
// waiting for their hours.
func (s *Server) volunteersHome(w http.ResponseWriter, r *http.Request) {
	comm, comms, ok := s.peopleCommunity(w, r, access.AssessView)
	if !ok {
		return
	}
	p, q := reqOf(r).p, r.URL.Query()
	f := training.RegisterFilter{CommunityID: comm.ID, Kind: q.Get("kind"), Name: q.Get("q"), Inactive: q.Get("inactive") == "1", From: q.Get("from"), To: q.Get("to")}
	svc := s.trainingSvc()
	reg, err := svc.Register(r.Context(), p, f)
	errMsg := q.Get("error")
	if e, ok := errs.As(err); ok && e.Code == errs.Invalid {
		errMsg = message(reqOf(r), err)
		f.Kind, f.From, f.To = "", "", ""
		reg, err = svc.Register(r.Context(), p, f)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	done, _ := strconv.Atoi(q.Get("done"))
	s.render(w, r, "people_volunteers", map[string]any{"Tab": "volunteers", "Community": comm, "Communities": comms, "Reg": reg, "Filter": f,
		"Manage": p.Can(access.AssessManage, comm.Path), "Kinds": training.Kinds, "Today": s.Store.Today(), "Done": done, "Error": errMsg})
}

// volunteerInput reads the register form; a typed identity number links
// the entry to the ledger's person.
func (s *Server) volunteerInput(r *http.Request) (training.VolunteerInput, error) {
	in := training.VolunteerInput{Name: r.PostFormValue("name"), Phone: r.PostFormValue("phone"), Kind: r.PostFormValue("kind"),
		PartyBranch: r.PostFormValue("party_branch"), Skills: r.PostFormValue("skills"), JoinedOn: r.PostFormValue("joined_on"), Note: r.PostFormValue("note"),
		PersonID: r.PostFormValue("person")}
	if n := strings.TrimSpace(r.PostFormValue("id_number")); n != "" {
		id, err := s.personByIDNumber(r, n)
		if err != nil {
			return in, err
		}
		in.PersonID = id
	}
	return in, nil
}

func (s *Server) volunteerRegister(w http.ResponseWriter, r *http.Request) {
	comm, _, ok := s.peopleCommunity(w, r, access.AssessManage)
	if !ok {
		return
	}
	in, err := s.volunteerInput(r)
	if err == nil {
		in.CommunityID = comm.ID
		_, err = s.trainingSvc().RegisterVolunteer(r.Context(), reqOf(r).p, in)
	}
	s.trainingDone(w, r, "/people/volunteers?community="+url.QueryEscape(comm.ID), "register", "org_node", comm.ID, err)
}

// volunteerShow is one volunteer: details, duties and hours, and the
// forms to edit and to take them off the register.
func (s *Server) volunteerShow(w http.ResponseWriter, r *http.Request) {
	p := reqOf(r).p
	v, err := s.trainingSvc().Volunteer(r.Context(), p, r.PathValue("id"))
	if errs.Is(err, errs.Forbidden) {
		s.deny(w, r, string(access.AssessView), "volunteer", r.PathValue("id"), "")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "people_volunteers", map[string]any{"Tab": "volunteers", "Community": v.Community, "Communities": s.viewCommunities(r), "V": v,
		"Manage": p.Can(access.AssessManage, v.Community.Path), "Kinds": training.Kinds, "Today": s.Store.Today(), "Error": r.URL.Query().Get("error")})
}

func (s *Server) volunteerUpdate(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	in, err := s.volunteerInput(r)
	if err == nil {
		_, err = s.trainingSvc().UpdateVolunteer(r.Context(), reqOf(r).p, id, in)
	}
	s.trainingDone(w, r, "/people/volunteers/"+url.PathEscape(id), "edit", "volunteer", id, err)
}

func (s *Server) volunteerActive(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	err := s.trainingSvc().SetVolunteerActive(r.Context(), reqOf(r).p, id, r.PostFormValue("active") == "1")
	s.trainingDone(w, r, "/people/volunteers/"+url.PathEscape(id), "", "volunteer", id, err)
}

func (s *Server) volunteerMobilise(w http.ResponseWriter, r *http.Request) {
	comm, _, ok := s.peopleCommunity(w, r, access.AssessManage)
	if !ok {
		return
	}
	r.ParseForm()
	n, err := s.trainingSvc().Mobilise(r.Context(), reqOf(r).p, training.MobiliseInput{CommunityID: comm.ID, VolunteerIDs: r.PostForm["volunteer"],
		Target: r.PostFormValue("target"), CampaignID: r.PostFormValue("campaign"), EventID: r.PostFormValue("event"), Task: r.PostFormValue("task"),
		OnDate: r.PostFormValue("on_date"), Hours: r.PostFormValue("hours")})
	back := "/people/volunteers?community=" + url.QueryEscape(comm.ID)
	if err == nil {
		back += "&done=" + strconv.Itoa(n)
	}
	s.trainingDone(w, r, back, "duties", "org_node", comm.ID, err)
}

func (s *Server) volunteerHours(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	d, err := s.Store.Duty(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	err = s.trainingSvc().RecordHours(r.Context(), reqOf(r).p, id, r.PostFormValue("hours"))
	back := "/people/volunteers?community=" + url.QueryEscape(d.CommunityID)
	if r.PostFormValue("back") == "volunteer" {
		back = "/people/volunteers/" + url.PathEscape(d.VolunteerID)
	}
	s.trainingDone(w, r, back, "duties", "duty", id, err)
}
