package web

import (
	"net/http"
	"net/url"
	"strings"

	"shequ/internal/audit"
	"shequ/internal/errs"
	"shequ/internal/store"
)

var (
	errCrossOrigin = errs.E(errs.Forbidden, "err.cross_origin")
	errForbidden   = errs.E(errs.Forbidden, "err.forbidden")
	errNotFound    = errs.E(errs.NotFound, "err.not_found")
)

// statusOf is the one place that maps error codes to HTTP status. Driver
// errors that mean the database is unreachable or its disk full are coded
// first (store.Classify), wherever they were returned: 503 with
// err.db_unavailable or err.disk_full, not a bare 500.
func statusOf(err error) int {
	switch errs.CodeOf(store.Classify(err)) {
	case errs.Invalid:
		return http.StatusBadRequest
	case errs.NotFound:
		return http.StatusNotFound
	case errs.Conflict:
		return http.StatusConflict
	case errs.Forbidden:
		return http.StatusForbidden
	case errs.Unauthorized:
		return http.StatusUnauthorized
	case errs.TooMany:
		return http.StatusTooManyRequests
	case errs.Unavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// message translates err for the user; internal errors stay generic.
func message(rq *req, err error) string {
	if e, ok := errs.As(store.Classify(err)); ok && e.Code != errs.Internal {
		return rq.pr.T(e.Key, e.Args...)
	}
	return rq.pr.T("err.internal")
}

// fail answers a request that went wrong: JSON for API clients, a friendly
// page for browsers; a login page when the visitor is not logged in.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	rq := reqOf(r)
	err = store.Classify(err)
	status := statusOf(err)
	if status >= 500 {
		s.Log.Error("request failed", "path", logPath(r.URL.Path), "err", err.Error())
	}
	if wantsJSON(r) {
		body := map[string]string{"code": string(errs.CodeOf(err)), "message": message(rq, err)}
		if e, ok := errs.As(err); ok && e.Field != "" {
			body["field"] = e.Field
		}
		writeJSON(w, status, map[string]any{"error": body})
		return
	}
	if status == http.StatusUnauthorized && r.Method == http.MethodGet {
		http.Redirect(w, r, "/login?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	w.WriteHeader(status)
	s.render(w, r, "error", map[string]any{"Status": status, "Message": message(rq, err)})
}

// deny answers 403 and records the refusal in the audit log.
func (s *Server) deny(w http.ResponseWriter, r *http.Request, action, targetType, targetID, nodeID string) {
	rq := reqOf(r)
	e := &store.AuditEntry{Action: action, Outcome: audit.Denied, TargetType: targetType, TargetID: targetID,
		NodeID: nodeID, IP: rq.ip, Detail: audit.Detail("path", r.URL.Path, "method", r.Method)}
	if rq.p != nil {
		e.ActorID, e.ActorName = rq.p.UserID, rq.p.Name
	}
	if err := s.Audit.Record(r.Context(), s.Store, e); err != nil {
		s.Log.Error("audit denial", "err", err.Error())
	}
	s.fail(w, r, errForbidden)
}

func wantsJSON(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/api/") || strings.Contains(r.Header.Get("Accept"), "application/json") &&
		!strings.Contains(r.Header.Get("Accept"), "text/html")
}

// formDone sends a form back to its page (path with its query, and an
// optional #anchor): with the translated error in the query when the
// input was refused; a fault gets the error page instead.
func (s *Server) formDone(w http.ResponseWriter, r *http.Request, path, anchor string, err error) {
	if err != nil {
		if _, ok := errs.As(err); !ok {
			s.fail(w, r, err)
			return
		}
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		path += sep + "error=" + url.QueryEscape(message(reqOf(r), err))
	}
	if anchor != "" {
		path += "#" + anchor
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
}
