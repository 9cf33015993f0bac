package gridwork

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"shequ/internal/access"
	"shequ/internal/errs"
	"shequ/internal/ledger"
	"shequ/internal/pii"
	"shequ/internal/store"
)

// VisitInput is a household visit as the phone sends it (queued offline
// or not).
type VisitInput struct {
	ClientID    string            `json:"client_id"`    // the phone's id for the visit: a resend is stored once
	RoomID      string            `json:"room_id"`      //
	BaseVersion int64             `json:"base_version"` // the room's version the worker saw
	Force       bool              `json:"force"`        // after a conflict: apply on top of what is there now
	At          time.Time         `json:"at"`           // when, by the phone's clock (zero: now)
	Met         string            `json:"met"`          // who was met
	Changes     []MemberChange    `json:"changes"`      //
	Health      []HealthEntry     `json:"health"`       //
	Needs       []string          `json:"needs"`        //
	Notes       string            `json:"notes"`        //
	Answers     map[string]string `json:"answers"`      // checklist item → ok, problem or n/a
	Lat         float64           `json:"lat"`          //
	Lng         float64           `json:"lng"`          //
	Photos      []Photo           `json:"photos"`       //
}

// MemberChange is a change of a household's members found on a visit.
type MemberChange struct {
	Kind        string `json:"kind"` // moved_out, deceased, new_tenant, newborn, new_member
	PersonID    string `json:"person_id,omitempty"`
	HouseholdID string `json:"household_id,omitempty"`
	On          string `json:"on,omitempty"` // date; default today
	// New people:
	Name      string `json:"name,omitempty"`
	IDNumber  string `json:"id_number,omitempty"`
	Sex       int    `json:"sex,omitempty"`
	BirthDate string `json:"birth_date,omitempty"`
	Phone     string `json:"phone,omitempty"`
	Relation  string `json:"relation,omitempty"`
}

// HealthEntry is a vaccination or test a visit learned of.
type HealthEntry struct {
	PersonID  string    `json:"person_id"`
	Kind      string    `json:"kind"` // vaccination or test
	Vaccine   string    `json:"vaccine,omitempty"`
	Dose      int       `json:"dose,omitempty"`
	GivenOn   string    `json:"given_on,omitempty"`
	TestKind  string    `json:"test_kind,omitempty"`
	Result    string    `json:"result,omitempty"`
	SampledAt time.Time `json:"sampled_at,omitzero"`
}

// Photo is a photo taken on a visit.
type Photo struct {
	Data []byte `json:"data"` // base64 in JSON
}

// Limits of a visit.
const (
	MaxPhotos     = 4
	MaxPhotoBytes = 2 << 20
	maxText       = 2000
)

// VisitResult is what the phone learns back.
type VisitResult struct {
	VisitID         string   `json:"visit_id"`
	Duplicate       bool     `json:"duplicate"` // sent before: nothing new was stored
	ClosedCampaigns []string `json:"closed_campaigns,omitempty"`
}

var memberKinds = map[string]bool{"moved_out": true, "deceased": true, "new_tenant": true, "newborn": true, "new_member": true}

