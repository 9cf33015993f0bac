package exchange

import (
	"context"
	"time"

	"shequ/internal/errs"
	"shequ/internal/fhir"
	"shequ/internal/pii"
	"shequ/internal/store"
)

// ApplyObservation reads one FHIR R4 Observation (JSON) and records the
// test for the person its subject identifier names, with source "partner"
// and the department and resource id in the change log. It returns the
// ledger record id; the same result sent again returns the first record's
// id and writes nothing. A person not in the ledger of a.Scope is
// errs.NotFound (err.exchange.person_not_found); bad input is errs.Invalid
// with the JSON path at fault as the error's Field.
func (s *Service) ApplyObservation(ctx context.Context, a Actor, data []byte) (string, error) {
	if err := a.check(); err != nil {
		return "", err
	}
	now := s.Ledger.Store.Now()
	obs, err := fhir.ParseObservation(data, now)
	if err != nil {
		return "", err
	}
	switch {
	case obs.SampledAt.After(now.Add(time.Hour)):
		return "", errs.E(errs.Invalid, keyFuture).OnField("Observation.effectiveDateTime")
	case !obs.ResultAt.IsZero() && obs.ResultAt.Before(obs.SampledAt):
		return "", errs.E(errs.Invalid, keyResultBefore).OnField("Observation.issued")
	}
	pid, err := s.subject(ctx, a, obs.Subject, "Observation.subject")
	if err != nil {
		return "", err
	}
	if obs.Institution == "" {
		obs.Institution = a.Department
	}
	rec := record{kind: obs.Kind, result: obs.Result, sampled: obs.SampledAt, reportd: obs.ResultAt, institution: obs.Institution}
	return s.applyOne(ctx, a, KindTests, pid, rec, obs.Ref)
}

// ApplyImmunization reads one FHIR R4 Immunization (JSON) and records the
// dose, on the same terms as ApplyObservation.
func (s *Service) ApplyImmunization(ctx context.Context, a Actor, data []byte) (string, error) {
	if err := a.check(); err != nil {
		return "", err
	}
	now := s.Ledger.Store.Now()
	im, err := fhir.ParseImmunization(data, now)
	if err != nil {
		return "", err
	}
	if im.GivenOn > now.In(china).Format("2006-01-02") {
		return "", errs.E(errs.Invalid, keyFuture).OnField("Immunization.occurrenceDateTime")
	}
	pid, err := s.subject(ctx, a, im.Subject, "Immunization.patient")
	if err != nil {
		return "", err
	}
	rec := record{vaccine: im.Vaccine, dose: im.Dose, givenOn: im.GivenOn, site: im.Site, lot: im.Lot}
	return s.applyOne(ctx, a, KindVaccinations, pid, rec, im.Ref)
}

// subject finds the person an inbound resource names, in the actor's
// scope, and checks the name when one was sent.
func (s *Service) subject(ctx context.Context, a Actor, sub fhir.Subject, path string) (string, error) {
	found, err := s.find(ctx, a.Scope, []string{sub.IDNumber})
	if err != nil {
		return "", err
	}
	m, ok := found[sub.IDNumber]
	if !ok {
		return "", errs.E(errs.NotFound, "err.exchange.person_not_found", path+".identifier").OnField(path + ".identifier")
	}
	if sub.Name != "" && !sameName(m.name, sub.Name) {
		return "", errs.E(errs.Invalid, keyNameMismatch, pii.MaskName(m.name)).OnField(path + ".display")
	}
	return m.personID, nil
}

func (s *Service) applyOne(ctx context.Context, a Actor, kind Kind, personID string, r record, ref string) (string, error) {
	prov := a.Department
	if ref != "" {
		prov += " · " + string(kindResource(kind)) + "/" + ref
	}
	var id string
	err := s.Ledger.Store.Write(ctx, func(tx *store.Tx) error {
		var err error
		switch kind {
		case KindTests:
			id, err = tx.SameTest(ctx, personID, r.kind, r.sampled, r.result)
		case KindVaccinations:
			id, err = tx.SameVaccination(ctx, personID, r.vaccine, r.dose, r.givenOn)
		}
		if err != nil || id != "" {
			return err
		}
		id, err = s.applyRow(ctx, tx, a, store.SourcePartner, prov, kind, personID, r)
		return err
	})
	return id, err
}

