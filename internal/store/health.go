package store

import (
	"context"
	"database/sql"
	"time"

	"shequ/internal/errs"
	"shequ/internal/ids"
)

// Sources of ledger data, kept with every health record and change.
const (
	SourceUI         = "ui"
	SourceImport     = "import"
	SourceVisit      = "visit"
	SourceSelfReport = "self_report"
	SourceDevice     = "device"
	SourcePartner    = "partner"
	SourceDemo       = "demo"
)

// HealthTest is a nucleic-acid, antigen or other test.
type HealthTest struct {
	ID          string
	PersonID    string
	Kind        string // nucleic, antigen, …
	SampledAt   time.Time
	ResultAt    time.Time
	Result      string // pending, negative, positive, invalid
	Institution string
	Source      string
	EnteredBy   string
}

// Vaccination is one vaccine dose.
type Vaccination struct {
	ID, PersonID, Vaccine string
	Dose                  int
	GivenOn               string
	Site, Lot             string
	Source, EnteredBy     string
}

// CodeSnapshot is a health-code colour seen at a time.
type CodeSnapshot struct {
	ID, PersonID, Colour string
	At                   time.Time
	Source, EnteredBy    string
}

// TravelDeclaration says where someone came from and when.
type TravelDeclaration struct {
	ID, PersonID, FromPlace, ArrivalDate, Transport string
	Source, EnteredBy                               string
}

// Monitoring is a health-monitoring or quarantine period.
type Monitoring struct {
	ID, PersonID, Kind, StartDate, EndDate, Reason string
	Source, EnteredBy, LiftedOn                    string
}

