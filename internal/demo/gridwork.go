package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"shequ/internal/gridwork"
	"shequ/internal/ids"
	"shequ/internal/store"
)

// buildGridWork gives both communities their chiefs, grid leaders,
// checklists and patrol points with some history, a month of household
// visits, and, in the village, an open investigation campaign half done.
func buildGridWork(ctx context.Context, env Env, rng *rand.Rand, res *Result) error {
	now := env.Store.Now()
	return env.Store.Write(ctx, func(tx *store.Tx) error {
		for ci, comm := range res.Communities {
			var grids []store.OrgNode
			for _, g := range res.Grids {
				if g.ParentID == comm.ID {
					grids = append(grids, g)
				}
			}
			var gridIDs []string
			workers := map[string]string{}
			for _, g := range grids {
				gridIDs = append(gridIDs, g.ID)
				ws, err := env.Store.GridWorkers(ctx, g.ID)
				if err != nil || len(ws) == 0 {
					return fmt.Errorf("grid %s has no worker: %v", g.Name, err)
				}
				workers[g.ID] = ws[0]
				if err := tx.SetGridLeader(ctx, g.ID, ws[0]); err != nil {
					return err
				}
			}
			members, err := env.Store.GridMembers(ctx, gridIDs, env.Store.Today())
			if err != nil {
				return err
			}
			// Chiefs: most buildings and units have one, a few do not yet.
			places, err := env.Store.CommunityBuildings(ctx, comm.ID)
			if err != nil {
				return err
			}
			for i, def := range gridwork.DefaultChiefRoles {
				role := def
				role.CommunityID, role.Seq = comm.ID, i
				if err := tx.CreateChiefRole(ctx, &role); err != nil {
					return err
				}
				appoint := func(c store.Chief) error {
					if rng.IntN(10) < 2 || len(members) == 0 {
						return nil // still to be found: the staffing page lists it
					}
					c.RoleID, c.PersonID = role.ID, members[rng.IntN(len(members))].PersonID
					return tx.SetChief(ctx, &c)
				}
				for _, pl := range places {
					if (role.Level == "unit") == (pl.Kind == store.PlaceUnit) && role.Level != "grid" {
						if err := appoint(store.Chief{PlaceID: pl.ID}); err != nil {
							return err
						}
					}
				}
				if role.Level == "grid" {
					for _, g := range grids {
						if err := appoint(store.Chief{GridID: g.ID}); err != nil {
							return err
						}
					}
				}
			}
			patrol := store.Checklist{CommunityID: comm.ID, Name: "防控措施巡查", Items: []string{"工作人员佩戴口罩", "进出人员扫码登记", "按时消毒并有记录", "消防通道畅通", "灭火器在有效期内"}}
			check := store.Checklist{CommunityID: comm.ID, Name: "网格块排查", Items: []string{"核对在住人员", "询问近14天行程", "查看健康码", "登记疫苗接种情况"}}
			for _, c := range []*store.Checklist{&patrol, &check} {
				if err := tx.CreateChecklist(ctx, c); err != nil {
					return err
				}
			}
			kinds := []struct{ kind, name string }{{"entrance", "%s北门"}, {"shop", "%s便民超市"}, {"rental", "%s出租屋集中点"}, {"key_place", "%s农贸市场"}}
			for gi, g := range grids {
				for k := 0; k < 2; k++ {
					kd := kinds[(gi+k)%len(kinds)]
					pt := store.PatrolPoint{CommunityID: comm.ID, GridID: g.ID, Name: fmt.Sprintf(kd.name, g.Name), Kind: kd.kind,
						ChecklistID: patrol.ID, Token: lower(ids.New())}
					if err := tx.CreatePatrolPoint(ctx, &pt); err != nil {
						return err
					}
					for d := 1; d <= 3; d++ {
						p := store.Patrol{PointID: pt.ID, UserID: workers[g.ID], ClientID: ids.New(), At: now.AddDate(0, 0, -d*3).Add(-time.Duration(rng.IntN(8)) * time.Hour),
							ReceivedAt: now, Answers: "{}", Status: "ok"}
						if d == 1 && gi%3 == 0 && k == 0 {
							p.Status, p.Problem = "problem", "消毒记录缺两天，已提醒店主补做"
						}
						if _, err := tx.InsertPatrol(ctx, &p); err != nil {
							return err
						}
					}
				}
			}
			// A month of visits: about a third of the rooms.
			rooms, err := env.Store.GridRooms(ctx, gridIDs)
			if err != nil {
				return err
			}
			notes := []string{"家中一切正常", "老人独居，需定期回访", "新租户已登记", "反映楼道灯坏了", "已提醒按时接种加强针"}
			needs := []string{"", "", "", "medicine", "elderly_care"}
			for _, r := range rooms {
				if rng.IntN(3) != 0 {
					continue
				}
				i := rng.IntN(len(notes))
				v := store.Visit{RoomID: r.ID, GridID: r.GridID, UserID: workers[r.GridID], ClientID: ids.New(),
					At: now.AddDate(0, 0, -1-rng.IntN(30)), ReceivedAt: now, Met: "户主", Notes: notes[i], Needs: needs[i]}
				if _, err := tx.InsertVisit(ctx, &v); err != nil {
					return err
				}
				if err := tx.TouchVisit(ctx, r.ID, v.At); err != nil {
					return err
				}
			}
			if ci != 1 || len(grids) < 2 {
				continue
			}
			// The village's open campaign over its first two grids, half done.
			camp := store.Campaign{CommunityID: comm.ID, Name: "第一、二网格网格块排查", ChecklistID: check.ID,
				Deadline: now.AddDate(0, 0, 3).In(time.FixedZone("CST", 8*3600)).Format("2006-01-02")}
			if _, err := tx.CreateCampaign(ctx, &camp, gridIDs[:2]); err != nil {
				return err
			}
			for _, r := range rooms {
				if (r.GridID != gridIDs[0] && r.GridID != gridIDs[1]) || rng.IntN(2) == 0 {
					continue
				}
				v := store.Visit{RoomID: r.ID, GridID: r.GridID, UserID: workers[r.GridID], ClientID: ids.New(), At: now.Add(-time.Duration(1+rng.IntN(40)) * time.Hour),
					ReceivedAt: now, Met: "户主", Notes: "排查完成，无异常", Answers: `{"核对在住人员":"ok","询问近14天行程":"ok","查看健康码":"ok","登记疫苗接种情况":"ok"}`}
				if _, err := tx.InsertVisit(ctx, &v); err != nil {
					return err
				}
				if err := tx.TouchVisit(ctx, r.ID, v.At); err != nil {
					return err
				}
				if _, err := tx.CompleteTasks(ctx, r.ID, v.ID, v.UserID, v.At); err != nil {
					return err
				}
			}
		}
		return nil
	})
}
