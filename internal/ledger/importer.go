package ledger

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"shequ/internal/errs"
	"shequ/internal/ledgerio"
	"shequ/internal/pii"
	"shequ/internal/pinyin"
	"shequ/internal/store"
)

// ImportMode says what to do with a file that has problems.
type ImportMode string

const (
	ImportAll       ImportMode = "all"   // all or nothing: refuse if any row has a problem
	ImportValidOnly ImportMode = "valid" // write the rows without problems, report the rest
)

// ImportResult tells what an import wrote.
type ImportResult struct {
	People, Households, Rooms, Buildings int
	Skipped                              int // rows with problems left out (valid-only mode)
}

// CheckImport adds the problems only the database can see: an identity
// number that is already in the ledger.
func (s *Service) CheckImport(ctx context.Context, rows []ledgerio.Row) ([]ledgerio.Problem, error) {
	idx := make([]string, len(rows))
	for i, r := range rows {
		idx[i] = s.idIndex(r.DocType, r.ID.Number)
	}
	found, err := s.Store.ExistingIDBidx(ctx, idx)
	if err != nil {
		return nil, err
	}
	var out []ledgerio.Problem
	for i, r := range rows {
		if _, ok := found[idx[i]]; ok {
			out = append(out, ledgerio.Problem{Line: r.Line, Column: "证件号码", Key: "err.import.exists", Value: pii.MaskID(r.ID.Number)})
		}
	}
	return out, nil
}

// WithoutProblems drops the rows that have a problem.
func WithoutProblems(rows []ledgerio.Row, problems []ledgerio.Problem) []ledgerio.Row {
	bad := map[int]bool{}
	for _, p := range problems {
		bad[p.Line] = true
	}
	out := rows[:0:0]
	for _, r := range rows {
		if !bad[r.Line] {
			out = append(out, r)
		}
	}
	return out
}

var roomNumber = regexp.MustCompile(`^(\d{1,3})(\d{2})$`)

// placeKey identifies a building/unit/room path inside the file.
type placeKey struct{ building, unit, room string }

