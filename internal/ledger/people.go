package ledger

import (
	"context"
	"strings"
	"time"

	"shequ/internal/access"
	"shequ/internal/errs"
	"shequ/internal/pii"
	"shequ/internal/store"
)

// Actor is who changes the ledger, and through what.
type Actor struct {
	P      *access.Principal // nil: the system (import from the command line, demo)
	Source string
	IP     string
}

func (a Actor) id() string {
	if a.P == nil {
		return ""
	}
	return a.P.UserID
}

func (a Actor) name() string {
	if a.P == nil {
		return "system"
	}
	return a.P.Name
}

func (a Actor) source() string {
	if a.Source == "" {
		return store.SourceUI
	}
	return a.Source
}

// mayEditPlace checks the actor may change the ledger at a room.
func (s *Service) mayEditPlace(ctx context.Context, a Actor, placeID string) (store.Place, error) {
	pl, path, err := s.Store.Place(ctx, placeID)
	if err != nil {
		return pl, err
	}
	if a.P != nil && !a.P.Can(access.PersonEdit, path) {
		return pl, errs.E(errs.Forbidden, "err.forbidden")
	}
	return pl, nil
}

// Step is a checked ledger change waiting to be written inside a
// caller's transaction: a household visit writes several, or none.
type Step func(ctx context.Context, tx *store.Tx) error

// Apply writes steps in one transaction.
func (s *Service) Apply(ctx context.Context, steps ...Step) error {
	return s.Store.Write(ctx, func(tx *store.Tx) error {
		for _, st := range steps {
			if err := st(ctx, tx); err != nil {
				return err
			}
		}
		return nil
	})
}

// MoveIn adds a person (new, or found by identity number) to a household in
// a room. relation "02" (head) with householdID "" starts a new household.
func (s *Service) MoveIn(ctx context.Context, a Actor, roomID, householdID string, in PersonInput, relation, since string) (store.Person, error) {
	p, step, err := s.PlanMoveIn(ctx, a, roomID, householdID, in, relation, since)
	if err != nil {
		return store.Person{}, err
	}
	err = s.Apply(ctx, step) // fills p's id
	return *p, err
}

// PlanMoveIn checks a move-in and returns it as a step; the person is
// filled (with their id) when the step is written.
func (s *Service) PlanMoveIn(ctx context.Context, a Actor, roomID, householdID string, in PersonInput, relation, since string) (*store.Person, Step, error) {
	room, err := s.mayEditPlace(ctx, a, roomID)
	if err != nil {
		return nil, nil, err
	}
	if room.Kind != store.PlaceRoom {
		return nil, nil, errs.E(errs.Invalid, "err.place.not_room")
	}
	if !contains(Relations, relation) {
		return nil, nil, errs.E(errs.Invalid, "err.person.relation").OnField("relation")
	}
	if since == "" {
		since = s.Store.Today()
	} else if _, err := time.Parse("2006-01-02", since); err != nil {
		return nil, nil, errs.E(errs.Invalid, "err.date").OnField("since")
	}
	p, err := s.Normalize(in, s.Store.Now())
	if err != nil {
		return nil, nil, err
	}
	existing, err := s.Store.PersonsByIDBidx(ctx, p.IDBidx)
	if err != nil {
		return nil, nil, err
	}
	return &p, func(ctx context.Context, tx *store.Tx) error {
		action := "create"
		if len(existing) > 0 {
			// The same person moves (also) here: keep one record.
			p.ID = existing[0].ID
			action = "move_in"
		} else if err := tx.CreatePerson(ctx, &p); err != nil {
			return err
		}
		hid := householdID
		if hid == "" {
			kind := "family"
			if p.Residency == "floating" {
				kind = "rental"
			}
			h := &store.Household{RoomID: roomID, HeadID: p.ID, Kind: kind}
			if err := tx.CreateHousehold(ctx, h); err != nil {
				return err
			}
			hid = h.ID
		}
		if err := tx.AddMember(ctx, store.Member{HouseholdID: hid, PersonID: p.ID, Relation: relation, Since: since}); err != nil {
			if errs.Is(err, errs.Conflict) {
				return errs.E(errs.Conflict, "err.person.already_member")
			}
			return err
		}
		return tx.LogChange(ctx, &store.Change{EntityType: "household", EntityID: hid, PersonID: p.ID, ActorID: a.id(),
			ActorName: a.name(), Source: a.source(), Action: action,
			Changes: jsonOf(map[string]any{"room": room.Address, "relation": relation, "since": since})})
	}, nil
}

