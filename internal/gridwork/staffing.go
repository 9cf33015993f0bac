package gridwork

import (
	"context"
	"encoding/json"
	"slices"

	"shequ/internal/access"
	"shequ/internal/errs"
	"shequ/internal/store"
)

// ChiefLevels are where chiefs serve.
var ChiefLevels = []string{"building", "unit", "grid"}

// DefaultChiefRoles are offered to a community that has none yet.
var DefaultChiefRoles = []store.ChiefRole{{Name: "楼栋长", Level: "building"}, {Name: "单元长", Level: "unit"}, {Name: "党员中心户长", Level: "grid"}}

// Staffing is who serves a community's grids and buildings, and where
// nobody does.
type Staffing struct {
	Community store.OrgNode
	Grids     []store.GridStaff
	Roles     []store.ChiefRole
	Chiefs    []store.Chief
	Missing   []MissingChief
	Places    []store.Place // buildings, houses and units, for appointing
}

// MissingChief is a building, unit or grid without a chief of a role.
type MissingChief struct {
	Role, Where string
}

// Unstaffed counts the grids without a grid worker.
func (s Staffing) Unstaffed() int {
	n := 0
	for _, g := range s.Grids {
		if g.Workers == "" {
			n++
		}
	}
	return n
}

// Staffing reports on a community's grids and chiefs.
func (s *Service) Staffing(ctx context.Context, p *access.Principal, communityID string) (Staffing, error) {
	var st Staffing
	comm, err := s.Store.OrgNode(ctx, communityID)
	if err != nil || comm.Level != store.LevelCommunity {
		return st, errs.E(errs.NotFound, "err.not_found")
	}
	if !p.Can(access.OrgView, comm.Path) {
		return st, errs.E(errs.Forbidden, "err.forbidden")
	}
	st.Community = comm
	if st.Grids, err = s.Store.GridStaffing(ctx, comm.Path); err != nil {
		return st, err
	}
	if st.Roles, err = s.Store.ChiefRoles(ctx, comm.ID); err != nil {
		return st, err
	}
	if st.Chiefs, err = s.Store.Chiefs(ctx, comm.ID); err != nil {
		return st, err
	}
	if st.Places, err = s.Store.CommunityBuildings(ctx, comm.ID); err != nil {
		return st, err
	}
	served := map[string]bool{}
	for _, c := range st.Chiefs {
		served[c.RoleID+"|"+c.PlaceID+"|"+c.GridID] = true
	}
	for _, r := range st.Roles {
		switch r.Level {
		case "grid":
			for _, g := range st.Grids {
				if !served[r.ID+"||"+g.GridID] {
					st.Missing = append(st.Missing, MissingChief{Role: r.Name, Where: g.GridName})
				}
			}
		default:
			for _, pl := range st.Places {
				isUnit := pl.Kind == store.PlaceUnit
				if (r.Level == "unit") != isUnit {
					continue
				}
				if !served[r.ID+"|"+pl.ID+"|"] {
					st.Missing = append(st.Missing, MissingChief{Role: r.Name, Where: pl.Address})
				}
			}
		}
	}
	return st, nil
}

// AddChiefRole adds a role to a community's set.
func (s *Service) AddChiefRole(ctx context.Context, p *access.Principal, communityID, name, level string) error {
	comm, err := s.community(ctx, p, communityID)
	if err != nil {
		return err
	}
	r := store.ChiefRole{CommunityID: comm.ID, Name: trimmed(name, 30), Level: level}
	switch {
	case r.Name == "":
		return errs.E(errs.Invalid, "err.org_name_required").OnField("name")
	case !slices.Contains(ChiefLevels, level):
		return errs.E(errs.Invalid, "err.grid.level").OnField("level")
	}
	roles, err := s.Store.ChiefRoles(ctx, comm.ID)
	if err != nil {
		return err
	}
	r.Seq = len(roles)
	return s.Store.Write(ctx, func(tx *store.Tx) error { return tx.CreateChiefRole(ctx, &r) })
}

