// Package demo builds a synthetic street modelled on the seed article: a
// gated compound with pedestrian and vehicle gates (和园社区) and an urban
// village (丰乐社区 with 丰乐西村: about 1,460 permanent and 1,950 floating
// residents), their grids and workers, and one account per role. Everything
// is drawn from a seeded random source, so a seed reproduces the community.
package demo

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"

	"shequ/internal/access"
	"shequ/internal/auth"
	"shequ/internal/gate"
	"shequ/internal/org"
	"shequ/internal/pii"
	"shequ/internal/store"
	"shequ/internal/synth"
)

// Options shape the demo.
type Options struct {
	Seed   uint64
	People int // residents in all; 0 means the article's figures
}

// Login is one demo account.
type Login struct {
	Role     access.Role
	Username string
	Password string
	Name     string
}

// Result is what the demo made, for printing.
type Result struct {
	Logins      []Login
	Street      store.OrgNode
	Communities []store.OrgNode
	Grids       []store.OrgNode
	Devices     []DeviceLogin
	// Open311Key lets an Open311 client create requests in the village.
	Open311Key string
	// SelfReportToken is the token of the compound's community-wide
	// self-report code (its form is /r/TOKEN).
	SelfReportToken string
	// PartnerName and PartnerToken are the demo's partner department and
	// its API token (an agreement for masked residents and health records).
	PartnerName, PartnerToken string
	// ResidentPhone logs a demo resident in with a one-time code (the
	// default sender writes the code to the log).
	ResidentPhone string
}

// Codes of the synthetic part of the tree (below the real 秦都区, 咸阳市).
const (
	DistrictCode  = "610402000000" // 秦都区
	StreetCode    = "610402011000" // 渭滨街道 (synthetic)
	CompoundCode  = "610402011001" // 和园社区: the gated compound
	VillageCode   = "610402011002" // 丰乐社区: the urban village
	StreetName    = "渭滨街道"
	CompoundName  = "和园社区"
	VillageName   = "丰乐社区"
	compoundGrids = 4
	villageGrids  = 6
)

// Env is what the demo needs from the program.
type Env struct {
	Store *store.Store
	Auth  *auth.Service
	Keys  *pii.Keyring
	Gates *gate.Service
}