// Update changes a person's facts, recording what changed and why.
func (s *Service) Update(ctx context.Context, a Actor, personID string, in PersonInput, reason string) error {
	if a.P != nil {
		ok, err := s.MayView(ctx, a.P, access.PersonEdit, personID)
		if err != nil {
			return err
		}
		if !ok {
			return errs.E(errs.Forbidden, "err.forbidden")
		}
	}
	old, err := s.Store.Person(ctx, personID)
	if err != nil {
		return err
	}
	if in.IDNumber == "" {
		// The form leaves the protected number blank unless it is changed.
		plain, err := s.Keys.DecryptString(old.IDEnc, ctxIDNumber)
		if err != nil {
			return err
		}
		in.IDNumber = plain
		if in.DocType == "" {
			in.DocType = docType(old.IDType)
		}
	}
	// A blank phone field keeps the stored phone (it is never sent to the
	// browser in the clear to be sent back).
	keepPhone := in.Phone == ""
	p, err := s.Normalize(in, s.Store.Now())
	if err != nil {
		return err
	}
	if keepPhone {
		p.PhoneEnc, p.PhoneBidx, p.PhoneMask = old.PhoneEnc, old.PhoneBidx, old.PhoneMask
	}
	p.ID = personID
	changes := diff(old, p)
	if len(changes) == 0 {
		return nil
	}
	return s.Store.Write(ctx, func(tx *store.Tx) error {
		if err := tx.UpdatePerson(ctx, &p); err != nil {
			return err
		}
		return tx.LogChange(ctx, &store.Change{EntityType: "person", EntityID: personID, PersonID: personID, ActorID: a.id(),
			ActorName: a.name(), Source: a.source(), Action: "update", Reason: strings.TrimSpace(reason), Changes: jsonOf(changes)})
	})
}

// MoveOut ends a person's membership of a household on a date.
func (s *Service) MoveOut(ctx context.Context, a Actor, personID, householdID, on, reason string) error {
	step, err := s.PlanMoveOut(ctx, a, personID, householdID, on, "move_out", reason)
	if err != nil {
		return err
	}
	return s.Apply(ctx, step)
}

// PlanMoveOut checks a move-out (action "move_out", or "deceased") and
// returns it as a step.
func (s *Service) PlanMoveOut(ctx context.Context, a Actor, personID, householdID, on, action, reason string) (Step, error) {
	if _, err := time.Parse("2006-01-02", on); err != nil {
		return nil, errs.E(errs.Invalid, "err.date").OnField("on")
	}
	ms, err := s.Store.Memberships(ctx, personID)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		if m.HouseholdID != householdID {
			continue
		}
		if a.P != nil && !a.P.Can(access.PersonEdit, m.Path) {
			return nil, errs.E(errs.Forbidden, "err.forbidden")
		}
		return func(ctx context.Context, tx *store.Tx) error {
			if err := tx.EndMembership(ctx, householdID, personID, on); err != nil {
				return err
			}
			return tx.LogChange(ctx, &store.Change{EntityType: "household", EntityID: householdID, PersonID: personID, ActorID: a.id(),
				ActorName: a.name(), Source: a.source(), Action: action, Reason: reason, Changes: jsonOf(map[string]any{"room": m.Address, "until": on})})
		}, nil
	}
	return nil, errs.E(errs.NotFound, "err.not_found")
}

// SetRoom changes a room's use and survey status.
func (s *Service) SetRoom(ctx context.Context, a Actor, roomID, use, survey, reason string) error {
	room, err := s.mayEditPlace(ctx, a, roomID)
	if err != nil {
		return err
	}
	if room.Kind != store.PlaceRoom {
		return errs.E(errs.Invalid, "err.place.not_room")
	}
	if use != "" && !contains(RoomUses, use) {
		return errs.E(errs.Invalid, "err.room.use").OnField("room_use")
	}
	if !contains([]string{"pending", "surveyed", "flagged"}, survey) {
		return errs.E(errs.Invalid, "err.room.survey").OnField("survey")
	}
	if use == room.RoomUse && survey == room.Survey {
		return nil
	}
	return s.Store.Write(ctx, func(tx *store.Tx) error {
		if err := tx.UpdateRoom(ctx, roomID, use, survey); err != nil {
			return err
		}
		ch := map[string][2]string{}
		if use != room.RoomUse {
			ch["room_use"] = [2]string{room.RoomUse, use}
		}
		if survey != room.Survey {
			ch["survey"] = [2]string{room.Survey, survey}
		}
		return tx.LogChange(ctx, &store.Change{EntityType: "room", EntityID: roomID, ActorID: a.id(), ActorName: a.name(),
			Source: a.source(), Action: "update", Reason: reason, Changes: jsonOf(ch)})
	})
}

func docType(s string) (t pii.DocType) { return pii.DocType(s) }