// RecordVisit stores a visit and the ledger changes it found, in one
// transaction: all of them or none. A visit for a room outside the
// worker's grids is Forbidden (the caller audits it). A visit that
// changes members of a room someone else changed since the worker's
// snapshot is a Conflict, unless Force.
func (s *Service) RecordVisit(ctx context.Context, p *access.Principal, in VisitInput) (VisitResult, error) {
	room, path, err := s.Store.Place(ctx, in.RoomID)
	if errs.Is(err, errs.NotFound) {
		return VisitResult{}, errs.E(errs.Invalid, "err.visit.room").OnField("room_id")
	}
	if err != nil {
		return VisitResult{}, err
	}
	if room.Kind != store.PlaceRoom || room.GridID == "" || !p.Can(access.GridWork, path) {
		return VisitResult{}, errs.E(errs.Forbidden, "err.visit.not_my_grid")
	}
	if in.ClientID == "" || len(in.ClientID) > 64 {
		return VisitResult{}, errs.E(errs.Invalid, "err.visit.client_id").OnField("client_id")
	}
	if id, err := s.Store.VisitByClient(ctx, p.UserID, in.ClientID); err == nil {
		return VisitResult{VisitID: id, Duplicate: true}, nil
	}
	now := s.Store.Now()
	if in.At.IsZero() {
		in.At = now
	}
	v := store.Visit{RoomID: room.ID, GridID: room.GridID, UserID: p.UserID, ClientID: in.ClientID, At: in.At, ReceivedAt: now,
		Met: trimmed(in.Met, 200), Notes: trimmed(in.Notes, maxText), Lat: in.Lat, Lng: in.Lng}
	if err := s.checkVisit(in, now); err != nil {
		return VisitResult{}, err
	}
	v.Needs = strings.Join(in.Needs, ",")
	if len(in.Answers) > 0 {
		b, _ := json.Marshal(in.Answers)
		v.Answers = string(b)
	}
	a := ledger.Actor{P: p, Source: store.SourceVisit}
	steps, summary, err := s.planChanges(ctx, a, room, in)
	if err != nil {
		return VisitResult{}, err
	}
	if len(summary) > 0 {
		b, _ := json.Marshal(summary)
		v.Changes = string(b)
	}
	var photos [][]byte
	for _, ph := range in.Photos {
		enc, err := s.Keys.Encrypt(ph.Data, "visit_photos.photo")
		if err != nil {
			return VisitResult{}, err
		}
		photos = append(photos, enc)
	}
	res := VisitResult{}
	err = s.Store.Write(ctx, func(tx *store.Tx) error {
		isNew, err := tx.InsertVisit(ctx, &v)
		if err != nil || !isNew {
			res.Duplicate = !isNew
			return err
		}
		if len(in.Changes) > 0 && !in.Force { // only member changes can clash
			if cur, err := tx.RoomVersion(ctx, room.ID); err != nil {
				return err
			} else if cur != in.BaseVersion {
				return errs.E(errs.Conflict, "err.visit.conflict")
			}
		}
		for _, st := range steps {
			if err := st(ctx, tx); err != nil {
				return err
			}
		}
		for i, enc := range photos {
			if err := tx.AddVisitPhoto(ctx, v.ID, http.DetectContentType(in.Photos[i].Data), enc); err != nil {
				return err
			}
		}
		if err := tx.TouchVisit(ctx, room.ID, v.At); err != nil {
			return err
		}
		if res.ClosedCampaigns, err = tx.CompleteTasks(ctx, room.ID, v.ID, p.UserID, now); err != nil {
			return err
		}
		return tx.LogChange(ctx, &store.Change{EntityType: "room", EntityID: room.ID, ActorID: p.UserID, ActorName: p.Name,
			Source: store.SourceVisit, Action: "visit", Changes: visitSummary(v)})
	})
	res.VisitID = v.ID
	return res, err
}

// checkVisit checks what a visit carries besides member changes.
func (s *Service) checkVisit(in VisitInput, now time.Time) error {
	switch {
	case in.At.After(now.Add(time.Hour)):
		return errs.E(errs.Invalid, "err.visit.at").OnField("at")
	case len([]rune(in.Notes)) > maxText:
		return errs.E(errs.Invalid, "err.visit.notes", maxText).OnField("notes")
	case len(in.Photos) > MaxPhotos:
		return errs.E(errs.Invalid, "err.visit.photo_count", MaxPhotos).OnField("photos")
	}
	for _, n := range in.Needs {
		if !slices.Contains(Needs, n) {
			return errs.E(errs.Invalid, "err.visit.need").OnField("needs")
		}
	}
	for _, ans := range in.Answers {
		if ans != "ok" && ans != "problem" && ans != "na" {
			return errs.E(errs.Invalid, "err.visit.answer").OnField("answers")
		}
	}
	for _, ph := range in.Photos {
		if len(ph.Data) > MaxPhotoBytes {
			return errs.E(errs.Invalid, "err.visit.photo_size", MaxPhotoBytes>>20).OnField("photos")
		}
		if ct := http.DetectContentType(ph.Data); ct != "image/jpeg" && ct != "image/png" && ct != "image/webp" {
			return errs.E(errs.Invalid, "err.visit.photo_type").OnField("photos")
		}
	}
	return nil
}

