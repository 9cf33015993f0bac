package ledger

import (
	"context"
	"time"

	"shequ/internal/access"
	"shequ/internal/errs"
	"shequ/internal/store"
)

// Health record kinds accepted from forms and imports. They are data, not
// rules: what counts as "recent" or "valid" is the entry policy's business.
var (
	TestKinds       = []string{"nucleic", "antigen", "antibody"}
	TestResults     = []string{"pending", "negative", "positive", "invalid"}
	CodeColours     = []string{"green", "yellow", "red", "grey"}
	MonitoringKinds = []string{"health_monitoring", "home_quarantine", "central_quarantine"}
)

func (s *Service) mayEditPerson(ctx context.Context, a Actor, personID string) error {
	if a.P == nil {
		return nil
	}
	ok, err := s.MayView(ctx, a.P, access.PersonEdit, personID)
	if err != nil {
		return err
	}
	if !ok {
		return errs.E(errs.Forbidden, "err.forbidden")
	}
	return nil
}

// record writes one health record and its line in the person's timeline.
func (s *Service) record(ctx context.Context, a Actor, personID, kind string, detail map[string]any, write func(tx *store.Tx) error) error {
	step, err := s.planRecord(ctx, a, personID, kind, detail, write)
	if err != nil {
		return err
	}
	return s.Apply(ctx, step)
}

func (s *Service) planRecord(ctx context.Context, a Actor, personID, kind string, detail map[string]any, write func(tx *store.Tx) error) (Step, error) {
	if err := s.mayEditPerson(ctx, a, personID); err != nil {
		return nil, err
	}
	return func(ctx context.Context, tx *store.Tx) error {
		if err := write(tx); err != nil {
			return err
		}
		return tx.LogChange(ctx, &store.Change{EntityType: "health", EntityID: personID, PersonID: personID, ActorID: a.id(),
			ActorName: a.name(), Source: a.source(), Action: kind, Changes: jsonOf(detail)})
	}, nil
}

// AddTest records a test result.
func (s *Service) AddTest(ctx context.Context, a Actor, t store.HealthTest) error {
	step, err := s.PlanTest(ctx, a, t)
	if err != nil {
		return err
	}
	return s.Apply(ctx, step)
}

// PlanTest checks a test result and returns it as a step.
func (s *Service) PlanTest(ctx context.Context, a Actor, t store.HealthTest) (Step, error) {
	switch {
	case !contains(TestKinds, t.Kind):
		return nil, errs.E(errs.Invalid, "err.health.kind").OnField("kind")
	case !contains(TestResults, t.Result):
		return nil, errs.E(errs.Invalid, "err.health.result").OnField("result")
	case t.SampledAt.IsZero() || t.SampledAt.After(s.Store.Now().Add(time.Hour)):
		return nil, errs.E(errs.Invalid, "err.health.sampled").OnField("sampled_at")
	case !t.ResultAt.IsZero() && t.ResultAt.Before(t.SampledAt):
		return nil, errs.E(errs.Invalid, "err.health.result_before_sample").OnField("result_at")
	}
	t.Source, t.EnteredBy = a.source(), a.id()
	return s.planRecord(ctx, a, t.PersonID, "test", map[string]any{"kind": t.Kind, "result": t.Result, "sampled": t.SampledAt.Format(time.RFC3339)},
		func(tx *store.Tx) error { return tx.AddTest(ctx, &t) })
}

// AddVaccination records a dose.
func (s *Service) AddVaccination(ctx context.Context, a Actor, v store.Vaccination) error {
	step, err := s.PlanVaccination(ctx, a, v)
	if err != nil {
		return err
	}
	return s.Apply(ctx, step)
}

