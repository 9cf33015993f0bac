package web

import (
	"net/http"

	"shequ/internal/access"
	"shequ/internal/ledger"
	"shequ/internal/store"
)

// ledgerHome lists, per community in scope, its compounds and villages
// with their buildings or houses and survey coverage.
func (s *Server) ledgerHome(w http.ResponseWriter, r *http.Request) {
	rq := reqOf(r)
	scopes := rq.p.Scopes(access.PersonView)
	if len(scopes) == 0 {
		s.deny(w, r, "person.view", "", "", "")
		return
	}
	type building struct {
		Place    store.Place
		Coverage store.Coverage
	}
	type site struct {
		Place     store.Place
		Buildings []building
	}
	type community struct {
		Node     store.OrgNode
		Coverage store.Coverage
		Pop      store.Population
		Sites    []site
	}
	var comms []community
	for _, sc := range scopes {
		nodes, err := s.Store.OrgSubtree(r.Context(), sc)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		// A grid worker's scope is a grid: show its community's places,
		// but only the buildings of their grid.
		for _, n := range nodes {
			if n.Level != store.LevelCommunity && !(n.Level == store.LevelGrid && n.Path == sc) {
				continue
			}
			commID := n.ID
			if n.Level == store.LevelGrid {
				commID = n.ParentID
			}
			c := community{Node: n}
			var err error
			if c.Coverage, err = s.Store.CoverageBelow(r.Context(), n.Path); err != nil {
				s.fail(w, r, err)
				return
			}
			if c.Pop, err = s.Store.CountPopulation(r.Context(), n.Path); err != nil {
				s.fail(w, r, err)
				return
			}
			cov, err := s.Store.CoverageBy(r.Context(), commID, "building")
			if err != nil {
				s.fail(w, r, err)
				return
			}
			sites, err := s.Store.PlaceSites(r.Context(), commID)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			for _, st := range sites {
				children, err := s.Store.PlaceChildren(r.Context(), st.ID)
				if err != nil {
					s.fail(w, r, err)
					return
				}
				sv := site{Place: st}
				for _, b := range children {
					if n.Level == store.LevelGrid && b.GridID != n.ID {
						continue
					}
					sv.Buildings = append(sv.Buildings, building{Place: b, Coverage: cov[b.ID]})
				}
				c.Sites = append(c.Sites, sv)
			}
			comms = append(comms, c)
		}
	}
	s.render(w, r, "ledger_home", map[string]any{"Communities": comms})
}

// loadPlace loads the place in the path and checks the principal may do a
// there.
func (s *Server) loadPlace(w http.ResponseWriter, r *http.Request, a access.Action) (store.Place, string, bool) {
	p, path, err := s.Store.Place(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return p, path, false
	}
	if !reqOf(r).p.Can(a, path) {
		s.deny(w, r, string(a), "place", p.ID, lastNode(path))
		return p, path, false
	}
	return p, path, true
}

// building shows the building table (楼盘表) of a building or house.
func (s *Server) building(w http.ResponseWriter, r *http.Request) {
	b, _, ok := s.loadPlace(w, r, access.PersonView)
	if !ok {
		return
	}
	if b.Kind != store.PlaceBuilding && b.Kind != store.PlaceHouse {
		http.Redirect(w, r, "/ledger/rooms/"+b.ID, http.StatusSeeOther)
		return
	}
	t, err := s.Ledger.BuildingTable(r.Context(), b)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	trail, err := s.Store.PlaceAncestors(r.Context(), b)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "building", map[string]any{"Table": t, "Trail": trail, "Statuses": ledger.Statuses,
		"CanExport": reqOf(r).p.CanAnywhere(access.DataExport)})
}

func lastNode(path string) string {
	if len(path) < 2 {
		return ""
	}
	p := path[:len(path)-1]
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			return p[i+1:]
		}
	}
	return p
}
