package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"shequ/internal/access"
	"shequ/internal/auth"
	"shequ/internal/gate"
	"shequ/internal/store"
)

// DeviceLogin is a demo device: its gate code and its API token.
type DeviceLogin struct {
	GateCode string
	Token    string
}

// buildGates gives the compound a pedestrian turnstile, a temperature door
// and a vehicle barrier, and the village two staffed checkpoints and a
// turnstile; each gate gets a device account. Residents of the compound get
// IC cards, some of them car plates.
func buildGates(ctx context.Context, env Env, rng *rand.Rand, res *Result) error {
	defs := []struct {
		comm       store.OrgNode
		code, name string
		kind       string
	}{
		{res.Communities[0], "HY-N-TURNSTILE", "和园小区北门人行闸机", "turnstile"},
		{res.Communities[0], "HY-N-TEMPDOOR", "和园小区北门测温门", "temp_door"},
		{res.Communities[0], "HY-E-VEHICLE", "和园小区东门车辆道闸", "vehicle"},
		{res.Communities[1], "FL-S-BOOTH", "丰乐西村南入口卡口", "booth"},
		{res.Communities[1], "FL-N-BOOTH", "丰乐西村北入口卡口", "booth"},
		{res.Communities[1], "FL-S-TURNSTILE", "丰乐西村南入口人行闸机", "turnstile"},
	}
	for _, d := range defs {
		sites, err := env.Store.PlaceSites(ctx, d.comm.ID)
		if err != nil {
			return err
		}
		g := store.Gate{CommunityID: d.comm.ID, Code: d.code, Name: d.name, Kind: d.kind}
		if len(sites) > 0 {
			g.SiteID = sites[0].ID
		}
		u, err := env.Auth.CreateUser(ctx, nil, auth.NewUser{Username: "dev-" + lower(d.code), DisplayName: d.name, Kind: store.KindAPI,
			Role: access.Device, NodeID: d.comm.ID}, "")
		if err != nil {
			return err
		}
		tok, err := env.Auth.IssueToken(ctx, nil, u.ID, "demo", "")
		if err != nil {
			return err
		}
		err = env.Store.Write(ctx, func(tx *store.Tx) error {
			if err := tx.CreateGate(ctx, &g); err != nil {
				return err
			}
			return tx.CreateDevice(ctx, &store.Device{GateID: g.ID, UserID: u.ID, Name: d.name + "终端"})
		})
		if err != nil {
			return err
		}
		res.Devices = append(res.Devices, DeviceLogin{GateCode: d.code, Token: tok})
	}
	// Cards for most residents, plates for some compound households.
	var creds []store.Credential
	byCommunity := map[string][]int{} // community id → indexes into creds
	plates := map[string]bool{}
	for ci, prefix := range []string{"HY", "FL"} {
		hits, _, err := env.Store.Persons(ctx, store.PersonFilter{Scopes: []string{res.Communities[ci].Path}, Limit: 100000})
		if err != nil {
			return err
		}
		for i, h := range hits {
			if rng.IntN(10) < 8-2*ci {
				c, err := env.Gates.ValueCredential(h.ID, gate.CredCard, fmt.Sprintf("%s%08d", prefix, 10000000+i), time.Time{})
				if err != nil {
					return err
				}
				byCommunity[res.Communities[ci].ID] = append(byCommunity[res.Communities[ci].ID], len(creds))
				creds = append(creds, c)
			}
			if ci == 0 && h.Relation == "02" && rng.IntN(3) == 0 {
				plate := fmt.Sprintf("陕D%c%04d", 'A'+rune(rng.IntN(26)), rng.IntN(10000))
				if plates[plate] {
					continue
				}
				plates[plate] = true
				c, err := env.Gates.ValueCredential(h.ID, gate.CredPlate, plate, time.Time{})
				if err != nil {
					return err
				}
				creds = append(creds, c)
			}
		}
	}
	if err := env.Store.Write(ctx, func(tx *store.Tx) error {
		for i := range creds {
			if err := tx.CreateCredential(ctx, &creds[i], ""); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	return morningTraffic(ctx, env, rng, res, creds, byCommunity)
}

// morningTraffic records today's passes so far: a peak from 7 to 9, most
// of them by card, a few refusals.
func morningTraffic(ctx context.Context, env Env, rng *rand.Rand, res *Result, creds []store.Credential, byCommunity map[string][]int) error {
	gates, err := env.Store.Gates(ctx, []string{res.Street.Path})
	if err != nil || len(gates) == 0 {
		return err
	}
	now := env.Store.Now()
	cst := time.FixedZone("CST", 8*3600)
	day := now.In(cst)
	start := time.Date(day.Year(), day.Month(), day.Day(), 6, 0, 0, 0, cst)
	if !now.After(start) {
		return nil
	}
	return env.Store.Write(ctx, func(tx *store.Tx) error {
		for i := 0; i < 1500; i++ {
			// Twice as many between 7 and 9 as at other hours.
			at := start.Add(time.Duration(rng.Int64N(int64(now.Sub(start)))))
			if h := at.In(cst).Hour(); (h < 7 || h >= 9) && rng.IntN(2) == 0 {
				continue
			}
			g := gates[rng.IntN(len(gates))]
			ds, err := env.Store.GateDevices(ctx, g.ID)
			if err != nil || len(ds) == 0 {
				continue
			}
			idx := byCommunity[g.CommunityID]
			if len(idx) == 0 {
				continue
			}
			c := creds[idx[rng.IntN(len(idx))]]
			outcome, reason := "allow", "ok"
			if rng.IntN(40) == 0 {
				outcome, reason = "deny", "fever"
			}
			if _, err := tx.InsertPass(ctx, &store.PassRecord{DeviceID: ds[0].ID, GateID: g.ID, EventID: fmt.Sprintf("demo-%d", i),
				PersonID: c.PersonID, Credential: c.Kind, Outcome: outcome, Reason: reason, Temperature: 36.1 + float64(rng.IntN(8))/10,
				Direction: "in", DeviceTime: at, ReceivedAt: at}); err != nil {
				return err
			}
		}
		return nil
	})
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}
