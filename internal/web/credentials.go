package web

import (
	"net/http"

	"shequ/internal/errs"
	"shequ/internal/gate"
)

// addCredential gives a person a card or a licence plate, valid until the
// end of an optional day.
func (s *Server) addCredential(w http.ResponseWriter, r *http.Request) {
	rq := reqOf(r)
	var err error
	until, ok := parseDate(r.PostFormValue("valid_until"))
	switch {
	case r.PostFormValue("valid_until") != "" && !ok:
		err = errs.E(errs.Invalid, "err.date").OnField("valid_until")
	case ok:
		until = until.AddDate(0, 0, 1) // through the whole day
	}
	if err == nil {
		_, err = s.Gates.EnrolValue(r.Context(), gate.Actor{P: rq.p, IP: rq.ip}, r.PathValue("id"), r.PostFormValue("kind"), r.PostFormValue("value"), until)
	}
	s.credentialDone(w, r, err, "credential.add", "")
}

// revokeCredential withdraws one of a person's credentials; a face goes
// with its consent.
func (s *Server) revokeCredential(w http.ResponseWriter, r *http.Request) {
	rq := reqOf(r)
	err := s.Gates.RevokeByID(r.Context(), gate.Actor{P: rq.p, IP: rq.ip}, r.PathValue("id"), r.PathValue("cid"))
	s.credentialDone(w, r, err, "credential.revoke", "")
}

// credentialDone answers a change on the credentials page: back to the
// page, or the page again with the problem.
func (s *Server) credentialDone(w http.ResponseWriter, r *http.Request, err error, action, query string) {
	switch {
	case err == nil:
		http.Redirect(w, r, "/ledger/persons/"+r.PathValue("id")+"/face"+query, http.StatusSeeOther)
	case errs.CodeOf(err) == errs.Forbidden:
		s.deny(w, r, action, "person", r.PathValue("id"), "")
	case statusOf(err) >= 500:
		s.fail(w, r, err)
	default:
		s.renderFaceEnrol(w, r, err)
	}
}
