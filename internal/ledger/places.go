package ledger

import (
	"context"
	"fmt"
	"strings"

	"shequ/internal/errs"
	"shequ/internal/store"
)

// BuildingInput describes a building (or self-built house) to lay out:
// units × floors × rooms a floor, numbered 101, 102 … 3306.
type BuildingInput struct {
	SiteID       string
	GridID       string
	Name         string
	Units        int // 0 for a house without units
	Floors       int
	RoomsPerUnit int // rooms a floor in each unit
}

// AddBuilding creates a building with all its units and rooms.
func (s *Service) AddBuilding(ctx context.Context, a Actor, in BuildingInput) (store.Place, error) {
	site, err := s.mayEditPlace(ctx, a, in.SiteID)
	if err != nil {
		return site, err
	}
	in.Name = strings.TrimSpace(in.Name)
	switch {
	case site.Kind != store.PlaceCompound && site.Kind != store.PlaceVillage:
		return site, errs.E(errs.Invalid, "err.place.site")
	case in.Name == "":
		return site, errs.E(errs.Invalid, "err.org_name_required").OnField("name")
	case in.Floors < 1 || in.Floors > 120:
		return site, errs.E(errs.Invalid, "err.place.floors").OnField("floors")
	case in.Units < 0 || in.Units > 20:
		return site, errs.E(errs.Invalid, "err.place.units").OnField("units")
	case in.RoomsPerUnit < 1 || in.RoomsPerUnit > 30:
		return site, errs.E(errs.Invalid, "err.place.rooms").OnField("rooms")
	}
	if in.GridID != "" {
		g, err := s.Store.OrgNode(ctx, in.GridID)
		if err != nil || g.ParentID != site.CommunityID {
			return site, errs.E(errs.Invalid, "err.place.grid").OnField("grid")
		}
	}
	kind := store.PlaceBuilding
	if in.Units == 0 {
		kind = store.PlaceHouse
	}
	b := store.Place{CommunityID: site.CommunityID, GridID: in.GridID, ParentID: site.ID, Kind: kind, Name: in.Name,
		Address: site.Address + in.Name, Floors: in.Floors}
	err = s.Store.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.FindPlace(ctx, site.CommunityID, site.ID, kind, in.Name); err == nil {
			return errs.E(errs.Conflict, "err.place.exists", in.Name).OnField("name")
		}
		if err := tx.CreatePlace(ctx, &b); err != nil {
			return err
		}
		parents := []store.Place{b}
		if in.Units > 0 {
			parents = parents[:0]
			for u := 1; u <= in.Units; u++ {
				unit := store.Place{CommunityID: b.CommunityID, GridID: b.GridID, ParentID: b.ID, Kind: store.PlaceUnit,
					Name: fmt.Sprintf("%d单元", u), Address: fmt.Sprintf("%s%d单元", b.Address, u), Seq: u}
				if err := tx.CreatePlace(ctx, &unit); err != nil {
					return err
				}
				parents = append(parents, unit)
			}
		}
		for _, p := range parents {
			for f := 1; f <= in.Floors; f++ {
				for r := 1; r <= in.RoomsPerUnit; r++ {
					name := fmt.Sprintf("%d%02d", f, r)
					room := store.Place{CommunityID: b.CommunityID, GridID: b.GridID, ParentID: p.ID, Kind: store.PlaceRoom, Name: name,
						Address: p.Address + name + "室", Floor: f, Seq: r}
					if err := tx.CreatePlace(ctx, &room); err != nil {
						return err
					}
				}
			}
		}
		return tx.LogChange(ctx, &store.Change{EntityType: "room", EntityID: b.ID, ActorID: a.id(), ActorName: a.name(), Source: a.source(),
			Action: "create", Changes: jsonOf(map[string]any{"room": b.Address, "floors": in.Floors, "units": in.Units, "rooms": in.RoomsPerUnit})})
	})
	return b, err
}

// AddOwner records the owner of a room by identity number: a person
// already in the ledger, or a new record (owners need not live there).
func (s *Service) AddOwner(ctx context.Context, a Actor, roomID string, in PersonInput) (store.Person, error) {
	room, err := s.mayEditPlace(ctx, a, roomID)
	if err != nil {
		return store.Person{}, err
	}
	if room.Kind != store.PlaceRoom {
		return store.Person{}, errs.E(errs.Invalid, "err.place.not_room")
	}
	if in.Residency == "" {
		in.Residency = "registered"
	}
	p, err := s.Normalize(in, s.Store.Now())
	if err != nil {
		return p, err
	}
	existing, err := s.Store.PersonsByIDBidx(ctx, p.IDBidx)
	if err != nil {
		return p, err
	}
	err = s.Store.Write(ctx, func(tx *store.Tx) error {
		if len(existing) > 0 {
			p = existing[0]
		} else if err := tx.CreatePerson(ctx, &p); err != nil {
			return err
		}
		if err := tx.AddOwner(ctx, roomID, p.ID, s.Store.Today()); err != nil {
			return err
		}
		return tx.LogChange(ctx, &store.Change{EntityType: "room", EntityID: roomID, PersonID: p.ID, ActorID: a.id(), ActorName: a.name(),
			Source: a.source(), Action: "owner", Changes: jsonOf(map[string]any{"room": room.Address})})
	})
	return p, err
}