// CommitImport writes validated rows into a community in one transaction:
// it creates the buildings (楼 → building, otherwise a self-built house),
// units and rooms that do not exist yet, one household per room of the
// file (its head is the row whose relation is 02), and the people.
// progress is called every 1,000 rows.
func (s *Service) CommitImport(ctx context.Context, a Actor, communityID string, rows []ledgerio.Row, progress func(done int)) (ImportResult, error) {
	var res ImportResult
	comm, err := s.Store.OrgNode(ctx, communityID)
	if err != nil {
		return res, err
	}
	if comm.Level != store.LevelCommunity {
		return res, errs.E(errs.Invalid, "err.import.community")
	}
	if a.P != nil && !a.P.Can("data.import", comm.Path) {
		return res, errs.E(errs.Forbidden, "err.forbidden")
	}
	// Encrypt and index outside the transaction: it is the costly part and
	// needs no lock.
	persons := make([]store.Person, len(rows))
	for i, r := range rows {
		p, err := s.personFromRow(r)
		if err != nil {
			return res, fmt.Errorf("row %d: %w", r.Line, err)
		}
		persons[i] = p
	}
	groups := map[placeKey][]int{}
	var order []placeKey
	for i, r := range rows {
		k := placeKey{strings.TrimSpace(r.Building), strings.TrimSpace(r.Unit), strings.TrimSuffix(strings.TrimSpace(r.Room), "室")}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], i)
	}
	err = s.Store.Write(ctx, func(tx *store.Tx) error {
		sites, err := s.Store.PlaceSites(ctx, comm.ID)
		if err != nil {
			return err
		}
		var site store.Place
		if len(sites) > 0 {
			site = sites[0]
		} else {
			site = store.Place{CommunityID: comm.ID, Kind: store.PlaceCompound, Name: comm.Name, Address: comm.Name}
			if err := tx.CreatePlace(ctx, &site); err != nil {
				return err
			}
		}
		cache := map[string]store.Place{}
		created := map[string]bool{} // places made by this import have no children in the database yet
		find := func(parent store.Place, kind, name string, mk func() store.Place) (store.Place, error) {
			key := parent.ID + "/" + kind + "/" + name
			if p, ok := cache[key]; ok {
				return p, nil
			}
			var p store.Place
			var err error = errs.E(errs.NotFound, "err.not_found")
			if !created[parent.ID] {
				p, err = tx.FindPlace(ctx, comm.ID, parent.ID, kind, name)
			}
			if errs.Is(err, errs.NotFound) {
				p = mk()
				if err := tx.CreatePlace(ctx, &p); err != nil {
					return p, err
				}
				created[p.ID] = true
				switch kind {
				case store.PlaceRoom:
					res.Rooms++
				case store.PlaceBuilding, store.PlaceHouse:
					res.Buildings++
				}
			} else if err != nil {
				return p, err
			}
			cache[key] = p
			return p, nil
		}
		done := 0
		for _, k := range order {
			kind := store.PlaceHouse
			if strings.Contains(k.building, "楼") || strings.Contains(k.building, "栋") || strings.Contains(k.building, "幢") {
				kind = store.PlaceBuilding
			}
			b, err := find(site, kind, k.building, func() store.Place {
				return store.Place{CommunityID: comm.ID, ParentID: site.ID, Kind: kind, Name: k.building, Address: site.Address + k.building}
			})
			if err != nil {
				return err
			}
			parent := b
			if k.unit != "" {
				if parent, err = find(b, store.PlaceUnit, k.unit, func() store.Place {
					return store.Place{CommunityID: comm.ID, GridID: b.GridID, ParentID: b.ID, Kind: store.PlaceUnit, Name: k.unit, Address: b.Address + k.unit}
				}); err != nil {
					return err
				}
			}
			idx := groups[k]
			first := rows[idx[0]]
			kindH := "rental"
			head := idx[0]
			for _, i := range idx {
				if rows[i].Residency != "floating" {
					kindH = "family"
				}
				if rows[i].Relation == "02" {
					head = i
				}
			}
			use := first.RoomUse
			if use == "" {
				use = map[string]string{"family": "self", "rental": "rented"}[kindH]
			}
			room, err := find(parent, store.PlaceRoom, k.room, func() store.Place {
				floor, seq := 1, 1
				if m := roomNumber.FindStringSubmatch(k.room); m != nil {
					floor, _ = strconv.Atoi(m[1])
					seq, _ = strconv.Atoi(m[2])
				}
				return store.Place{CommunityID: comm.ID, GridID: parent.GridID, ParentID: parent.ID, Kind: store.PlaceRoom, Name: k.room,
					Address: parent.Address + k.room + "室", Floor: floor, Seq: seq, RoomUse: use, Survey: "surveyed"}
			})
			if err != nil {
				return err
			}
			if use != room.RoomUse || room.Survey != "surveyed" {
				if err := tx.UpdateRoom(ctx, room.ID, use, "surveyed"); err != nil {
					return err
				}
			}
			for _, i := range idx {
				if err := tx.CreatePerson(ctx, &persons[i]); err != nil {
					return err
				}
			}
			h := &store.Household{RoomID: room.ID, HeadID: persons[head].ID, Kind: kindH}
			if err := tx.CreateHousehold(ctx, h); err != nil {
				return err
			}
			res.Households++
			for _, i := range idx {
				if err := tx.AddMember(ctx, store.Member{HouseholdID: h.ID, PersonID: persons[i].ID, Relation: rows[i].Relation, Since: rows[i].Since}); err != nil {
					return err
				}
				res.People++
				done++
				if progress != nil && done%1000 == 0 {
					progress(done)
				}
			}
		}
		return tx.LogChange(ctx, &store.Change{EntityType: "community", EntityID: comm.ID, ActorID: a.id(), ActorName: a.name(),
			Source: store.SourceImport, Action: "import", Changes: jsonOf(map[string]any{"rows": res.People})})
	})
	if err != nil {
		return ImportResult{}, err
	}
	if progress != nil {
		progress(len(rows))
	}
	return res, nil
}

// personFromRow encrypts and indexes a parsed row.
func (s *Service) personFromRow(r ledgerio.Row) (store.Person, error) {
	p := store.Person{Name: r.Name, IDType: string(r.DocType), BirthDate: r.BirthDate, Sex: r.Sex, Ethnicity: r.Ethnicity,
		Residency: r.Residency, RegisteredRegion: r.ID.Region, RegisteredAddr: r.RegisteredAddress, Workplace: r.Workplace,
		Tags: strings.Join(r.Tags, ","), Notes: r.Notes, NameInitials: pinyin.Initials(r.Name)}
	var err error
	if p.IDEnc, err = s.Keys.EncryptString(r.ID.Number, ctxIDNumber); err != nil {
		return p, err
	}
	p.IDBidx = s.idIndex(r.DocType, r.ID.Number)
	p.IDMask = pii.MaskID(r.ID.Number)
	if r.Phone != "" {
		if p.PhoneEnc, err = s.Keys.EncryptString(r.Phone, ctxPhone); err != nil {
			return p, err
		}
		p.PhoneBidx = s.Keys.BlindIndex(r.Phone, bidxPhone)
		p.PhoneMask = pii.MaskPhone(r.Phone)
	}
	return p, nil
}
