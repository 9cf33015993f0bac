package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"shequ/internal/pii"
	"shequ/internal/pinyin"
	"shequ/internal/store"
	"shequ/internal/synth"
)

// The article's figures: 丰乐西村 (modelled on 两寺渡西村) has 1,460 permanent
// and 1,950 floating residents; the gated compound adds about 1,600.
const (
	villagePermanent = 1460
	villageFloating  = 1950
	compoundPeople   = 1600
)

// quotas splits a population target the way the article's street is split.
func quotas(people int) (compound, permanent, floating int) {
	if people <= 0 {
		return compoundPeople, villagePermanent, villageFloating
	}
	total := compoundPeople + villagePermanent + villageFloating
	permanent = people * villagePermanent / total
	floating = people * villageFloating / total
	return people - permanent - floating, permanent, floating
}

type ledger struct {
	ctx  context.Context
	tx   *store.Tx
	keys *pii.Keyring
	rng  *rand.Rand
	now  time.Time
	home []string // county codes of local people

	monitoring, monitoringTarget int
	lastSince                    string // move-in date of the last tenant household
}

func (l *ledger) person(sp synth.Person, residency string) (*store.Person, error) {
	idEnc, err := l.keys.EncryptString(sp.IDNumber, "persons.id_number")
	if err != nil {
		return nil, err
	}
	phoneEnc, err := l.keys.EncryptString(sp.Phone, "persons.phone")
	if err != nil {
		return nil, err
	}
	p := &store.Person{Name: sp.Name, NameInitials: pinyin.Initials(sp.Name), IDType: string(pii.DocResidentID), IDEnc: idEnc,
		IDBidx: l.keys.BlindIndex(sp.IDNumber, "id_number"), IDMask: pii.MaskID(sp.IDNumber),
		BirthDate: sp.Birth.Format("2006-01-02"), Sex: sp.Sex, PhoneEnc: phoneEnc,
		PhoneBidx: l.keys.BlindIndex(sp.Phone, "phone"), PhoneMask: pii.MaskPhone(sp.Phone),
		Ethnicity: sp.Ethnicity, Residency: residency, RegisteredRegion: sp.Region}
	if sp.Birth.Before(l.now.AddDate(-18, 0, 0)) && sp.Birth.After(l.now.AddDate(-60, 0, 0)) && l.rng.IntN(3) > 0 {
		p.Workplace = synth.CompanyName(l.rng)
	}
	p.Tags = l.tags(sp)
	if err := l.tx.CreatePerson(l.ctx, p); err != nil {
		return nil, err
	}
	return p, l.health(p, sp)
}

// family puts a family of 1–5 (head, spouse, children, sometimes a parent)
// into room and returns how many people it made.
func (l *ledger) family(room *store.Place, residency func() string, max int) (int, error) {
	n, _, err := l.familyHead(room, residency, max)
	return n, err
}

