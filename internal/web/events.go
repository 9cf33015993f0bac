package web

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"shequ/internal/access"
	"shequ/internal/errs"
	"shequ/internal/events"
	"shequ/internal/store"
)

// photosOf reads the photos of a multipart form (field "photos").
func photosOf(r *http.Request) []events.Photo {
	var out []events.Photo
	if r.MultipartForm == nil {
		return nil
	}
	for _, fh := range r.MultipartForm.File["photos"] {
		f, err := fh.Open()
		if err != nil {
			continue
		}
		b, _ := io.ReadAll(io.LimitReader(f, events.MaxPhotoBytes+1))
		f.Close()
		if len(b) > 0 {
			out = append(out, events.Photo{Data: b})
		}
	}
	return out
}

// eventsBoard is the command board: every open event in the principal's
// scope, who holds it and how long it has left; the parts waiting for the
// principal's own groups first; and the form to report one.
func (s *Server) eventsBoard(w http.ResponseWriter, r *http.Request) {
	p := reqOf(r).p
	if !p.CanAnywhere(access.EventView) {
		s.deny(w, r, "event.view", "", "", "")
		return
	}
	ctx := r.Context()
	open, total, err := s.Store.OpenEvents(ctx, p.Scopes(access.EventView), 500)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	counts := map[string]int{}
	overdue := 0
	for _, sc := range p.Scopes(access.EventView) {
		c, o, err := s.Store.EventCounts(ctx, sc, s.Store.Now())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for k, v := range c {
			counts[k] += v
		}
		overdue += o
	}
	mineEv, mineTasks, err := s.Store.GroupTasks(ctx, p.UserID, 100)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	comms, err := s.Store.NodesAt(ctx, p.Scopes(access.EventReport), store.LevelCommunity)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var cats []store.EventCategory
	if len(comms) > 0 {
		cats, _ = s.Store.EventCategories(ctx, comms[0].ID)
	}
	manageable, err := s.Store.NodesAt(ctx, p.Scopes(access.EventManage), store.LevelCommunity)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "events", map[string]any{"Open": open, "Total": total, "Counts": counts, "Overdue": overdue, "Statuses": events.Statuses, "Manageable": manageable,
		"Groups":     events.DefaultGroups,
		"MineEvents": mineEv, "MineTasks": mineTasks, "Communities": comms, "Categories": cats, "Now": s.Store.Now(), "Error": r.URL.Query().Get("error")})
}

// eventReport stores an event from the staff or grid worker's form.
func (s *Server) eventReport(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, events.MaxPhotos*events.MaxPhotoBytes+1<<20)
	if err := r.ParseMultipartForm(1 << 20); err != nil && err != http.ErrNotMultipart {
		s.formDone(w, r, "/events", "", errs.E(errs.Invalid, "err.visit.photo_size", events.MaxPhotoBytes>>20))
		return
	}
	source := "staff"
	if reqOf(r).p.CanAnywhere(access.GridWork) && !reqOf(r).p.CanAnywhere(access.EventManage) {
		source = "grid"
	}
	in := events.Input{CommunityID: r.FormValue("community"), Category: r.FormValue("category"),
		Title: r.FormValue("title"), Description: r.FormValue("description"), Address: r.FormValue("address"), Source: source, Photos: photosOf(r)}
	// A resident named by ID number: the event is about their home, and
	// goes to the community responsible for it (handled anywhere).
	if n := strings.TrimSpace(r.FormValue("id_number")); n != "" {
		room, err := s.residentRoom(r, n)
		if err != nil {
			s.formDone(w, r, "/events", "new-event", err)
			return
		}
		in.PlaceID = room
	}
	e, err := s.Events.Report(r.Context(), reqOf(r).p, "", in)
	if errs.Is(err, errs.Forbidden) {
		s.deny(w, r, "event.report", "org_node", r.FormValue("community"), r.FormValue("community"))
		return
	}
	if err != nil {
		s.formDone(w, r, "/events", "", err)
		return
	}
	http.Redirect(w, r, "/events/"+e.Ref, http.StatusSeeOther)
}

