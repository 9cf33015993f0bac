package web

import (
	"encoding/json"
	"net/http"
)

// writeJSON answers an API request.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// writeJSONCompact answers with bulk data (a grid worker's bundle):
// without indentation, which would cost a third of the time.
func writeJSONCompact(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// apiWhoami tells an API client (or a browser session) who it is and
// where its roles apply: the first call a partner's developer makes.
func (s *Server) apiWhoami(w http.ResponseWriter, r *http.Request) {
	p := reqOf(r).p
	type role struct {
		Role string `json:"role"`
		Node string `json:"node_id"`
	}
	out := struct {
		UserID string `json:"user_id"`
		Name   string `json:"name"`
		Kind   string `json:"kind"`
		Roles  []role `json:"roles"`
	}{UserID: p.UserID, Name: p.Name, Kind: p.Kind, Roles: []role{}}
	for _, a := range p.Assignments {
		out.Roles = append(out.Roles, role{Role: string(a.Role), Node: a.NodeID})
	}
	writeJSON(w, http.StatusOK, out)
}