// PlanVaccination checks a dose and returns it as a step.
func (s *Service) PlanVaccination(ctx context.Context, a Actor, v store.Vaccination) (Step, error) {
	d, err := time.Parse("2006-01-02", v.GivenOn)
	switch {
	case v.Vaccine == "":
		return nil, errs.E(errs.Invalid, "err.health.vaccine").OnField("vaccine")
	case v.Dose < 1 || v.Dose > 10:
		return nil, errs.E(errs.Invalid, "err.health.dose").OnField("dose")
	case err != nil || d.After(s.Store.Now()):
		return nil, errs.E(errs.Invalid, "err.date").OnField("given_on")
	}
	v.Source, v.EnteredBy = a.source(), a.id()
	return s.planRecord(ctx, a, v.PersonID, "vaccination", map[string]any{"vaccine": v.Vaccine, "dose": v.Dose, "date": v.GivenOn},
		func(tx *store.Tx) error { return tx.AddVaccination(ctx, &v) })
}

// AddCode records a health-code colour.
func (s *Service) AddCode(ctx context.Context, a Actor, c store.CodeSnapshot) error {
	if !contains(CodeColours, c.Colour) {
		return errs.E(errs.Invalid, "err.health.colour").OnField("colour")
	}
	if c.At.IsZero() {
		c.At = s.Store.Now()
	}
	c.Source, c.EnteredBy = a.source(), a.id()
	return s.record(ctx, a, c.PersonID, "code", map[string]any{"colour": c.Colour},
		func(tx *store.Tx) error { return tx.AddCodeSnapshot(ctx, &c) })
}

// AddTravel records a travel declaration.
func (s *Service) AddTravel(ctx context.Context, a Actor, t store.TravelDeclaration) error {
	step, err := s.PlanTravel(ctx, a, t)
	if err != nil {
		return err
	}
	return s.Apply(ctx, step)
}

// PlanTravel checks a travel declaration and returns it as a step.
func (s *Service) PlanTravel(ctx context.Context, a Actor, t store.TravelDeclaration) (Step, error) {
	if t.FromPlace == "" {
		return nil, errs.E(errs.Invalid, "err.health.from").OnField("from_place")
	}
	if _, err := time.Parse("2006-01-02", t.ArrivalDate); err != nil {
		return nil, errs.E(errs.Invalid, "err.date").OnField("arrival_date")
	}
	t.Source, t.EnteredBy = a.source(), a.id()
	return s.planRecord(ctx, a, t.PersonID, "travel", map[string]any{"from": t.FromPlace, "arrival": t.ArrivalDate},
		func(tx *store.Tx) error { return tx.AddTravel(ctx, &t) })
}

// StartMonitoring puts a person under health monitoring or quarantine.
func (s *Service) StartMonitoring(ctx context.Context, a Actor, m store.Monitoring) error {
	step, err := s.PlanMonitoring(ctx, a, m)
	if err != nil {
		return err
	}
	return s.Apply(ctx, step)
}

// PlanMonitoring checks a monitoring period and returns it as a step.
func (s *Service) PlanMonitoring(ctx context.Context, a Actor, m store.Monitoring) (Step, error) {
	start, err1 := time.Parse("2006-01-02", m.StartDate)
	end, err2 := time.Parse("2006-01-02", m.EndDate)
	switch {
	case !contains(MonitoringKinds, m.Kind):
		return nil, errs.E(errs.Invalid, "err.health.monitoring_kind").OnField("kind")
	case err1 != nil:
		return nil, errs.E(errs.Invalid, "err.date").OnField("start_date")
	case err2 != nil || end.Before(start):
		return nil, errs.E(errs.Invalid, "err.contract.end_before_start").OnField("end_date")
	}
	m.Source, m.EnteredBy = a.source(), a.id()
	return s.planRecord(ctx, a, m.PersonID, "monitoring", map[string]any{"kind": m.Kind, "start": m.StartDate, "end": m.EndDate, "reason": m.Reason},
		func(tx *store.Tx) error { return tx.AddMonitoring(ctx, &m) })
}

// LiftMonitoring ends a monitoring period early.
func (s *Service) LiftMonitoring(ctx context.Context, a Actor, personID, monitoringID string) error {
	today := s.Store.Today()
	return s.record(ctx, a, personID, "monitoring_lifted", map[string]any{"on": today},
		func(tx *store.Tx) error { return tx.LiftMonitoring(ctx, personID, monitoringID, today) })
}