// eventPage shows an event with its parts and history, and the steps the
// principal may take now.
func (s *Server) eventPage(w http.ResponseWriter, r *http.Request) {
	p := reqOf(r).p
	e, path, err := s.Store.Event(r.Context(), r.PathValue("ref"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	tasks, err := s.Store.EventTasks(r.Context(), e.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	mine, _ := s.Store.UserGroups(r.Context(), p.UserID)
	var myTask *store.EventTask
	handling := false // one of the principal's groups has (or had) a part
	for i := range tasks {
		if mine[tasks[i].GroupID] {
			handling = true
			if tasks[i].Status != "done" {
				myTask = &tasks[i]
			}
		}
	}
	if !p.CanAtOrBelow(access.EventView, path) && !handling && p.UserID != e.ReporterID {
		s.deny(w, r, "event.view", "event", e.ID, e.CommunityID)
		return
	}
	steps, err := s.Store.EventSteps(r.Context(), e.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	groups, _ := s.Events.EnsureGroups(r.Context(), e.CommunityID)
	defaultGroup := ""
	if cats, err := s.Store.EventCategories(r.Context(), e.CommunityID); err == nil {
		for _, c := range cats {
			if c.ID == e.CategoryID {
				defaultGroup = c.DefaultGroup
			}
		}
	}
	s.render(w, r, "event", map[string]any{"E": e, "Tasks": tasks, "Steps": steps, "Groups": groups, "MyTask": myTask, "DefaultGroup": defaultGroup,
		"Manage": p.Can(access.EventManage, path), "Now": s.Store.Now(), "Error": r.URL.Query().Get("error")})
}

// eventAct takes a step on an event from a form.
func (s *Server) eventAct(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, events.MaxPhotos*events.MaxPhotoBytes+1<<20)
	if err := r.ParseMultipartForm(1 << 20); err != nil && err != http.ErrNotMultipart {
		s.formDone(w, r, "/events/"+r.PathValue("ref"), "", errs.E(errs.Invalid, "err.visit.photo_size", events.MaxPhotoBytes>>20))
		return
	}
	rating, _ := strconv.Atoi(r.FormValue("rating"))
	e, err := s.Events.Act(r.Context(), reqOf(r).p, r.PathValue("ref"), events.Action{Name: r.PathValue("action"), Note: r.FormValue("note"),
		Groups: r.Form["group"], Group: r.FormValue("task_group"), Rating: rating, Photos: photosOf(r)})
	back := "/events/" + r.PathValue("ref")
	if r.FormValue("back") == "me" {
		back = "/me/reports/" + r.PathValue("ref")
	}
	if errs.Is(err, errs.Forbidden) && e.ID != "" {
		s.deny(w, r, "event."+r.PathValue("action"), "event", e.ID, e.CommunityID)
		return
	}
	s.formDone(w, r, back, "", err)
}

// timeLeft says how long an event has before its SLA runs out (negative:
// overdue), for the board.
func timeLeft(due, now time.Time) string {
	if due.IsZero() {
		return ""
	}
	d := due.Sub(now).Round(time.Minute)
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	h := int(d.Hours())
	return sign + strconv.Itoa(h) + "h" + strconv.Itoa(int(d.Minutes())-h*60) + "m"
}

// eventCategoryAdd adds a category to a community (or replaces a default).
func (s *Server) eventCategoryAdd(w http.ResponseWriter, r *http.Request) {
	sla, _ := strconv.Atoi(r.PostFormValue("sla_hours"))
	err := s.Events.AddCategory(r.Context(), reqOf(r).p, r.PostFormValue("community"), store.EventCategory{Code: r.PostFormValue("code"),
		Name: r.PostFormValue("name"), Kind: r.PostFormValue("kind"), SLAHours: sla, DefaultGroup: r.PostFormValue("default_group")})
	if errs.Is(err, errs.Forbidden) {
		s.deny(w, r, "event.manage", "org_node", r.PostFormValue("community"), r.PostFormValue("community"))
		return
	}
	s.formDone(w, r, "/events", "categories", err)
}

// residentRoom finds the room a resident (by ID number) lives in now.
func (s *Server) residentRoom(r *http.Request, number string) (string, error) {
	personID, err := s.personByIDNumber(r, number)
	if err != nil {
		return "", err
	}
	ms, err := s.Store.Memberships(r.Context(), personID)
	if err != nil {
		return "", err
	}
	if len(ms) == 0 || ms[0].Until != "" {
		return "", errs.E(errs.Invalid, "err.event.no_home").OnField("id_number")
	}
	return ms[0].RoomID, nil
}
