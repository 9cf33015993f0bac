package web

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"

	"shequ/internal/access"
	"shequ/internal/errs"
	"shequ/internal/gate"
)

var errBadJSON = errs.E(errs.Invalid, "err.api.json")

// deviceUser returns the authenticated device account, or answers 401/403.
func (s *Server) deviceUser(w http.ResponseWriter, r *http.Request) (string, bool) {
	p := reqOf(r).p
	if p == nil {
		s.fail(w, r, errs.E(errs.Unauthorized, "err.token_required"))
		return "", false
	}
	if !p.CanAnywhere(access.DeviceReport) {
		s.fail(w, r, errForbidden)
		return "", false
	}
	return p.UserID, true
}

// readJSON decodes a size-limited JSON body, refusing unknown fields.
func readJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return errs.E(errs.Invalid, "err.api.too_large", limit)
		}
		return errs.Wrap(err, errs.Invalid, "err.api.json")
	}
	if _, err := dec.Token(); err != io.EOF {
		return errBadJSON
	}
	return nil
}

func (s *Server) deviceDecide(w http.ResponseWriter, r *http.Request) {
	uid, ok := s.deviceUser(w, r)
	if !ok {
		return
	}
	var req gate.DecideRequest
	if err := readJSON(w, r, 64<<10, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	resp, err := s.Gates.Decide(r.Context(), uid, req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) deviceEvents(w http.ResponseWriter, r *http.Request) {
	uid, ok := s.deviceUser(w, r)
	if !ok {
		return
	}
	var req gate.EventsRequest
	if err := readJSON(w, r, 16<<20, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	resp, err := s.Gates.Ingest(r.Context(), uid, req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) deviceHeartbeat(w http.ResponseWriter, r *http.Request) {
	uid, ok := s.deviceUser(w, r)
	if !ok {
		return
	}
	var hb gate.Heartbeat
	if err := readJSON(w, r, 16<<10, &hb); err != nil {
		s.fail(w, r, err)
		return
	}
	resp, err := s.Gates.Heartbeat(r.Context(), uid, hb)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) deviceSync(w http.ResponseWriter, r *http.Request) {
	uid, ok := s.deviceUser(w, r)
	if !ok {
		return
	}
	cursor, _ := strconv.ParseInt(r.URL.Query().Get("cursor"), 10, 64)
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	resp, err := s.Gates.Sync(r.Context(), uid, cursor, limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}
