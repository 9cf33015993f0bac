package fhir

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"shequ/internal/errs"
	"shequ/internal/pii"
)

// Message keys of inbound errors. Each names the JSON path at fault in its
// first argument; the error's Field is the same path.
const (
	KeyJSON         = "err.fhir.json"          // not JSON, or not an object
	KeyResourceType = "err.fhir.resource_type" // %v: the expected type
	KeyRequired     = "err.fhir.required"      // %v: path
	KeyUnknownCode  = "err.fhir.unknown_code"  // %v: path, %v: system|code
	KeyIdentifier   = "err.fhir.identifier"    // %v: path, %v: the system expected
	KeyIDNumber     = "err.fhir.id_number"     // %v: path
	KeyDate         = "err.fhir.date"          // %v: path, %v: the value
	KeyStatus       = "err.fhir.status"        // %v: path, %v: the status
	KeyDose         = "err.fhir.dose"          // %v: path
)

func bad(path, key string, args ...any) *errs.Error {
	return errs.E(errs.Invalid, key, append([]any{path}, args...)...).OnField(path)
}

// Subject is the person an inbound resource is about: the resident ID
// number (validated and normalised) and, when sent, the name to check it
// against.
type Subject struct {
	IDNumber string
	Name     string
}

// InboundTest is an Observation in the ledger's terms.
type InboundTest struct {
	Subject
	Kind        string // nucleic, antigen, antibody
	Result      string // positive, negative, invalid, pending
	SampledAt   time.Time
	ResultAt    time.Time // zero when not sent
	Institution string    // performer's display
	Ref         string    // the sender's resource id, for the change log
}

// InboundDose is an Immunization in the ledger's terms.
type InboundDose struct {
	Subject
	Vaccine string // the ledger's name of the vaccine (Vaccines)
	Dose    int
	GivenOn string // YYYY-MM-DD, China time
	Lot     string
	Site    string // location's display
	Ref     string
}

