package web

import (
	"net/http"

	"shequ/internal/access"
	"shequ/internal/errs"
	"shequ/internal/events"
)

// The resident's own reports (我的反映): report what they see with a photo
// and a place, follow it, rate it, reopen it.

func (s *Server) myReports(w http.ResponseWriter, r *http.Request) {
	rq := reqOf(r)
	if !rq.p.CanAnywhere(access.SelfService) {
		s.deny(w, r, "self.service", "", "", "")
		return
	}
	_, m, room, err := s.residentHome(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	mine, err := s.Store.ReporterEvents(r.Context(), rq.p.UserID, 50)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	cats, err := s.Store.EventCategories(r.Context(), room.CommunityID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	msgs, err := s.Store.Messages(r.Context(), rq.p.UserID, 20)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "me_reports", map[string]any{"Mine": mine, "Categories": cats, "Address": m.Address, "Messages": msgs, "Error": r.URL.Query().Get("error")})
}

func (s *Server) myReportSubmit(w http.ResponseWriter, r *http.Request) {
	rq := reqOf(r)
	r.Body = http.MaxBytesReader(w, r.Body, events.MaxPhotos*events.MaxPhotoBytes+1<<20)
	if err := r.ParseMultipartForm(1 << 20); err != nil && err != http.ErrNotMultipart {
		s.formDone(w, r, "/me/reports", "", errs.E(errs.Invalid, "err.visit.photo_size", events.MaxPhotoBytes>>20))
		return
	}
	_, m, room, err := s.residentHome(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	address := r.FormValue("address")
	if address == "" {
		address = m.Address
	}
	e, err := s.Events.Report(r.Context(), rq.p, "", events.Input{CommunityID: room.CommunityID, Category: r.FormValue("category"),
		Description: r.FormValue("description"), Address: address, Source: "resident", Photos: photosOf(r)})
	if err != nil {
		s.formDone(w, r, "/me/reports", "", err)
		return
	}
	http.Redirect(w, r, "/me/reports/"+e.Ref, http.StatusSeeOther)
}

func (s *Server) myReport(w http.ResponseWriter, r *http.Request) {
	rq := reqOf(r)
	e, _, err := s.Store.Event(r.Context(), r.PathValue("ref"))
	if err != nil || e.ReporterID != rq.p.UserID {
		s.fail(w, r, errNotFound) // someone else's report is not there for them
		return
	}
	steps, err := s.Store.EventSteps(r.Context(), e.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	canReopen := (e.Status == events.Resolved || e.Status == events.Closed || e.Status == events.Evaluated) &&
		(e.ClosedAt.IsZero() || s.Store.Now().Sub(e.ClosedAt) <= events.ReopenWindow)
	s.render(w, r, "me_report", map[string]any{"E": e, "Steps": steps, "CanRate": e.Status == events.Closed, "CanReopen": canReopen,
		"Error": r.URL.Query().Get("error")})
}
