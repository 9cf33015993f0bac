package web

import (
	"net/http"

	"shequ/internal/access"
	"shequ/internal/store"
)

// peopleTab is one tab of the people-and-performance pages.
type peopleTab struct{ Name, Path string }

var peopleTabs = []peopleTab{{"staffing", "/people"}, {"workload", "/people/workload"}, {"assessment", "/people/assessment"},
	{"trends", "/people/trends"}, {"training", "/people/training"}, {"volunteers", "/people/volunteers"}}

func (s *Server) peopleRoutes(mux *http.ServeMux) {
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
