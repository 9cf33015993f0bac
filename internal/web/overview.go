package web

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"

	"shequ/internal/access"
	"shequ/internal/errs"
	"shequ/internal/store"
)

// overviewRoutes are the street's and district's view of their
// communities, and the endpoint where community instances report upward.
func (s *Server) overviewRoutes(mux *router) {
	mux.HandleFunc("GET /overview", s.signedIn(s.overview))
	mux.HandleFunc("POST /api/v1/upstream", s.signedIn(s.upstreamReport))
}

// overview shows every community in the principal's scope side by side,
// with the figures other instances reported upward.
func (s *Server) overview(w http.ResponseWriter, r *http.Request) {
	p := reqOf(r).p
	if !p.CanAnywhere(access.BrainView) {
		s.deny(w, r, "brain.view", "", "", "")
		return
	}
	figs, err := s.Store.CommunityFigures(r.Context(), p.Scopes(access.BrainView))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var remote []store.Figures
	if p.CanAnywhere(access.ShareManage) || p.HasRole(access.Official) || p.HasRole(access.Admin) {
		ups, err := s.Store.UpstreamReports(r.Context())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, u := range ups {
			var f store.Figures
			if json.Unmarshal([]byte(u.Figures), &f) == nil {
				f.CommunityCode, f.CommunityName = u.Code, u.Name
				remote = append(remote, f)
			}
		}
	}
	var total store.Figures
	for _, f := range append(append([]store.Figures{}, figs...), remote...) {
		total.Population += f.Population
		total.Households += f.Households
		total.Rooms += f.Rooms
		total.RoomsSurveyed += f.RoomsSurveyed
		total.LeadsOpen += f.LeadsOpen
		total.EventsOpen += f.EventsOpen
		total.AlarmsOpen += f.AlarmsOpen
		total.Floating += f.Floating
		total.Registered += f.Registered
	}
	s.render(w, r, "overview", map[string]any{"Figures": figs, "Remote": remote, "Total": total})
}

// upstreamReport takes the aggregates a community instance sends to this
// (street or district) instance: only the aggregate fields of the data
// standard, from a partner account, keyed by community code.
func (s *Server) upstreamReport(w http.ResponseWriter, r *http.Request) {
	p := reqOf(r).p
	if !p.CanAnywhere(access.APIRead) {
		s.fail(w, r, errForbidden)
		return
	}
	var in struct {
		Communities []store.Figures `json:"communities"`
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err != nil || dec.Decode(&in) != nil || len(in.Communities) == 0 {
		s.fail(w, r, errs.E(errs.Invalid, "err.api.upstream").OnField("communities"))
		return
	}
	for _, f := range in.Communities {
		if len(f.CommunityCode) != 12 || f.CommunityName == "" {
			s.fail(w, r, errs.E(errs.Invalid, "err.api.upstream").OnField("community_code"))
			return
		}
	}
	s.idempotent(w, r, body, func(tx *store.Tx) (int, any, error) {
		for _, f := range in.Communities {
			b, _ := json.Marshal(f)
			if err := tx.SaveUpstream(r.Context(), f.CommunityCode, f.CommunityName, p.UserID, string(b)); err != nil {
				return 0, nil, err
			}
		}
		return http.StatusOK, map[string]any{"received": len(in.Communities)}, nil
	})
}