func decode(data []byte, want string, v any) error {
	var head struct {
		ResourceType string `json:"resourceType"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return errs.Wrap(err, errs.Invalid, KeyJSON).OnField(want)
	}
	if head.ResourceType != want {
		return bad("resourceType", KeyResourceType, want)
	}
	d := json.NewDecoder(bytes.NewReader(data))
	if err := d.Decode(v); err != nil {
		// A value of the wrong JSON type: name the field Go's decoder
		// stopped at.
		if te, ok := err.(*json.UnmarshalTypeError); ok {
			return errs.Wrap(err, errs.Invalid, KeyRequired, want+"."+te.Field).OnField(want + "." + te.Field)
		}
		return errs.Wrap(err, errs.Invalid, KeyJSON).OnField(want)
	}
	return nil
}

// ParseObservation reads an inbound Observation: a SARS-CoV-2 test coded
// in LOINC (TestCodes) about a subject named by resident ID number, with a
// SNOMED CT result (ResultCodes), or status registered/preliminary for a
// pending test. now bounds the birth date in the ID number.
func ParseObservation(data []byte, now time.Time) (InboundTest, error) {
	var o struct {
		Observation
		EffectiveInstant string `json:"effectiveInstant"`
	}
	var out InboundTest
	if err := decode(data, "Observation", &o); err != nil {
		return out, err
	}
	out.Ref = o.ID
	subj, err := subjectOf("Observation.subject", o.Subject, now)
	if err != nil {
		return out, err
	}
	out.Subject = subj
	// The test kind.
	if len(o.Code.Coding) == 0 {
		return out, bad("Observation.code.coding", KeyRequired)
	}
	for i, c := range o.Code.Coding {
		if c.System != LOINC {
			continue
		}
		tc, ok := TestByLOINC(c.Code)
		if !ok {
			return out, bad(fmt.Sprintf("Observation.code.coding[%d].code", i), KeyUnknownCode, LOINC+"|"+c.Code)
		}
		out.Kind = tc.Kind
		break
	}
	if out.Kind == "" {
		c := o.Code.Coding[0]
		return out, bad("Observation.code.coding[0]", KeyUnknownCode, c.System+"|"+c.Code)
	}
	// When the sample was taken.
	eff, path := o.EffectiveDateTime, "Observation.effectiveDateTime"
	if eff == "" && o.EffectiveInstant != "" {
		eff, path = o.EffectiveInstant, "Observation.effectiveInstant"
	}
	if eff == "" {
		return out, bad("Observation.effectiveDateTime", KeyRequired)
	}
	if out.SampledAt, err = dateTime(path, eff); err != nil {
		return out, err
	}
	if o.Issued != "" {
		if out.ResultAt, err = dateTime("Observation.issued", o.Issued); err != nil {
			return out, err
		}
	}
	if len(o.Performer) > 0 {
		out.Institution = strings.TrimSpace(o.Performer[0].Display)
	}
	// The result.
	switch o.Status {
	case "registered", "preliminary":
		if o.ValueCodeableConcept == nil {
			out.Result = "pending"
			return out, nil
		}
	case "final", "amended", "corrected":
	case "":
		return out, bad("Observation.status", KeyRequired)
	default:
		return out, bad("Observation.status", KeyStatus, o.Status)
	}
	switch {
	case o.ValueCodeableConcept != nil:
		if len(o.ValueCodeableConcept.Coding) == 0 {
			return out, bad("Observation.valueCodeableConcept.coding", KeyRequired)
		}
		for i, c := range o.ValueCodeableConcept.Coding {
			if c.System != SNOMED {
				continue
			}
			rc, ok := ResultBySNOMED(c.Code)
			if !ok {
				return out, bad(fmt.Sprintf("Observation.valueCodeableConcept.coding[%d].code", i), KeyUnknownCode, SNOMED+"|"+c.Code)
			}
			out.Result = rc.Result
			return out, nil
		}
		c := o.ValueCodeableConcept.Coding[0]
		return out, bad("Observation.valueCodeableConcept.coding[0]", KeyUnknownCode, c.System+"|"+c.Code)
	case o.DataAbsentReason != nil:
		out.Result = "invalid"
		return out, nil
	}
	return out, bad("Observation.valueCodeableConcept", KeyRequired)
}

// ParseImmunization reads an inbound Immunization: a completed dose of a
// vaccine of the code table (shequ's code, a CVX code, or the name in
// vaccineCode.text), with the dose number in protocolApplied.
func ParseImmunization(data []byte, now time.Time) (InboundDose, error) {
	var im struct {
		Immunization
		OccurrenceString string `json:"occurrenceString"`
		ProtocolApplied  []struct {
			DoseNumberPositiveInt int    `json:"doseNumberPositiveInt"`
			DoseNumberString      string `json:"doseNumberString"`
		} `json:"protocolApplied"`
	}
	var out InboundDose
	if err := decode(data, "Immunization", &im); err != nil {
		return out, err
	}
	out.Ref = im.ID
	switch im.Status {
	case "completed":
	case "":
		return out, bad("Immunization.status", KeyRequired)
	default:
		return out, bad("Immunization.status", KeyStatus, im.Status)
	}
	subj, err := subjectOf("Immunization.patient", &im.Patient, now)
	if err != nil {
		return out, err
	}
	out.Subject = subj
	// The vaccine: the first coding of a known system decides; a text
	// alone must be a name of the table.
	vc := im.VaccineCode
	found := false
	for i, c := range vc.Coding {
		if c.System != VaccineSystem && c.System != CVX {
			continue
		}
		v, ok := VaccineByCode(c.System, c.Code)
		if !ok {
			return out, bad(fmt.Sprintf("Immunization.vaccineCode.coding[%d].code", i), KeyUnknownCode, c.System+"|"+c.Code)
		}
		out.Vaccine, found = v.Name, true
		break
	}
	if !found {
		switch {
		case len(vc.Coding) > 0:
			c := vc.Coding[0]
			return out, bad("Immunization.vaccineCode.coding[0]", KeyUnknownCode, c.System+"|"+c.Code)
		case strings.TrimSpace(vc.Text) == "":
			return out, bad("Immunization.vaccineCode", KeyRequired)
		}
		v, ok := VaccineByName(strings.TrimSpace(vc.Text))
		if !ok {
			return out, bad("Immunization.vaccineCode.text", KeyUnknownCode, vc.Text)
		}
		out.Vaccine = v.Name
	}
	// When.
	switch {
	case im.OccurrenceDateTime != "":
		t, err := dateTime("Immunization.occurrenceDateTime", im.OccurrenceDateTime)
		if err != nil {
			return out, err
		}
		out.GivenOn = t.In(china).Format("2006-01-02")
	case im.OccurrenceString != "":
		return out, bad("Immunization.occurrenceString", KeyDate, im.OccurrenceString)
	default:
		return out, bad("Immunization.occurrenceDateTime", KeyRequired)
	}
	// Which dose.
	if len(im.ProtocolApplied) == 0 {
		return out, bad("Immunization.protocolApplied[0].doseNumberPositiveInt", KeyRequired)
	}
	pa := im.ProtocolApplied[0]
	out.Dose = pa.DoseNumberPositiveInt
	if out.Dose == 0 && pa.DoseNumberString != "" {
		fmt.Sscanf(strings.TrimSpace(pa.DoseNumberString), "%d", &out.Dose)
	}
	if out.Dose < 1 || out.Dose > 10 {
		return out, bad("Immunization.protocolApplied[0].doseNumberPositiveInt", KeyDose)
	}
	out.Lot = strings.TrimSpace(im.LotNumber)
	if im.Location != nil {
		out.Site = strings.TrimSpace(im.Location.Display)
	}
	return out, nil
}

// subjectOf reads the resident ID number from a reference's identifier.
func subjectOf(path string, ref *Reference, now time.Time) (Subject, error) {
	var s Subject
	if ref == nil {
		return s, bad(path, KeyRequired)
	}
	s.Name = pii.NormalizeText(ref.Display)
	id := ref.Identifier
	if id == nil {
		return s, bad(path+".identifier", KeyIdentifier, IdentifierSystemResidentID)
	}
	if id.System != IdentifierSystemResidentID {
		return s, bad(path+".identifier.system", KeyIdentifier, IdentifierSystemResidentID)
	}
	if strings.TrimSpace(id.Value) == "" {
		return s, bad(path+".identifier.value", KeyRequired)
	}
	n, err := pii.ParseID(pii.DocResidentID, id.Value, now)
	if err != nil {
		return s, bad(path+".identifier.value", KeyIDNumber)
	}
	s.IDNumber = n.Number
	return s, nil
}

// dateTime reads a FHIR dateTime or instant that has at least a day: a
// date alone is midnight in China.
func dateTime(path, v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", v, china); err == nil {
		return t, nil
	}
	return time.Time{}, bad(path, KeyDate, v)
}