// Build fills an empty database.
func Build(ctx context.Context, env Env, opt Options) (*Result, error) {
	rng := rand.New(rand.NewPCG(opt.Seed, opt.Seed^0x5eed))
	res := &Result{}
	if _, err := org.ImportCSV(ctx, env.Store, bytes.NewReader(synth.ShaanxiDivisionsCSV()), "", nil); err != nil {
		return nil, fmt.Errorf("division table: %w", err)
	}
	err := env.Store.Write(ctx, func(tx *store.Tx) error {
		district, err := tx.OrgNodeByCode(ctx, DistrictCode)
		if err != nil {
			return err
		}
		if res.Street, err = org.Create(ctx, tx, district.ID, StreetCode, StreetName, ""); err != nil {
			return err
		}
		for _, c := range []struct {
			code, name string
			grids      int
		}{{CompoundCode, CompoundName, compoundGrids}, {VillageCode, VillageName, villageGrids}} {
			comm, err := org.Create(ctx, tx, res.Street.ID, c.code, c.name, "")
			if err != nil {
				return err
			}
			res.Communities = append(res.Communities, comm)
			for i := 1; i <= c.grids; i++ {
				g, err := org.Create(ctx, tx, comm.ID, fmt.Sprintf("%s%03d", c.code, i), fmt.Sprintf("第%s网格", chineseNumber(i)), "")
				if err != nil {
					return err
				}
				res.Grids = append(res.Grids, g)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := buildAccounts(ctx, env, rng, res); err != nil {
		return nil, err
	}
	if err := buildLedger(ctx, env, rng, res, opt.People); err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	if err := buildGridWork(ctx, env, rng, res); err != nil {
		return nil, fmt.Errorf("grid work: %w", err)
	}
	if err := buildAssessHistory(ctx, env, rng, res); err != nil {
		return nil, fmt.Errorf("assessment history: %w", err)
	}
	if err := buildSelfReports(ctx, env, rng, res); err != nil {
		return nil, fmt.Errorf("self-reports: %w", err)
	}
	if err := buildLeadBatch(ctx, env, rng, res); err != nil {
		return nil, fmt.Errorf("lead batch: %w", err)
	}
	if env.Gates != nil {
		if err := buildGates(ctx, env, rng, res); err != nil {
			return nil, fmt.Errorf("gates: %w", err)
		}
	}
	if err := buildResident(ctx, env, res); err != nil {
		return nil, fmt.Errorf("resident account: %w", err)
	}
	if err := buildEvents(ctx, env, res); err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	if err := buildPartner(ctx, env, res); err != nil {
		return nil, fmt.Errorf("partner: %w", err)
	}
	if err := buildSitePlan(ctx, env, res); err != nil {
		return nil, fmt.Errorf("site plan: %w", err)
	}
	if err := buildTraining(ctx, env, rng, res); err != nil {
		return nil, fmt.Errorf("training: %w", err)
	}
	return res, nil
}

func buildAccounts(ctx context.Context, env Env, rng *rand.Rand, res *Result) error {
	province, err := env.Store.OrgNodeByCode(ctx, "610000000000")
	if err != nil {
		return err
	}
	compound, village := res.Communities[0], res.Communities[1]
	villageGrid := res.Grids[compoundGrids] // 丰乐社区 第一网格
	accounts := []struct {
		role     access.Role
		username string
		node     store.OrgNode
	}{
		{access.Admin, "admin", province},
		{access.Official, "official", res.Street},
		{access.Staff, "staff", village},
		{access.Grid, "grid", villageGrid},
		{access.Property, "property", compound},
		{access.Owners, "owners", compound},
	}
	for _, a := range accounts {
		name := synth.NewPerson(rng, synth.Profile{MinAge: 25, MaxAge: 55}).Name
		pw := password(rng)
		if _, err := env.Auth.CreateUser(ctx, nil, auth.NewUser{Username: a.username, DisplayName: name,
			Kind: store.KindStaff, Password: pw, Role: a.role, NodeID: a.node.ID}, ""); err != nil {
			return fmt.Errorf("account %s: %w", a.username, err)
		}
		res.Logins = append(res.Logins, Login{Role: a.role, Username: a.username, Password: pw, Name: name})
	}
	// Every other grid gets its own worker, so each grid has a person.
	for i, g := range res.Grids {
		if g.ID == villageGrid.ID {
			continue
		}
		name := synth.NewPerson(rng, synth.Profile{MinAge: 22, MaxAge: 55}).Name
		if _, err := env.Auth.CreateUser(ctx, nil, auth.NewUser{Username: fmt.Sprintf("grid%02d", i+1), DisplayName: name,
			Kind: store.KindStaff, Password: password(rng), Role: access.Grid, NodeID: g.ID}, ""); err != nil {
			return err
		}
	}
	return nil
}

// password draws a readable password from the seeded source, so the same
// seed prints the same logins.
func password(rng *rand.Rand) string {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 12)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}

func chineseNumber(n int) string {
	digits := []string{"零", "一", "二", "三", "四", "五", "六", "七", "八", "九", "十"}
	if n <= 10 {
		return digits[n]
	}
	if n < 20 {
		return "十" + digits[n-10]
	}
	return fmt.Sprint(n)
}

// buildResident gives one village resident an account, so the residents'
// pages can be tried: log in with the phone and the code from the log.
func buildResident(ctx context.Context, env Env, res *Result) error {
	// One resident account in each community; the village's is printed.
	for i, comm := range []store.OrgNode{res.Communities[1], res.Communities[0]} {
		hits, _, err := env.Store.Persons(ctx, store.PersonFilter{Scopes: []string{comm.Path}, Residency: "registered", Limit: 1})
		if err != nil || len(hits) == 0 {
			return err
		}
		phone, err := env.Keys.DecryptString(hits[0].PhoneEnc, "persons.phone")
		if err != nil {
			return err
		}
		username := "resident"
		if i > 0 {
			username = fmt.Sprintf("resident%d", i+1)
		}
		if _, err := env.Auth.CreateUser(ctx, nil, auth.NewUser{Username: username, DisplayName: hits[0].Name, Kind: store.KindResident,
			Phone: phone, Role: access.Resident, NodeID: comm.ID}, ""); err != nil {
			return err
		}
		if i == 0 {
			res.ResidentPhone = phone
		}
	}
	return nil
}