func kindResource(k Kind) string {
	if k == KindTests {
		return "Observation"
	}
	return "Immunization"
}

// PersonByIDNumber finds the ledger person with this resident ID number in
// scope ("" the whole ledger): for a search by identifier. errs.NotFound
// when there is none; errs.Invalid when the number is not a valid one.
func (s *Service) PersonByIDNumber(ctx context.Context, scope, number string) (string, error) {
	id, err := pii.ParseID(pii.DocResidentID, number, s.Ledger.Store.Now())
	if err != nil {
		return "", errs.E(errs.Invalid, fhir.KeyIDNumber, "identifier").OnField("identifier")
	}
	found, err := s.find(ctx, scope, []string{id.Number})
	if err != nil {
		return "", err
	}
	m, ok := found[id.Number]
	if !ok {
		return "", errs.E(errs.NotFound, "err.not_found")
	}
	return m.personID, nil
}

// Show says which protected fields an export may reveal in the clear.
type Show struct {
	IDNumber bool // the full resident ID number, else the masked form
	Phone    bool // the phone as telecom, else none
}

// Patient builds the FHIR Patient of a ledger person, with the address of
// the room they live in now. The caller has checked the person is within
// what it may see; a merged or unknown person is errs.NotFound.
func (s *Service) Patient(ctx context.Context, personID string, show Show) (fhir.Patient, error) {
	p, err := s.Ledger.Store.Person(ctx, personID)
	if err != nil {
		return fhir.Patient{}, err
	}
	if p.MergedInto != "" {
		return fhir.Patient{}, errs.E(errs.NotFound, "err.not_found")
	}
	var r fhir.Reveal
	if show.IDNumber {
		if r.IDNumber, err = s.Ledger.PlainID(p); err != nil {
			return fhir.Patient{}, err
		}
	}
	if show.Phone {
		if r.Phone, err = s.Ledger.PlainPhone(p); err != nil {
			return fhir.Patient{}, err
		}
	}
	address := ""
	ms, err := s.Ledger.Store.Memberships(ctx, personID)
	if err != nil {
		return fhir.Patient{}, err
	}
	today := s.Ledger.Store.Today()
	for _, m := range ms {
		if m.Until == "" || m.Until >= today {
			address = m.Address
			break
		}
	}
	return fhir.PatientOf(p, address, r), nil
}

// Records returns a person's vaccinations and tests as FHIR resources
// (newest first; the ledger's latest 50 tests).
func (s *Service) Records(ctx context.Context, personID string) ([]fhir.Immunization, []fhir.Observation, error) {
	h, err := s.Ledger.Store.Health(ctx, personID)
	if err != nil {
		return nil, nil, err
	}
	ims := make([]fhir.Immunization, 0, len(h.Vaccinations))
	for _, v := range h.Vaccinations {
		ims = append(ims, fhir.ImmunizationOf(v))
	}
	obs := make([]fhir.Observation, 0, len(h.Tests))
	for _, t := range h.Tests {
		obs = append(obs, fhir.ObservationOf(t))
	}
	return ims, obs, nil
}

// PatientBundle is the searchset of one person: the Patient as the match,
// their Immunizations and Observations included. base is the FHIR base URL
// for the entries' fullUrl ("" for none).
func (s *Service) PatientBundle(ctx context.Context, personID string, show Show, base string) (fhir.Bundle, error) {
	p, err := s.Patient(ctx, personID, show)
	if err != nil {
		return fhir.Bundle{}, err
	}
	ims, obs, err := s.Records(ctx, personID)
	if err != nil {
		return fhir.Bundle{}, err
	}
	var inc []any
	for _, im := range ims {
		inc = append(inc, im)
	}
	for _, o := range obs {
		inc = append(inc, o)
	}
	return fhir.SearchSet(base, []any{p}, inc), nil
}
