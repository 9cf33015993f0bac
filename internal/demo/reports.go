package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"shequ/internal/leads"
	ledgersvc "shequ/internal/ledger"
	"shequ/internal/synth"
)

// buildSelfReports gives both communities self-report codes (the whole
// community, an entrance, a shop, a grid's chat group) and the village a
// few dozen reports through them, from returnees new to the ledger and
// from residents coming home.
func buildSelfReports(ctx context.Context, env Env, rng *rand.Rand, res *Result) error {
	svc := &leads.Service{Store: env.Store, Keys: env.Keys, Ledger: &ledgersvc.Service{Store: env.Store, Keys: env.Keys}, PerAddress: 1 << 20, PerPhone: 1 << 20}
	for ci, comm := range res.Communities {
		var tokens []string
		for _, c := range []struct{ place, kind string }{{comm.Name + "居民", "community"}, {"南门岗亭", "gate"}, {"便民超市", "shop"}, {"第一网格居民群", "group"}} {
			_, tok, err := svc.CreateCode(ctx, nil, comm.ID, c.place, c.kind)
			if err != nil {
				return err
			}
			tokens = append(tokens, tok)
		}
		if ci == 0 {
			res.SelfReportToken = tokens[0]
		}
		if ci != 1 {
			continue
		}
		grids := []string{}
		for _, g := range res.Grids {
			if g.ParentID == comm.ID {
				grids = append(grids, g.ID)
			}
		}
		rooms, err := env.Store.GridRooms(ctx, grids)
		if err != nil || len(rooms) == 0 {
			return fmt.Errorf("village rooms: %v", err)
		}
		from := []string{"西安市雁塔区", "宝鸡市渭滨区", "郑州市金水区", "兰州市城关区", "北京市朝阳区", "成都市武侯区"}
		for i := 0; i < 36; i++ {
			sp := synth.NewPerson(rng, synth.Profile{MinAge: 18, MaxAge: 70})
			in := leads.ReportInput{Name: sp.Name, IDNumber: sp.IDNumber, Phone: sp.Phone, FromPlace: from[rng.IntN(len(from))],
				ArrivalDate: env.Store.Now().AddDate(0, 0, -rng.IntN(5)).In(cstZone).Format("2006-01-02"), RoomID: rooms[rng.IntN(len(rooms))].ID,
				Transport: leads.Transports[rng.IntN(len(leads.Transports))], Health: "well", Consent: true, IP: fmt.Sprintf("10.0.0.%d", i)}
			if _, err := svc.Submit(ctx, tokens[rng.IntN(len(tokens))], in); err != nil {
				return fmt.Errorf("self-report %d: %w", i, err)
			}
		}
	}
	return nil
}

var cstZone = time.FixedZone("CST", 8*3600)
