package ledger

import (
	"context"
	"net/http"
	"strings"
	"time"

	"shequ/internal/access"
	"shequ/internal/errs"
	"shequ/internal/store"
)

// MaxScanBytes limits an uploaded contract scan.
const MaxScanBytes = 5 << 20

// ContractInput is a new rental contract.
type ContractInput struct {
	RoomID     string
	LandlordID string // an owner of the room (optional)
	Tenants    []PersonInput
	StartDate  string
	EndDate    string
	Rent       int
	Form       map[string]string // information-collection form fields
	Scan       []byte
	ScanName   string
}

// CreateContract records a rental contract: the tenants become a rental
// household of the room from the start date until the end date, after
// which their residency ends by itself.
func (s *Service) CreateContract(ctx context.Context, a Actor, in ContractInput) (store.Contract, error) {
	var c store.Contract
	room, err := s.mayEditPlace(ctx, a, in.RoomID)
	if err != nil {
		return c, err
	}
	if room.Kind != store.PlaceRoom {
		return c, errs.E(errs.Invalid, "err.place.not_room")
	}
	start, err1 := time.Parse("2006-01-02", in.StartDate)
	end, err2 := time.Parse("2006-01-02", in.EndDate)
	switch {
	case err1 != nil:
		return c, errs.E(errs.Invalid, "err.date").OnField("start_date")
	case err2 != nil:
		return c, errs.E(errs.Invalid, "err.date").OnField("end_date")
	case !end.After(start):
		return c, errs.E(errs.Invalid, "err.contract.end_before_start").OnField("end_date")
	case len(in.Tenants) == 0:
		return c, errs.E(errs.Invalid, "err.contract.no_tenant").OnField("tenants")
	case in.Rent < 0:
		return c, errs.E(errs.Invalid, "err.contract.rent").OnField("rent")
	}
	if in.LandlordID != "" {
		owners, err := s.Store.Owners(ctx, in.RoomID)
		if err != nil {
			return c, err
		}
		found := false
		for _, o := range owners {
			found = found || o.ID == in.LandlordID
		}
		if !found {
			return c, errs.E(errs.Invalid, "err.contract.landlord").OnField("landlord")
		}
	}
	var scanType string
	if len(in.Scan) > 0 {
		if len(in.Scan) > MaxScanBytes {
			return c, errs.E(errs.Invalid, "err.file.too_large", MaxScanBytes>>20).OnField("scan")
		}
		scanType = http.DetectContentType(in.Scan)
		if scanType != "application/pdf" && !strings.HasPrefix(scanType, "image/jpeg") && !strings.HasPrefix(scanType, "image/png") {
			return c, errs.E(errs.Invalid, "err.file.type").OnField("scan")
		}
	}
	tenants := make([]store.Person, len(in.Tenants))
	for i, t := range in.Tenants {
		if t.Residency == "" {
			t.Residency = "floating"
		}
		p, err := s.Normalize(t, s.Store.Now())
		if err != nil {
			if e, ok := errs.As(err); ok {
				return c, e.OnField("tenant" + string(rune('1'+i)) + "_" + e.Field)
			}
			return c, err
		}
		existing, err := s.Store.PersonsByIDBidx(ctx, p.IDBidx)
		if err != nil {
			return c, err
		}
		if len(existing) > 0 {
			p.ID = existing[0].ID
		}
		tenants[i] = p
	}
	c = store.Contract{RoomID: in.RoomID, LandlordID: in.LandlordID, StartDate: in.StartDate, EndDate: in.EndDate, Rent: in.Rent,
		Form: jsonOf(in.Form), ScanName: in.ScanName, ScanType: scanType}
	if len(in.Scan) > 0 {
		if c.ScanEnc, err = s.Keys.Encrypt(in.Scan, ctxScan); err != nil {
			return c, err
		}
	}
	err = s.Store.Write(ctx, func(tx *store.Tx) error {
		h := &store.Household{RoomID: in.RoomID, Kind: "rental"}
		var ids []string
		for i := range tenants {
			if tenants[i].ID == "" {
				if err := tx.CreatePerson(ctx, &tenants[i]); err != nil {
					return err
				}
			}
			ids = append(ids, tenants[i].ID)
		}
		h.HeadID = ids[0]
		if err := tx.CreateHousehold(ctx, h); err != nil {
			return err
		}
		c.HouseholdID = h.ID
		for i, id := range ids {
			rel := "99"
			if i == 0 {
				rel = "02"
			}
			if err := tx.AddMember(ctx, store.Member{HouseholdID: h.ID, PersonID: id, Relation: rel, Since: in.StartDate}); err != nil {
				return err
			}
			if err := tx.EndMembership(ctx, h.ID, id, in.EndDate); err != nil {
				return err
			}
		}
		if err := tx.CreateContract(ctx, &c, ids, a.id()); err != nil {
			return err
		}
		if room.RoomUse != "rented" && room.RoomUse != "group_rental" {
			if err := tx.UpdateRoom(ctx, room.ID, "rented", room.Survey); err != nil {
				return err
			}
		}
		for _, id := range ids {
			if err := tx.LogChange(ctx, &store.Change{EntityType: "contract", EntityID: c.ID, PersonID: id, ActorID: a.id(), ActorName: a.name(),
				Source: a.source(), Action: "create", Changes: jsonOf(map[string]any{"room": room.Address, "start": in.StartDate, "end": in.EndDate})}); err != nil {
				return err
			}
		}
		return nil
	})
	return c, err
}

// EndContract ends a contract early; the tenants' residency ends that day.
func (s *Service) EndContract(ctx context.Context, a Actor, contractID, on, reason string) error {
	c, path, err := s.Store.Contract(ctx, contractID)
	if err != nil {
		return err
	}
	if a.P != nil && !a.P.Can(access.PersonEdit, path) {
		return errs.E(errs.Forbidden, "err.forbidden")
	}
	if _, err := time.Parse("2006-01-02", on); err != nil {
		return errs.E(errs.Invalid, "err.date").OnField("on")
	}
	if c.EndedOn != "" {
		return errs.E(errs.Conflict, "err.contract.already_ended")
	}
	return s.Store.Write(ctx, func(tx *store.Tx) error {
		if err := tx.EndContract(ctx, contractID, on); err != nil {
			return err
		}
		return tx.LogChange(ctx, &store.Change{EntityType: "contract", EntityID: contractID, ActorID: a.id(), ActorName: a.name(),
			Source: a.source(), Action: "end", Reason: reason, Changes: jsonOf(map[string]any{"ended_on": on})})
	})
}

// Scan decrypts a contract's scan for someone allowed to read it.
func (s *Service) Scan(ctx context.Context, p *access.Principal, contractID string) ([]byte, store.Contract, error) {
	c, path, err := s.Store.Contract(ctx, contractID)
	if err != nil {
		return nil, c, err
	}
	if !p.Can(access.PIIReveal, path) {
		return nil, c, errs.E(errs.Forbidden, "err.forbidden")
	}
	ct, err := s.Store.ContractScan(ctx, contractID)
	if err != nil || len(ct) == 0 {
		return nil, c, errs.E(errs.NotFound, "err.not_found")
	}
	b, err := s.Keys.Decrypt(ct, ctxScan)
	return b, c, err
}
