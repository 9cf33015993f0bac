package demo

import (
	"context"
	"math/rand/v2"
	"time"

	"shequ/internal/assess"
	"shequ/internal/ids"
	"shequ/internal/store"
)

// historyMonths is how many months before the current one the demo's
// grid workers have visits and patrols in, so the trend charts have lines.
const historyMonths = 5

// buildAssessHistory gives each grid five earlier months of household
// visits and patrol check-ins, each grid with its own habits (some visit
// most households, some few; some patrol every week, some skip), and the
// grid worker of the compound's first grid an explanation of last month.
func buildAssessHistory(ctx context.Context, env Env, rng *rand.Rand, res *Result) error {
	now := env.Store.Now()
	this := assess.MonthOf(now)
	start, _ := this.Bounds()
	return env.Store.Write(ctx, func(tx *store.Tx) error {
		for _, comm := range res.Communities {
			var gridIDs []string
			for _, g := range res.Grids {
				if g.ParentID == comm.ID {
					gridIDs = append(gridIDs, g.ID)
				}
			}
			rooms, err := env.Store.GridRooms(ctx, gridIDs)
			if err != nil {
				return err
			}
			points, err := env.Store.PatrolPoints(ctx, []string{comm.ID}, nil)
			if err != nil {
				return err
			}
			workers := map[string]string{}
			habit := map[string][2]int{} // grid → percent of rooms visited a month, percent of weekly check-ins done
			for _, g := range gridIDs {
				ws, err := env.Store.GridWorkers(ctx, g)
				if err != nil || len(ws) == 0 {
					return err
				}
				workers[g] = ws[0]
				// They have covered their grids since long before shequ.
				if err := tx.EarlierCoverage(ctx, ws[0], g, time.UnixMilli(start).AddDate(-2, 0, 0).UnixMilli()); err != nil {
					return err
				}
				habit[g] = [2]int{35 + rng.IntN(50), 50 + rng.IntN(50)}
			}
			for m := 1; m <= historyMonths; m++ {
				month := assess.MonthOf(time.UnixMilli(start).AddDate(0, -m, 0))
				from, to := month.Bounds()
				span := to - from
				for _, r := range rooms {
					if r.People == 0 || rng.IntN(100) >= habit[r.GridID][0]+rng.IntN(21)-10 {
						continue
					}
					v := store.Visit{RoomID: r.ID, GridID: r.GridID, UserID: workers[r.GridID], ClientID: ids.New(),
						At: time.UnixMilli(from + rng.Int64N(span)), ReceivedAt: now, Met: "户主", Notes: "家中一切正常"}
					if _, err := tx.InsertVisit(ctx, &v); err != nil {
						return err
					}
				}
				for _, pt := range points {
					for w := range month.Weeks() {
						if rng.IntN(100) >= habit[pt.GridID][1] {
							continue
						}
						at := min(from+int64(w)*7*24*3600*1000+rng.Int64N(6*24*3600*1000), to-1)
						p := store.Patrol{PointID: pt.ID, UserID: workers[pt.GridID], ClientID: ids.New(), At: time.UnixMilli(at), ReceivedAt: now, Answers: "{}", Status: "ok"}
						if _, err := tx.InsertPatrol(ctx, &p); err != nil {
							return err
						}
					}
				}
			}
		}
		// One explanation to read on the assessment pages.
		first := res.Grids[0]
		ws, err := env.Store.GridWorkers(ctx, first.ID)
		if err != nil || len(ws) == 0 {
			return err
		}
		last := assess.MonthOf(time.UnixMilli(start).AddDate(0, -1, 0))
		return tx.AddAssessNote(ctx, &store.AssessNote{CommunityID: first.ParentID, UserID: ws[0], Period: last.Key(), Kind: "explanation",
			Body: "月中参加区里的网格员培训三天，走访顺延到下旬完成。", Status: "noted"})
	})
}
