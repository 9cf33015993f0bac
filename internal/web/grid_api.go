package web

import (
	"net/http"
	"strings"

	"shequ/internal/access"
	"shequ/internal/errs"
	"shequ/internal/gridwork"
	"shequ/internal/leads"
)

// The grid worker's phone talks JSON to these; the page works offline
// from the bundle and queues what it records (static/grid.js).

// maxVisitBody allows the photos of a visit in base64.
const maxVisitBody = gridwork.MaxPhotos*gridwork.MaxPhotoBytes*4/3 + 256<<10

func (s *Server) gridBundle(w http.ResponseWriter, r *http.Request) {
	p := reqOf(r).p
	if !p.CanAnywhere(access.GridWork) {
		s.deny(w, r, "grid.work", "", "", "")
		return
	}
	b, err := s.Grid.Bundle(r.Context(), p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSONCompact(w, http.StatusOK, b)
}

// gridHouseholds is the second half of the bundle: who lives in each room.
func (s *Server) gridHouseholds(w http.ResponseWriter, r *http.Request) {
	p := reqOf(r).p
	if !p.CanAnywhere(access.GridWork) {
		s.deny(w, r, "grid.work", "", "", "")
		return
	}
	hs, err := s.Grid.Households(r.Context(), p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSONCompact(w, http.StatusOK, hs)
}

func (s *Server) gridVisit(w http.ResponseWriter, r *http.Request) {
	p := reqOf(r).p
	var in gridwork.VisitInput
	if err := readJSON(w, r, maxVisitBody, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	res, err := s.Grid.RecordVisit(r.Context(), p, in)
	switch {
	case errs.Is(err, errs.Forbidden):
		s.deny(w, r, "visit.record", "room", in.RoomID, "")
	case errs.Is(err, errs.Conflict):
		// Someone changed the household meanwhile: send what is there now,
		// for the worker to set beside their record.
		cur, cerr := s.Grid.RoomSnapshot(r.Context(), p, in.RoomID)
		if cerr != nil {
			s.fail(w, r, cerr)
			return
		}
		writeJSON(w, http.StatusConflict, map[string]any{"error": map[string]string{"code": string(errs.Conflict),
			"message": message(reqOf(r), err)}, "current": cur})
	case err != nil:
		s.fail(w, r, err)
	default:
		writeJSON(w, http.StatusOK, res)
	}
}

func (s *Server) gridPatrol(w http.ResponseWriter, r *http.Request) {
	p := reqOf(r).p
	var in gridwork.PatrolInput
	if err := readJSON(w, r, 64<<10, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	res, err := s.Grid.RecordPatrol(r.Context(), p, in)
	switch {
	case errs.Is(err, errs.Forbidden):
		s.deny(w, r, "patrol.record", "patrol_point", in.PointID, "")
	case err != nil:
		s.fail(w, r, err)
	default:
		writeJSON(w, http.StatusOK, res)
	}
}

// gridLeadVerify takes a lead verification from the phone (queued
// offline or not). A lead already verified (a resend) answers as done.
func (s *Server) gridLeadVerify(w http.ResponseWriter, r *http.Request) {
	p := reqOf(r).p
	var in leads.VerifyInput
	if err := readJSON(w, r, 4<<20, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	err := s.Leads.Verify(r.Context(), p, r.PathValue("id"), in)
	switch {
	case errs.Is(err, errs.Forbidden):
		s.deny(w, r, "lead.verify", "lead", r.PathValue("id"), "")
	case errs.Is(err, errs.Conflict):
		writeJSON(w, http.StatusOK, map[string]any{"lead_id": r.PathValue("id"), "duplicate": true})
	case err != nil:
		s.fail(w, r, err)
	default:
		writeJSON(w, http.StatusOK, map[string]any{"lead_id": r.PathValue("id"), "duplicate": false})
	}
}

// gridRoomVisits is a room's visit history, for the household page when
// online.
func (s *Server) gridRoomVisits(w http.ResponseWriter, r *http.Request) {
	p := reqOf(r).p
	room, err := s.Grid.RoomSnapshot(r.Context(), p, r.PathValue("id"))
	if errs.Is(err, errs.Forbidden) {
		s.deny(w, r, "visit.view", "room", r.PathValue("id"), "")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	vs, err := s.Store.RoomVisits(r.Context(), room.ID, 10)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	type visit struct {
		At    string `json:"at"`
		By    string `json:"by"`
		Needs string `json:"needs"`
		Notes string `json:"notes"`
	}
	out := []visit{}
	for _, v := range vs {
		out = append(out, visit{At: v.At.In(shanghai).Format("2006-01-02 15:04"), By: v.UserName, Needs: v.Needs, Notes: v.Notes})
	}
	writeJSON(w, http.StatusOK, map[string]any{"room": room, "visits": out})
}

// gridApp is the grid worker's phone app: one page that draws itself from
// the bundle and keeps working offline (its service worker is /grid/sw.js).
func (s *Server) gridApp(w http.ResponseWriter, r *http.Request) {
	rq := reqOf(r)
	if !rq.p.CanAnywhere(access.GridWork) {
		s.deny(w, r, "grid.work", "", "", "")
		return
	}
	msgs := map[string]string{}
	for _, k := range s.Cat.Keys(rq.pr.Lang) {
		if strings.HasPrefix(k, "grid.") || strings.HasPrefix(k, "need.") || strings.HasPrefix(k, "survey.") || strings.HasPrefix(k, "monitoring.") ||
			strings.HasPrefix(k, "err.visit.") || strings.HasPrefix(k, "point.") || strings.HasPrefix(k, "rel.") ||
			strings.HasPrefix(k, "lead.") || strings.HasPrefix(k, "outcome.") || strings.HasPrefix(k, "measure.") || strings.HasPrefix(k, "err.lead.") {
			msgs[k] = rq.pr.T(k)
		}
	}
	w.Header().Set("Cache-Control", "no-cache")
	s.render(w, r, "grid_app", map[string]any{"I18N": msgs}) // JSON in the script element
}

// gridServiceWorker serves the worker script at /grid/, its scope.
func (s *Server) gridServiceWorker(w http.ResponseWriter, r *http.Request) {
	b, err := staticFS.ReadFile("static/grid-sw.js")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(b)
}