// AddTest records a test.
func (tx *Tx) AddTest(ctx context.Context, t *HealthTest) error {
	t.ID = orNew(t.ID)
	_, err := tx.exec(ctx, `INSERT INTO health_tests (id, person_id, kind, sampled_at, result_at, result, institution, source, entered_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, t.ID, t.PersonID, t.Kind, ms(t.SampledAt), ms(t.ResultAt), t.Result,
		t.Institution, t.Source, nullStr(t.EnteredBy), ms(tx.Now()))
	tx.markPerson(t.PersonID)
	return err
}

// AddVaccination records a dose.
func (tx *Tx) AddVaccination(ctx context.Context, v *Vaccination) error {
	v.ID = orNew(v.ID)
	_, err := tx.exec(ctx, `INSERT INTO vaccinations (id, person_id, vaccine, dose, given_on, site, lot, source, entered_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, v.ID, v.PersonID, v.Vaccine, v.Dose, v.GivenOn, v.Site, v.Lot, v.Source,
		nullStr(v.EnteredBy), ms(tx.Now()))
	tx.markPerson(v.PersonID)
	return err
}

// AddCodeSnapshot records a code colour.
func (tx *Tx) AddCodeSnapshot(ctx context.Context, c *CodeSnapshot) error {
	c.ID = orNew(c.ID)
	_, err := tx.exec(ctx, `INSERT INTO code_snapshots (id, person_id, colour, at, source, entered_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		c.ID, c.PersonID, c.Colour, ms(c.At), c.Source, nullStr(c.EnteredBy), ms(tx.Now()))
	return err
}

// AddTravel records a travel declaration.
func (tx *Tx) AddTravel(ctx context.Context, t *TravelDeclaration) error {
	t.ID = orNew(t.ID)
	_, err := tx.exec(ctx, `INSERT INTO travel_declarations (id, person_id, from_place, arrival_date, transport, source, entered_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, t.ID, t.PersonID, t.FromPlace, t.ArrivalDate, t.Transport, t.Source, nullStr(t.EnteredBy), ms(tx.Now()))
	return err
}

// AddMonitoring starts a monitoring or quarantine period.
func (tx *Tx) AddMonitoring(ctx context.Context, m *Monitoring) error {
	m.ID = orNew(m.ID)
	_, err := tx.exec(ctx, `INSERT INTO monitoring (id, person_id, kind, start_date, end_date, reason, source, entered_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, m.ID, m.PersonID, m.Kind, m.StartDate, m.EndDate, m.Reason, m.Source, nullStr(m.EnteredBy), ms(tx.Now()))
	tx.markPerson(m.PersonID)
	return err
}

// LiftMonitoring ends a period of a person early.
func (tx *Tx) LiftMonitoring(ctx context.Context, personID, id, on string) error {
	r, err := tx.exec(ctx, `UPDATE monitoring SET lifted_on = $1 WHERE id = $2 AND person_id = $3 AND lifted_on IS NULL`, on, id, personID)
	tx.markPerson(personID)
	if err != nil {
		return err
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return errs.E(errs.NotFound, "err.not_found")
	}
	return nil
}

// HealthRecords is everything health-related about a person.
type HealthRecords struct {
	Tests        []HealthTest
	Vaccinations []Vaccination
	Codes        []CodeSnapshot
	Travel       []TravelDeclaration
	Monitoring   []Monitoring
}

// Health loads a person's health records, newest first.
func (s *Store) Health(ctx context.Context, personID string) (HealthRecords, error) {
	var h HealthRecords
	rows, err := s.query(ctx, `SELECT id, kind, sampled_at, result_at, result, institution, source, COALESCE(entered_by, '')
		FROM health_tests WHERE person_id = $1 ORDER BY sampled_at DESC LIMIT 50`, personID)
	if err != nil {
		return h, err
	}
	for rows.Next() {
		t := HealthTest{PersonID: personID}
		var sampled int64
		var result sql.NullInt64
		if err := rows.Scan(&t.ID, &t.Kind, &sampled, &result, &t.Result, &t.Institution, &t.Source, &t.EnteredBy); err != nil {
			rows.Close()
			return h, err
		}
		t.SampledAt, t.ResultAt = time.UnixMilli(sampled).UTC(), fromMS(result)
		h.Tests = append(h.Tests, t)
	}
	rows.Close()
	rows, err = s.query(ctx, `SELECT id, vaccine, dose, given_on, site, lot, source, COALESCE(entered_by, '')
		FROM vaccinations WHERE person_id = $1 ORDER BY given_on DESC`, personID)
	if err != nil {
		return h, err
	}
	for rows.Next() {
		v := Vaccination{PersonID: personID}
		if err := rows.Scan(&v.ID, &v.Vaccine, &v.Dose, &v.GivenOn, &v.Site, &v.Lot, &v.Source, &v.EnteredBy); err != nil {
			rows.Close()
			return h, err
		}
		h.Vaccinations = append(h.Vaccinations, v)
	}
	rows.Close()
	rows, err = s.query(ctx, `SELECT id, colour, at, source, COALESCE(entered_by, '') FROM code_snapshots WHERE person_id = $1 ORDER BY at DESC LIMIT 20`, personID)
	if err != nil {
		return h, err
	}
	for rows.Next() {
		c := CodeSnapshot{PersonID: personID}
		var at int64
		if err := rows.Scan(&c.ID, &c.Colour, &at, &c.Source, &c.EnteredBy); err != nil {
			rows.Close()
			return h, err
		}
		c.At = time.UnixMilli(at).UTC()
		h.Codes = append(h.Codes, c)
	}
	rows.Close()
	rows, err = s.query(ctx, `SELECT id, from_place, arrival_date, transport, source, COALESCE(entered_by, '') FROM travel_declarations
		WHERE person_id = $1 ORDER BY arrival_date DESC LIMIT 20`, personID)
	if err != nil {
		return h, err
	}
	for rows.Next() {
		t := TravelDeclaration{PersonID: personID}
		if err := rows.Scan(&t.ID, &t.FromPlace, &t.ArrivalDate, &t.Transport, &t.Source, &t.EnteredBy); err != nil {
			rows.Close()
			return h, err
		}
		h.Travel = append(h.Travel, t)
	}
	rows.Close()
	rows, err = s.query(ctx, `SELECT id, kind, start_date, end_date, reason, source, COALESCE(entered_by, ''), COALESCE(lifted_on, '')
		FROM monitoring WHERE person_id = $1 ORDER BY start_date DESC`, personID)
	if err != nil {
		return h, err
	}
	defer rows.Close()
	for rows.Next() {
		m := Monitoring{PersonID: personID}
		if err := rows.Scan(&m.ID, &m.Kind, &m.StartDate, &m.EndDate, &m.Reason, &m.Source, &m.EnteredBy, &m.LiftedOn); err != nil {
			return h, err
		}
		h.Monitoring = append(h.Monitoring, m)
	}
	return h, rows.Err()
}

// Active reports whether a monitoring period covers the date.
func (m Monitoring) Active(today string) bool {
	return m.LiftedOn == "" && m.StartDate <= today && m.EndDate >= today
}

// Change is one line of the ledger's change history.
type Change struct {
	ID         string
	EntityType string // person, household, room, contract, health
	EntityID   string
	PersonID   string
	At         time.Time
	ActorID    string
	ActorName  string
	Source     string
	Action     string // create, update, move_in, move_out, merge, reveal …
	Reason     string
	Changes    string // JSON {"field": ["old", "new"]}, protected values masked
}

// LogChange appends to the change history.
func (tx *Tx) LogChange(ctx context.Context, c *Change) error {
	c.ID = orNew(c.ID)
	if c.At.IsZero() {
		c.At = tx.Now()
	}
	if c.Changes == "" {
		c.Changes = "{}"
	}
	if c.Action != "reveal" { // a reveal reads, it changes nothing
		tx.notePersonChanged(c.PersonID)
		if c.EntityType == "person" {
			tx.notePersonChanged(c.EntityID)
		}
	}
	_, err := tx.exec(ctx, `INSERT INTO change_log (id, entity_type, entity_id, person_id, at, actor_id, actor_name, source, action, reason, changes)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, c.ID, c.EntityType, c.EntityID, nullStr(c.PersonID), ms(c.At),
		nullStr(c.ActorID), c.ActorName, c.Source, c.Action, c.Reason, c.Changes)
	return err
}

// Timeline lists the changes about a person (as the subject or as the
// entity), newest first.
func (s *Store) Timeline(ctx context.Context, personID string, limit int) ([]Change, error) {
	return s.changes(ctx, `WHERE person_id = $1 OR (entity_type = 'person' AND entity_id = $1) ORDER BY at DESC, id DESC LIMIT $2`, personID, limit)
}

// EntityChanges lists the changes of one household, room or contract.
func (s *Store) EntityChanges(ctx context.Context, entityType, id string, limit int) ([]Change, error) {
	return s.changes(ctx, `WHERE entity_type = $1 AND entity_id = $2 ORDER BY at DESC, id DESC LIMIT $3`, entityType, id, limit)
}

func (s *Store) changes(ctx context.Context, where string, args ...any) ([]Change, error) {
	rows, err := s.query(ctx, `SELECT id, entity_type, entity_id, COALESCE(person_id, ''), at, COALESCE(actor_id, ''), actor_name, source, action, reason, changes
		FROM change_log `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Change
	for rows.Next() {
		var c Change
		var at int64
		if err := rows.Scan(&c.ID, &c.EntityType, &c.EntityID, &c.PersonID, &at, &c.ActorID, &c.ActorName, &c.Source, &c.Action, &c.Reason, &c.Changes); err != nil {
			return nil, err
		}
		c.At = time.UnixMilli(at).UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}

func orNew(id string) string {
	if id == "" {
		return ids.New()
	}
	return id
}

// GateFacts are the health facts an entry policy may need, each loaded
// only when asked for.
type GateFacts struct {
	Codes      []CodeSnapshot
	Tests      []HealthTest
	Doses      int
	Monitoring []Monitoring
}

// LoadGateFacts reads what the policy needs about a person at a gate.
func (s *Store) LoadGateFacts(ctx context.Context, personID string, codes, tests, doses, monitoring bool) (GateFacts, error) {
	var f GateFacts
	if codes {
		rows, err := s.query(ctx, `SELECT colour, at FROM code_snapshots WHERE person_id = $1 ORDER BY at DESC LIMIT 3`, personID)
		if err != nil {
			return f, err
		}
		for rows.Next() {
			var c CodeSnapshot
			var at int64
			if err := rows.Scan(&c.Colour, &at); err != nil {
				rows.Close()
				return f, err
			}
			c.At = time.UnixMilli(at).UTC()
			f.Codes = append(f.Codes, c)
		}
		rows.Close()
	}
	if tests {
		rows, err := s.query(ctx, `SELECT kind, result, sampled_at, result_at FROM health_tests WHERE person_id = $1 ORDER BY sampled_at DESC LIMIT 5`, personID)
		if err != nil {
			return f, err
		}
		for rows.Next() {
			var t HealthTest
			var sampled int64
			var res sql.NullInt64
			if err := rows.Scan(&t.Kind, &t.Result, &sampled, &res); err != nil {
				rows.Close()
				return f, err
			}
			t.SampledAt, t.ResultAt = time.UnixMilli(sampled).UTC(), fromMS(res)
			f.Tests = append(f.Tests, t)
		}
		rows.Close()
	}
	if doses {
		if err := s.queryRow(ctx, `SELECT count(*) FROM vaccinations WHERE person_id = $1`, personID).Scan(&f.Doses); err != nil {
			return f, s.classify(err)
		}
	}
	if monitoring {
		rows, err := s.query(ctx, `SELECT kind, start_date, end_date, COALESCE(lifted_on, '') FROM monitoring WHERE person_id = $1 AND end_date >= $2`,
			personID, s.Today())
		if err != nil {
			return f, err
		}
		defer rows.Close()
		for rows.Next() {
			var m Monitoring
			if err := rows.Scan(&m.Kind, &m.StartDate, &m.EndDate, &m.LiftedOn); err != nil {
				return f, err
			}
			f.Monitoring = append(f.Monitoring, m)
		}
		return f, rows.Err()
	}
	return f, nil
}
