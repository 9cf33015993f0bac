package siteplan

import (
	"context"
	"io"
	"math"

	"shequ/internal/audit"
	"shequ/internal/errs"
	"shequ/internal/store"
)

// Actor is who changes a plan, for the audit log. A nil Log (the demo)
// writes no audit entry.
type Actor struct {
	UserID, Name, IP string
	Log              *audit.Log
}

func (a Actor) record(ctx context.Context, tx *store.Tx, action, communityID, targetType, targetID string, detail ...any) error {
	if a.Log == nil {
		return nil
	}
	return a.Log.Append(ctx, tx, &store.AuditEntry{ActorID: a.UserID, ActorName: a.Name, Action: action, TargetType: targetType,
		TargetID: targetID, NodeID: communityID, IP: a.IP, Detail: audit.Detail(detail...)})
}

// LoadNames reads what a community's features may be named by.
func LoadNames(ctx context.Context, st *store.Store, communityID string) (Names, error) {
	n := Names{CommunityID: communityID}
	var err error
	if n.Buildings, err = st.PlanBuildings(ctx, communityID); err != nil {
		return n, err
	}
	if n.Sites, err = st.PlaceSites(ctx, communityID); err != nil {
		return n, err
	}
	if n.Gates, err = st.SitePlanGates(ctx, communityID); err != nil {
		return n, err
	}
	if n.Grids, err = st.SitePlanGrids(ctx, communityID); err != nil {
		return n, err
	}
	return n, nil
}

// Summary counts what an import wrote.
type Summary struct {
	Footprints, Gates, Grids, Shapes int
}

// Import reads a GeoJSON file and writes it to the community's plan in one
// transaction: with replace, the file becomes the whole plan; without, its
// buildings, gates and grids replace theirs and the rest stays (shapes are
// replaced when the file has any). A bad file writes nothing.
func Import(ctx context.Context, st *store.Store, actor Actor, communityID string, r io.Reader, replace bool) (Summary, error) {
	names, err := LoadNames(ctx, st, communityID)
	if err != nil {
		return Summary{}, err
	}
	d, err := ParseGeoJSON(r, names)
	if err != nil {
		return Summary{}, err
	}
	return Apply(ctx, st, actor, communityID, d, replace)
}

// Apply writes a checked draft in one transaction with its audit entry.
func Apply(ctx context.Context, st *store.Store, actor Actor, communityID string, d Draft, replace bool) (Summary, error) {
	sum := Summary{Footprints: len(d.Footprints), Gates: len(d.Gates), Grids: len(d.Grids), Shapes: len(d.Shapes)}
	err := st.Write(ctx, func(tx *store.Tx) error {
		if replace {
			if err := tx.ClearSitePlan(ctx, communityID); err != nil {
				return err
			}
		}
		for _, f := range d.Footprints {
			f.CommunityID = communityID
			if err := tx.SaveFootprint(ctx, f, actor.UserID); err != nil {
				return err
			}
		}
		for _, g := range d.Gates {
			if err := tx.SaveGatePosition(ctx, communityID, g.GateID, g.X, g.Y, actor.UserID); err != nil {
				return err
			}
		}
		for _, g := range d.Grids {
			g.CommunityID = communityID
			if err := tx.SaveGridBoundary(ctx, g, actor.UserID); err != nil {
				return err
			}
		}
		if replace || len(d.Shapes) > 0 {
			if err := tx.ReplacePlanShapes(ctx, communityID, d.Shapes); err != nil {
				return err
			}
		}
		if _, err := tx.RefreshPlanExtent(ctx, communityID); err != nil {
			return err
		}
		return actor.record(ctx, tx, "siteplan.import", communityID, "org_node", communityID, "replace", replace,
			"footprints", sum.Footprints, "gates", sum.Gates, "grids", sum.Grids, "shapes", sum.Shapes)
	})
	return sum, err
}

// SaveFootprint draws (or redraws) one building's footprint from corners
// in local metres; the building must be of the community.
func SaveFootprint(ctx context.Context, st *store.Store, actor Actor, communityID, placeID string, corners Ring) error {
	b, _, err := st.Place(ctx, placeID)
	if err != nil || b.CommunityID != communityID || (b.Kind != store.PlaceBuilding && b.Kind != store.PlaceHouse) {
		return errs.E(errs.Invalid, "err.siteplan.pick_building").OnField("place")
	}
	r, err := CheckRing(corners)
	if err != nil {
		return err
	}
	l := r.labelAt(r.LabelPoint())
	return st.Write(ctx, func(tx *store.Tx) error {
		if err := tx.SaveFootprint(ctx, store.Footprint{PlaceID: b.ID, CommunityID: communityID, Polygon: encodeRing(r),
			LabelX: l.X, LabelY: l.Y, Box: r.Box()}, actor.UserID); err != nil {
			return err
		}
		if _, err := tx.RefreshPlanExtent(ctx, communityID); err != nil {
			return err
		}
		return actor.record(ctx, tx, "siteplan.draw", communityID, "place", b.ID, "corners", len(r))
	})
}

// RemoveFootprint takes a building off the plan.
func RemoveFootprint(ctx context.Context, st *store.Store, actor Actor, communityID, placeID string) error {
	return st.Write(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteFootprint(ctx, communityID, placeID); err != nil {
			return err
		}
		if _, err := tx.RefreshPlanExtent(ctx, communityID); err != nil {
			return err
		}
		return actor.record(ctx, tx, "siteplan.remove", communityID, "place", placeID)
	})
}

// PlaceGate puts (or moves) a gate of the community on the plan.
func PlaceGate(ctx context.Context, st *store.Store, actor Actor, communityID, gateID string, x, y float64) error {
	g, err := st.Gate(ctx, gateID)
	if err != nil || g.CommunityID != communityID {
		return errs.E(errs.Invalid, "err.siteplan.pick_gate").OnField("gate")
	}
	if math.IsNaN(x) || math.IsNaN(y) || math.Abs(x) > MaxCoord || math.Abs(y) > MaxCoord {
		return errs.E(errs.Invalid, "err.siteplan.position").OnField("x")
	}
	return st.Write(ctx, func(tx *store.Tx) error {
		if err := tx.SaveGatePosition(ctx, communityID, g.ID, round2(x), round2(y), actor.UserID); err != nil {
			return err
		}
		if _, err := tx.RefreshPlanExtent(ctx, communityID); err != nil {
			return err
		}
		return actor.record(ctx, tx, "siteplan.gate", communityID, "gate", g.ID, "x", round2(x), "y", round2(y))
	})
}
