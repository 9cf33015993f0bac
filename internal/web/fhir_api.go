package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"

	"shequ/internal/errs"
	"shequ/internal/exchange"
	"shequ/internal/fhir"
	"shequ/internal/sharing"
	"shequ/internal/store"
)

// fhirPerson checks that a partner may read a person as FHIR: an agreement
// for residents, and the person living within it. It says what of the
// identity the agreement reveals.
func (s *Server) fhirPerson(w http.ResponseWriter, r *http.Request) (sharing.Access, exchange.Show, bool) {
	acc, err := s.Sharing.Authorize(r.Context(), reqOf(r).p, "persons")
	if err != nil {
		s.partnerRefused(w, r, "persons", err)
		return acc, exchange.Show{}, false
	}
	paths, err := s.Store.PersonPaths(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return acc, exchange.Show{}, false
	}
	if !slices.ContainsFunc(paths, func(p string) bool { return withinAny(p, acc.Scopes) }) {
		s.fail(w, r, errNotFound)
		return acc, exchange.Show{}, false
	}
	g := acc.Grant
	return acc, exchange.Show{IDNumber: slices.Contains(g.Unmasked, "id_number"), Phone: slices.Contains(g.Unmasked, "phone")}, true
}

func withinAny(path string, scopes []string) bool {
	return slices.ContainsFunc(scopes, func(s string) bool { return strings.HasPrefix(path, s) })
}

// fhirPatient serves a resident as a FHIR R4 Patient.
func (s *Server) fhirPatient(w http.ResponseWriter, r *http.Request) {
	acc, show, ok := s.fhirPerson(w, r)
	if !ok {
		return
	}
	p, err := exchange.New(s.Ledger).Patient(r.Context(), r.PathValue("id"), show)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.logServed(r.Context(), acc, "persons", r, []string{r.PathValue("id")}); err != nil {
		s.fail(w, r, err)
		return
	}
	writeFHIR(w, http.StatusOK, p)
}

// fhirEverything serves a resident with the health records the partner's
// agreements allow, as a FHIR searchset Bundle.
func (s *Server) fhirEverything(w http.ResponseWriter, r *http.Request) {
	acc, show, ok := s.fhirPerson(w, r)
	if !ok {
		return
	}
	ctx, id := r.Context(), r.PathValue("id")
	svc := exchange.New(s.Ledger)
	p, err := svc.Patient(ctx, id, show)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ims, obs, err := svc.Records(ctx, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.logServed(ctx, acc, "persons", r, []string{id}); err != nil {
		s.fail(w, r, err)
		return
	}
	var inc []any
	// Each kind of record only under an agreement for it.
	if a, err := s.Sharing.Authorize(ctx, reqOf(r).p, "vaccinations"); err == nil {
		var served []string
		for _, im := range ims {
			inc = append(inc, im)
			served = append(served, im.ID)
		}
		if err := s.logServed(ctx, a, "vaccinations", r, served); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if a, err := s.Sharing.Authorize(ctx, reqOf(r).p, "health_tests"); err == nil {
		var served []string
		for _, o := range obs {
			inc = append(inc, o)
			served = append(served, o.ID)
		}
		if err := s.logServed(ctx, a, "health_tests", r, served); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	writeFHIR(w, http.StatusOK, fhir.SearchSet("", []any{p}, inc))
}

// fhirCreate takes one Observation or Immunization from the health side,
// under an agreement that lets the partner send that dataset, with an
// Idempotency-Key.
func (s *Server) fhirCreate(dataset string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p := reqOf(r).p
		acc, err := s.Sharing.Authorize(r.Context(), p, dataset)
		if err == nil && !acc.Grant.Write {
			err = errs.E(errs.Forbidden, "err.sharing.no_write")
		}
		if err != nil {
			s.partnerRefused(w, r, dataset, err)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			s.fail(w, r, errs.E(errs.Invalid, "err.api.body"))
			return
		}
		if s.replayed(w, r, body) {
			return
		}
		actor := exchange.Actor{Name: p.Name, Department: acc.Agreement.PartnerName, Scope: acc.Scopes[0]}
		svc := exchange.New(s.Ledger)
		// Apply first (the ledger writes in its own transaction; sending
		// the same resource again changes nothing), then keep the answer
		// under the key.
		var id string
		if dataset == "health_tests" {
			id, err = svc.ApplyObservation(r.Context(), actor, body)
		} else {
			id, err = svc.ApplyImmunization(r.Context(), actor, body)
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		kind := map[string]string{"health_tests": "Observation", "vaccinations": "Immunization"}[dataset]
		w.Header().Set("Location", "/api/v1/fhir/"+kind+"/"+id)
		s.keep(w, r, body, http.StatusCreated, map[string]any{"resourceType": "OperationOutcome", "id": id,
			"issue": []map[string]string{{"severity": "information", "code": "informational", "diagnostics": kind + "/" + id}}})
	}
}

// logServed writes the records served under an agreement to its log.
func (s *Server) logServed(ctx context.Context, acc sharing.Access, dataset string, r *http.Request, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	return s.Store.Write(ctx, func(tx *store.Tx) error { return tx.LogAccess(ctx, acc.Agreement.ID, dataset, r.URL.RequestURI(), ids) })
}

// writeFHIR answers with a FHIR resource.
func writeFHIR(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/fhir+json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
