package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"shequ/internal/leads"
	ledgersvc "shequ/internal/ledger"
	"shequ/internal/store"
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

// buildLeadBatch sends the street a batch of leads from the district:
// residents of both communities who were at a market, a few people the
// ledger does not know; about half of them already verified.
func buildLeadBatch(ctx context.Context, env Env, rng *rand.Rand, res *Result) error {
	svc := &leads.Service{Store: env.Store, Keys: env.Keys, Ledger: &ledgersvc.Service{Store: env.Store, Keys: env.Keys}}
	var csv strings.Builder
	csv.WriteString("序号,姓名,身份证号码,联系电话,报告地址,风险点,备注\n")
	n := 0
	for _, comm := range res.Communities {
		hits, _, err := env.Store.Persons(ctx, store.PersonFilter{Scopes: []string{comm.Path}, Limit: 60, Offset: 17})
		if err != nil {
			return err
		}
		for _, h := range hits {
			id, err := env.Keys.DecryptString(h.IDEnc, "persons.id_number")
			if err != nil {
				return err
			}
			n++
			fmt.Fprintf(&csv, "%d,%s,%s,,秦都区渭滨街道,11月24日到过人民路农贸市场,区指挥部推送\n", n, h.Name, id)
		}
	}
	for i := 0; i < 5; i++ {
		sp := synth.NewPerson(rng, synth.Profile{MinAge: 20, MaxAge: 60})
		n++
		fmt.Fprintf(&csv, "%d,%s,,%s,渭滨街道（不详）,同车厢密接,区指挥部推送\n", n, sp.Name, sp.Phone)
	}
	deadline := env.Store.Now().AddDate(0, 0, 1).In(cstZone).Format("2006-01-02")
	r, err := svc.ImportBatch(ctx, nil, leads.BatchInput{NodeID: res.Street.ID, Name: "区指挥部11·24农贸市场关联人员", Deadline: deadline, Source: "import",
		File: []byte(csv.String())})
	if err != nil {
		return err
	}
	ls, err := env.Store.BatchLeads(ctx, r.Batch.ID, res.Street.Path)
	if err != nil {
		return err
	}
	for i, l := range ls {
		if l.AssigneeID == "" || i%2 == 1 {
			continue
		}
		u, err := env.Store.User(ctx, l.AssigneeID)
		if err != nil {
			return err
		}
		p, err := env.Auth.Principal(ctx, u)
		if err != nil {
			return err
		}
		if err := svc.Verify(ctx, p, l.ID, leads.VerifyInput{Method: "phone", Outcome: "found", Note: "电话联系本人，在家，无不适",
			CallRecord: "电话随访", Measure: "health_monitoring", Days: 7}); err != nil {
			return fmt.Errorf("verify lead %d: %w", i, err)
		}
	}
	return nil
}