// familyHead is family, also returning the head of household's id.
func (l *ledger) familyHead(room *store.Place, residency func() string, max int) (int, string, error) {
	profile := synth.Profile{HomeRegions: l.home, LocalShare: 0.7, MinAge: 28, MaxAge: 72, Now: l.now}
	head := synth.NewPerson(l.rng, profile)
	h := &store.Household{RoomID: room.ID, Kind: "family"}
	headP, err := l.person(head, residency())
	if err != nil {
		return 0, "", err
	}
	h.HeadID = headP.ID
	if err := l.tx.CreateHousehold(l.ctx, h); err != nil {
		return 0, "", err
	}
	since := l.now.AddDate(-l.rng.IntN(20)-1, -l.rng.IntN(12), 0).Format("2006-01-02")
	add := func(p *store.Person, rel string) error {
		return l.tx.AddMember(l.ctx, store.Member{HouseholdID: h.ID, PersonID: p.ID, Relation: rel, Since: since})
	}
	if err := add(headP, "02"); err != nil {
		return 0, "", err
	}
	n := 1
	surname := []rune(head.Name)[:1]
	if n < max && l.rng.IntN(10) < 8 { // spouse
		sex, rel := 2, "12"
		if head.Sex == 2 {
			sex, rel = 1, "11"
		}
		sp := synth.RelatedPerson(l.rng, synth.Profile{HomeRegions: l.home, LocalShare: 0.6, Now: l.now}, "", sex,
			head.Birth.AddDate(-4, 0, 0), head.Birth.AddDate(4, 0, 0))
		p, err := l.person(sp, residency())
		if err != nil {
			return 0, "", err
		}
		if err := add(p, rel); err != nil {
			return 0, "", err
		}
		n++
	}
	kids := l.rng.IntN(3)
	for i := 0; i < kids && n < max; i++ {
		from := head.Birth.AddDate(22, 0, 0)
		if from.After(l.now) {
			break
		}
		to := head.Birth.AddDate(42, 0, 0)
		if to.After(l.now) {
			to = l.now
		}
		sex := 1 + l.rng.IntN(2)
		rel := "20"
		if sex == 2 {
			rel = "30"
		}
		kid := synth.RelatedPerson(l.rng, synth.Profile{HomeRegions: []string{head.Region}, LocalShare: 1, Now: l.now}, string(surname), sex, from, to)
		p, err := l.person(kid, residency())
		if err != nil {
			return 0, "", err
		}
		if err := add(p, rel); err != nil {
			return 0, "", err
		}
		n++
	}
	if n < max && l.rng.IntN(6) == 0 && head.Birth.After(l.now.AddDate(-55, 0, 0)) { // an elderly parent
		sex := 1 + l.rng.IntN(2)
		rel := "51"
		if sex == 2 {
			rel = "52"
		}
		par := synth.RelatedPerson(l.rng, synth.Profile{HomeRegions: []string{head.Region}, LocalShare: 1, Now: l.now}, string(surname), sex,
			head.Birth.AddDate(-35, 0, 0), head.Birth.AddDate(-20, 0, 0))
		p, err := l.person(par, residency())
		if err != nil {
			return 0, "", err
		}
		if err := add(p, rel); err != nil {
			return 0, "", err
		}
		n++
	}
	return n, headP.ID, nil
}

// tenants rents room to 1–3 unrelated people from elsewhere (floating).
func (l *ledger) tenants(room *store.Place, max int) (int, error) {
	n, _, _, err := l.tenantHousehold(room, max)
	return n, err
}

// tenantHousehold is tenants, also returning the household and its people.
func (l *ledger) tenantHousehold(room *store.Place, max int) (int, string, []string, error) {
	count := 1 + l.rng.IntN(3)
	if count > max {
		count = max
	}
	profile := synth.Profile{HomeRegions: l.home, LocalShare: 0.15, MinAge: 18, MaxAge: 55, Now: l.now}
	h := &store.Household{RoomID: room.ID, Kind: "rental"}
	var members []*store.Person
	for i := 0; i < count; i++ {
		p, err := l.person(synth.NewPerson(l.rng, profile), "floating")
		if err != nil {
			return 0, "", nil, err
		}
		members = append(members, p)
	}
	h.HeadID = members[0].ID
	if err := l.tx.CreateHousehold(l.ctx, h); err != nil {
		return 0, "", nil, err
	}
	since := l.now.AddDate(0, -1-l.rng.IntN(11), -l.rng.IntN(28)).Format("2006-01-02")
	for i, p := range members {
		rel := "99"
		if i == 0 {
			rel = "02"
		}
		if err := l.tx.AddMember(l.ctx, store.Member{HouseholdID: h.ID, PersonID: p.ID, Relation: rel, Since: since}); err != nil {
			return 0, "", nil, err
		}
	}
	ids := make([]string, len(members))
	for i, p := range members {
		ids[i] = p.ID
	}
	l.lastSince = since
	return count, h.ID, ids, nil
}

// buildLedger makes the places and people of both communities.
func buildLedger(ctx context.Context, env Env, rng *rand.Rand, res *Result, people int) error {
	compoundN, permanentN, floatingN := quotas(people)
	now := env.Store.Now()
	return env.Store.Write(ctx, func(tx *store.Tx) error {
		l := &ledger{ctx: ctx, tx: tx, keys: env.Keys, rng: rng, now: now, home: []string{"610402", "610404", "610481"},
			monitoringTarget: max(3, (compoundN+permanentN+floatingN)/600)}
		if err := l.compound(res, compoundN); err != nil {
			return err
		}
		return l.village(res, permanentN, floatingN)
	})
}