// planChanges checks the member changes and health entries of a visit and
// returns them as ledger steps, with a masked summary for the history.
func (s *Service) planChanges(ctx context.Context, a ledger.Actor, room store.Place, in VisitInput) ([]ledger.Step, []map[string]string, error) {
	var steps []ledger.Step
	var summary []map[string]string
	today := s.Store.Today()
	for _, c := range in.Changes {
		if !memberKinds[c.Kind] {
			return nil, nil, errs.E(errs.Invalid, "err.visit.change_kind").OnField("changes")
		}
		on := c.On
		if on == "" {
			on = today
		}
		switch c.Kind {
		case "moved_out", "deceased":
			action := "move_out"
			if c.Kind == "deceased" {
				action = "deceased"
			}
			st, err := s.Ledger.PlanMoveOut(ctx, a, c.PersonID, c.HouseholdID, on, action, "")
			if errs.Is(err, errs.NotFound) {
				return nil, nil, errs.E(errs.Invalid, "err.visit.not_member").OnField("changes")
			}
			if err != nil {
				return nil, nil, err
			}
			steps = append(steps, st)
			summary = append(summary, map[string]string{"kind": c.Kind, "person": c.PersonID, "on": on})
		default:
			relation := c.Relation
			if relation == "" {
				relation = map[string]string{"newborn": "20", "new_tenant": "99", "new_member": "99"}[c.Kind]
			}
			if c.HouseholdID != "" && !s.householdInRoom(ctx, c.HouseholdID, room.ID) {
				return nil, nil, errs.E(errs.Invalid, "err.visit.household").OnField("changes")
			}
			residency := "registered"
			if c.Kind == "new_tenant" {
				residency = "floating"
			}
			pin := ledger.PersonInput{Name: c.Name, DocType: pii.DocResidentID, IDNumber: c.IDNumber, Sex: c.Sex, BirthDate: c.BirthDate,
				Phone: c.Phone, Residency: residency}
			if c.HouseholdID == "" {
				relation = "02" // a new household, headed by this person
			}
			_, st, err := s.Ledger.PlanMoveIn(ctx, a, room.ID, c.HouseholdID, pin, relation, on)
			if err != nil {
				return nil, nil, err
			}
			steps = append(steps, st)
			summary = append(summary, map[string]string{"kind": c.Kind, "name": pii.MaskName(c.Name), "on": on})
		}
	}
	members := map[string]bool{}
	if len(in.Health) > 0 {
		// Who lives in this room now (not the whole grid: a grid can hold
		// 15,000 people, and this runs for every visit with a health entry).
		_, hms, err := s.Store.RoomHouseholds(ctx, room.ID)
		if err != nil {
			return nil, nil, err
		}
		for _, ms := range hms {
			for _, m := range ms {
				if m.Until == "" || m.Until >= today {
					members[m.ID] = true
				}
			}
		}
	}
	for _, h := range in.Health {
		if !members[h.PersonID] {
			return nil, nil, errs.E(errs.Invalid, "err.visit.not_member").OnField("health")
		}
		var st ledger.Step
		var err error
		switch h.Kind {
		case "vaccination":
			st, err = s.Ledger.PlanVaccination(ctx, a, store.Vaccination{PersonID: h.PersonID, Vaccine: h.Vaccine, Dose: h.Dose, GivenOn: h.GivenOn})
		case "test":
			st, err = s.Ledger.PlanTest(ctx, a, store.HealthTest{PersonID: h.PersonID, Kind: h.TestKind, Result: h.Result, SampledAt: h.SampledAt})
		default:
			err = errs.E(errs.Invalid, "err.visit.health_kind").OnField("health")
		}
		if err != nil {
			return nil, nil, err
		}
		steps = append(steps, st)
		summary = append(summary, map[string]string{"kind": h.Kind, "person": h.PersonID})
	}
	return steps, summary, nil
}

func (s *Service) householdInRoom(ctx context.Context, householdID, roomID string) bool {
	ms, err := s.Store.HouseholdRoom(ctx, householdID)
	return err == nil && ms == roomID
}

// visitSummary is the history line of a visit: what was found, never who.
func visitSummary(v store.Visit) string {
	b, _ := json.Marshal(map[string]any{"needs": v.Needs, "changes": json.RawMessage(orNull(v.Changes)), "notes": v.Notes != ""})
	return string(b)
}

func orNull(s string) string {
	if s == "" {
		return "null"
	}
	return s
}
