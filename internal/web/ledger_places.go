package web

import (
	"net/http"

	"shequ/internal/errs"

	"shequ/internal/access"
	"shequ/internal/ledger"
	"shequ/internal/store"
)

// ledgerHome lists, per community in scope, its compounds and villages
// with their buildings or houses grouped by grid, each with its survey
// coverage.
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
	type gridGroup struct {
		Grid      store.OrgNode // zero: buildings not yet in a grid
		Coverage  store.Coverage
		Buildings []building
	}
	type site struct {
		Place   store.Place
		Grids   []*gridGroup
		AllGrid []store.OrgNode
		CanEdit bool
	}
	type community struct {
		Node     store.OrgNode
		Coverage store.Coverage
		Pop      store.Population
		Sites    []site
	}
	ctx := r.Context()
	var comms []community
	for _, sc := range scopes {
		nodes, err := s.Store.OrgSubtree(ctx, sc)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, n := range nodes {
			// A grid worker's scope is a grid: show their grid only.
			if n.Level != store.LevelCommunity && !(n.Level == store.LevelGrid && n.Path == sc) {
				continue
			}
			commID := n.ID
			if n.Level == store.LevelGrid {
				commID = n.ParentID
			}
			c := community{Node: n}
			if c.Coverage, err = s.Store.CoverageBelow(ctx, n.Path); err != nil {
				s.fail(w, r, err)
				return
			}
			if c.Pop, err = s.Store.CountPopulation(ctx, n.Path); err != nil {
				s.fail(w, r, err)
				return
			}
			cov, err := s.Store.CoverageBy(ctx, commID, "building")
			if err != nil {
				s.fail(w, r, err)
				return
			}
			grids, err := s.Store.OrgChildren(ctx, commID)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			sites, err := s.Store.PlaceSites(ctx, commID)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			for _, st := range sites {
				children, err := s.Store.PlaceChildren(ctx, st.ID)
				if err != nil {
					s.fail(w, r, err)
					return
				}
				groups := map[string]*gridGroup{}
				sv := site{Place: st, AllGrid: grids, CanEdit: rq.p.Can(access.PersonEdit, n.Path) && n.Level == store.LevelCommunity}
				for _, g := range append(grids, store.OrgNode{}) {
					if n.Level == store.LevelGrid && g.ID != n.ID {
						continue
					}
					gg := &gridGroup{Grid: g}
					groups[g.ID] = gg
					sv.Grids = append(sv.Grids, gg)
				}
				for _, b := range children {
					gg := groups[b.GridID]
					if gg == nil {
						continue
					}
					bc := cov[b.ID]
					gg.Buildings = append(gg.Buildings, building{Place: b, Coverage: bc})
					gg.Coverage.Rooms += bc.Rooms
					gg.Coverage.Surveyed += bc.Surveyed
					gg.Coverage.Flagged += bc.Flagged
				}
				kept := sv.Grids[:0]
				for _, gg := range sv.Grids {
					if len(gg.Buildings) > 0 {
						kept = append(kept, gg)
					}
				}
				sv.Grids = kept
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

// buildingCreate lays out a new building or house under a site.
func (s *Server) buildingCreate(w http.ResponseWriter, r *http.Request) {
	n := func(k string) int { return atoiDefault(r.PostFormValue(k), -1) }
	b, err := s.Ledger.AddBuilding(r.Context(), s.actor(r), ledger.BuildingInput{SiteID: r.PathValue("id"), GridID: r.PostFormValue("grid"),
		Name: r.PostFormValue("name"), Units: n("units"), Floors: n("floors"), RoomsPerUnit: n("rooms")})
	if err != nil {
		if errs.CodeOf(err) == errs.Forbidden {
			s.deny(w, r, "person.edit", "place", r.PathValue("id"), "")
			return
		}
		if statusOf(err) >= 500 || errs.CodeOf(err) == errs.NotFound {
			s.fail(w, r, err)
			return
		}
		w.WriteHeader(statusOf(err))
		s.render(w, r, "error", map[string]any{"Status": statusOf(err), "Message": message(reqOf(r), err)})
		return
	}
	http.Redirect(w, r, "/ledger/buildings/"+b.ID, http.StatusSeeOther)
}

// roomOwner records a room's owner.
func (s *Server) roomOwner(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	if _, err := s.Ledger.AddOwner(r.Context(), s.actor(r), r.PathValue("id"), personInput(r.PostForm)); err != nil {
		s.ledgerFormError(w, r, err, func(err error) { s.renderRoom(w, r, err, r.PostForm) })
		return
	}
	http.Redirect(w, r, "/ledger/rooms/"+r.PathValue("id"), http.StatusSeeOther)
}