// compound: 和园小区, high-rise buildings of two units, two flats a floor.
func (l *ledger) compound(res *Result, target int) error {
	comm := res.Communities[0]
	grids := res.Grids[:compoundGrids]
	site := &store.Place{CommunityID: comm.ID, Kind: store.PlaceCompound, Name: "和园小区", Address: "咸阳市秦都区渭滨街道和园小区"}
	if err := l.tx.CreatePlace(l.ctx, site); err != nil {
		return err
	}
	buildings := max(2, (target/3+71)/72) // about 72 flats a building, 3 people a flat
	made := 0
	for b := 1; (b <= buildings || made < target) && b < 1000; b++ {
		floors := []int{11, 18, 18, 26}[l.rng.IntN(4)]
		grid := grids[min(len(grids)-1, (b-1)*len(grids)/buildings)]
		bld := &store.Place{CommunityID: comm.ID, GridID: grid.ID, ParentID: site.ID, Kind: store.PlaceBuilding,
			Name: fmt.Sprintf("%d号楼", b), Address: fmt.Sprintf("%s%d号楼", site.Address, b), Floors: floors, Seq: b}
		if err := l.tx.CreatePlace(l.ctx, bld); err != nil {
			return err
		}
		for u := 1; u <= 2; u++ {
			unit := &store.Place{CommunityID: comm.ID, GridID: grid.ID, ParentID: bld.ID, Kind: store.PlaceUnit,
				Name: fmt.Sprintf("%d单元", u), Address: fmt.Sprintf("%s%d单元", bld.Address, u), Seq: u}
			if err := l.tx.CreatePlace(l.ctx, unit); err != nil {
				return err
			}
			for f := 1; f <= floors; f++ {
				for r := 1; r <= 2; r++ {
					name := fmt.Sprintf("%d%02d", f, r)
					room := &store.Place{CommunityID: comm.ID, GridID: grid.ID, ParentID: unit.ID, Kind: store.PlaceRoom,
						Name: name, Address: fmt.Sprintf("%s%s室", unit.Address, name), Floor: f, Seq: r, RoomUse: "vacant"}
					occupied := made < target && l.rng.IntN(100) < 85
					rented := occupied && l.rng.IntN(100) < 15
					switch {
					case rented:
						room.RoomUse = "rented"
					case occupied:
						room.RoomUse = "self"
					}
					if occupied && l.rng.IntN(100) < 80 {
						room.Survey = "surveyed"
					}
					if err := l.tx.CreatePlace(l.ctx, room); err != nil {
						return err
					}
					var n int
					var err error
					switch {
					case rented:
						n, err = l.tenants(room, target-made)
					case occupied:
						var head string
						n, head, err = l.familyHead(room, func() string { return []string{"registered", "registered", "permanent"}[l.rng.IntN(3)] }, target-made)
						if err == nil {
							err = l.tx.AddOwner(l.ctx, room.ID, head, "")
						}
					}
					if err != nil {
						return err
					}
					made += n
				}
			}
		}
	}
	return nil
}