// AppointChief makes a person (who lives in the community) the chief of a
// role for a building, unit or grid (where: a place or grid id).
func (s *Service) AppointChief(ctx context.Context, p *access.Principal, communityID, roleID, where, personID string) error {
	comm, err := s.community(ctx, p, communityID)
	if err != nil {
		return err
	}
	roles, err := s.Store.ChiefRoles(ctx, comm.ID)
	if err != nil {
		return err
	}
	var role *store.ChiefRole
	for i := range roles {
		if roles[i].ID == roleID {
			role = &roles[i]
		}
	}
	if role == nil {
		return errs.E(errs.Invalid, "err.grid.role").OnField("role")
	}
	c := store.Chief{RoleID: role.ID, PersonID: personID}
	if role.Level == "grid" {
		g, err := s.Store.OrgNode(ctx, where)
		if err != nil || g.ParentID != comm.ID || g.Level != store.LevelGrid {
			return errs.E(errs.Invalid, "err.patrol.grid").OnField("where")
		}
		c.GridID = g.ID
	} else {
		pl, _, err := s.Store.Place(ctx, where)
		if err != nil || pl.CommunityID != comm.ID || (role.Level == "unit") != (pl.Kind == store.PlaceUnit) || pl.Kind == store.PlaceRoom {
			return errs.E(errs.Invalid, "err.grid.place").OnField("where")
		}
		c.PlaceID = pl.ID
	}
	if _, err := s.Store.Person(ctx, personID); err != nil {
		return errs.E(errs.Invalid, "err.gate.list_person").OnField("person")
	}
	return s.Store.Write(ctx, func(tx *store.Tx) error { return tx.SetChief(ctx, &c) })
}

// SetLeader makes one of a grid's workers its leader.
func (s *Service) SetLeader(ctx context.Context, p *access.Principal, communityID, gridID, userID string) error {
	comm, err := s.community(ctx, p, communityID)
	if err != nil {
		return err
	}
	g, err := s.Store.OrgNode(ctx, gridID)
	if err != nil || g.ParentID != comm.ID || g.Level != store.LevelGrid {
		return errs.E(errs.Invalid, "err.patrol.grid").OnField("grid")
	}
	workers, err := s.Store.GridWorkers(ctx, g.ID)
	if err != nil {
		return err
	}
	if !slices.Contains(workers, userID) {
		return errs.E(errs.Invalid, "err.grid.leader").OnField("user")
	}
	return s.Store.Write(ctx, func(tx *store.Tx) error { return tx.SetGridLeader(ctx, g.ID, userID) })
}

// MoveBuilding redraws the grids: a building or house of the community,
// with its rooms, goes to another of its grids.
func (s *Service) MoveBuilding(ctx context.Context, p *access.Principal, communityID, placeID, gridID string) error {
	comm, err := s.community(ctx, p, communityID)
	if err != nil {
		return err
	}
	pl, _, err := s.Store.Place(ctx, placeID)
	if err != nil || pl.CommunityID != comm.ID || (pl.Kind != store.PlaceBuilding && pl.Kind != store.PlaceHouse) {
		return errs.E(errs.Invalid, "err.grid.place").OnField("building")
	}
	g, err := s.Store.OrgNode(ctx, gridID)
	if err != nil || g.ParentID != comm.ID || g.Level != store.LevelGrid {
		return errs.E(errs.Invalid, "err.patrol.grid").OnField("grid")
	}
	old := ""
	if prev, err := s.Store.OrgNode(ctx, pl.GridID); err == nil {
		old = prev.Name
	}
	changes, _ := json.Marshal(map[string][2]string{"grid": {old, g.Name}})
	return s.Store.Write(ctx, func(tx *store.Tx) error {
		if err := tx.MoveToGrid(ctx, pl.ID, g.ID); err != nil {
			return err
		}
		return tx.LogChange(ctx, &store.Change{EntityType: "place", EntityID: pl.ID, ActorID: p.UserID, ActorName: p.Name, Source: store.SourceUI,
			Action: "grid_move", Changes: string(changes)})
	})
}
