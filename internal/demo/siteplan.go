package demo

import (
	"context"
	"fmt"

	"shequ/internal/siteplan"
	"shequ/internal/store"
)

// buildSitePlan draws each community's site plan (the digital twin): the
// compound's blocks of slabs and the village's houses along lanes, gates at
// the entrances their codes name, grid boundaries round their buildings.
// The village's demo events name their house only in the address; they
// are linked to it here, so the plan can count open events per house.
func buildSitePlan(ctx context.Context, env Env, res *Result) error {
	for i, comm := range res.Communities {
		sites, err := env.Store.PlaceSites(ctx, comm.ID)
		if err != nil {
			return err
		}
		buildings, err := env.Store.PlanBuildings(ctx, comm.ID)
		if err != nil {
			return err
		}
		in := siteplan.GenInput{CommunityID: comm.ID, Seed: uint64(1000 + i)}
		for _, s := range sites {
			gs := siteplan.GenSite{Kind: s.Kind}
			for _, b := range buildings {
				if b.ParentID == s.ID {
					gs.Buildings = append(gs.Buildings, b)
				}
			}
			in.Sites = append(in.Sites, gs)
		}
		if in.Gates, err = env.Store.SitePlanGates(ctx, comm.ID); err != nil {
			return err
		}
		if in.Grids, err = env.Store.SitePlanGrids(ctx, comm.ID); err != nil {
			return err
		}
		if _, err := siteplan.Apply(ctx, env.Store, siteplan.Actor{Name: "demo"}, comm.ID, siteplan.Generate(in), true); err != nil {
			return fmt.Errorf("%s: %w", comm.Name, err)
		}
		if err := env.Store.Write(ctx, func(tx *store.Tx) error {
			_, err := tx.LinkEventsByAddress(ctx, comm.ID)
			return err
		}); err != nil {
			return err
		}
	}
	return nil
}