// village: 丰乐西村, self-built houses; the owner's family lives on the
// ground floor, the other rooms are let one by one to floating residents.
func (l *ledger) village(res *Result, permanent, floating int) error {
	comm := res.Communities[1]
	grids := res.Grids[compoundGrids:]
	site := &store.Place{CommunityID: comm.ID, Kind: store.PlaceVillage, Name: "丰乐西村", Address: "咸阳市秦都区渭滨街道丰乐西村"}
	if err := l.tx.CreatePlace(l.ctx, site); err != nil {
		return err
	}
	// About 3.3 permanent residents a house, so this many houses; each
	// has two to four floors, the owner's family on the ground floor and
	// two or three rooms a floor above it, let one by one.
	houses := max(1, permanent*10/33)
	const upperRoomsPerHouse, tenantsPerRoom = 5.0, 2.0
	letPct := min(95, int(float64(floating)*100/(float64(houses)*upperRoomsPerHouse*tenantsPerRoom)))
	madeP, madeF := 0, 0
	for hno := 1; hno <= houses || madeF < floating || madeP < permanent; hno++ {
		grid := grids[min(len(grids)-1, (hno-1)*len(grids)/max(houses, 1))]
		floors := 2 + l.rng.IntN(3)
		house := &store.Place{CommunityID: comm.ID, GridID: grid.ID, ParentID: site.ID, Kind: store.PlaceHouse,
			Name: fmt.Sprintf("%d号", hno), Address: fmt.Sprintf("%s%d号", site.Address, hno), Floors: floors, Seq: hno}
		if err := l.tx.CreatePlace(l.ctx, house); err != nil {
			return err
		}
		perFloor := 2 + l.rng.IntN(2)
		landlord := ""
		for f := 1; f <= floors; f++ {
			rooms := perFloor
			if f == 1 {
				rooms = 1 + l.rng.IntN(2) // the owner's home, sometimes a shop
			}
			for r := 1; r <= rooms; r++ {
				name := fmt.Sprintf("%d%02d", f, r)
				room := &store.Place{CommunityID: comm.ID, GridID: grid.ID, ParentID: house.ID, Kind: store.PlaceRoom,
					Name: name, Address: fmt.Sprintf("%s%s室", house.Address, name), Floor: f, Seq: r, RoomUse: "vacant"}
				owner := f == 1 && r == 1 && madeP < permanent
				let := f > 1 && madeF < floating && l.rng.IntN(100) < letPct
				switch {
				case owner:
					room.RoomUse = "self"
				case f == 1:
					room.RoomUse = "shop"
				case let && l.rng.IntN(8) == 0:
					room.RoomUse = "group_rental"
				case let:
					room.RoomUse = "rented"
				}
				if (owner || let) && l.rng.IntN(100) < 70 {
					room.Survey = "surveyed"
				}
				if err := l.tx.CreatePlace(l.ctx, room); err != nil {
					return err
				}
				if landlord != "" {
					if err := l.tx.AddOwner(l.ctx, room.ID, landlord, ""); err != nil {
						return err
					}
				}
				switch {
				case owner:
					n, head, err := l.familyHead(room, func() string {
						if l.rng.IntN(10) < 8 {
							return "registered"
						}
						return "permanent"
					}, permanent-madeP)
					if err != nil {
						return err
					}
					if err := l.tx.AddOwner(l.ctx, room.ID, head, ""); err != nil {
						return err
					}
					landlord = head
					madeP += n
				case let:
					n, household, tenants, err := l.tenantHousehold(room, floating-madeF)
					if err != nil {
						return err
					}
					if err := l.contract(room, landlord, household, tenants); err != nil {
						return err
					}
					madeF += n
				}
			}
		}
		if hno > 10*houses+10 { // never loop for ever on odd targets
			break
		}
	}
	return nil
}

// contract registers most lettings with a rental contract (some ending
// within a week or a month); about one in seven has none, which the
// contracts page lists as occupants not registered.
func (l *ledger) contract(room *store.Place, landlord, household string, tenants []string) error {
	if l.rng.IntN(7) == 0 {
		return nil
	}
	start, _ := time.Parse("2006-01-02", l.lastSince)
	var end time.Time
	switch r := l.rng.IntN(100); {
	case r < 8:
		end = l.now.AddDate(0, 0, l.rng.IntN(7))
	case r < 20:
		end = l.now.AddDate(0, 0, 8+l.rng.IntN(22))
	default:
		end = l.now.AddDate(0, 1+l.rng.IntN(11), 0)
	}
	c := &store.Contract{RoomID: room.ID, LandlordID: landlord, HouseholdID: household, StartDate: start.Format("2006-01-02"),
		EndDate: end.Format("2006-01-02"), Rent: 300 + 50*l.rng.IntN(12), Form: `{"purpose":"居住"}`}
	if err := l.tx.CreateContract(l.ctx, c, tenants, ""); err != nil {
		return err
	}
	for _, t := range tenants {
		if err := l.tx.EndMembership(l.ctx, household, t, c.EndDate); err != nil {
			return err
		}
	}
	return nil
}
