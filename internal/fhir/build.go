package fhir

import (
	"strings"
	"time"

	"shequ/internal/store"
)

// Reveal holds the protected values the caller may show, in the clear.
// Empty fields stay hidden: the masked ID number is written instead of the
// full one, and no telecom is written without a phone.
type Reveal struct {
	IDNumber string
	Phone    string
}

// PatientOf builds the Patient of a ledger person living at address (the
// room's address, "" for none).
func PatientOf(p store.Person, address string, r Reveal) Patient {
	out := Patient{ResourceType: "Patient", ID: p.ID, Meta: metaOf(p.UpdatedAt)}
	idType := &CodeableConcept{Coding: []Coding{{System: IdentifierTypeSystem, Code: IdentifierTypeNational, Display: "National Person Identifier"}}}
	if p.IDType == "" || p.IDType == "resident_id" {
		if r.IDNumber != "" {
			out.Identifier = append(out.Identifier, Identifier{Use: "official", Type: idType, System: IdentifierSystemResidentID, Value: r.IDNumber})
		} else if p.IDMask != "" {
			// The number exists but may not be shown: say so, and give the
			// masked form for people to read.
			out.Identifier = append(out.Identifier,
				Identifier{Use: "official", Type: idType, System: IdentifierSystemResidentID,
					ValueElement: &Element{Extension: []Extension{{URL: AbsentURL, ValueCode: "masked"}}}},
				Identifier{Use: "secondary", System: IdentifierSystemMasked, Value: p.IDMask})
		}
	}
	if p.Name != "" {
		out.Name = []HumanName{nameOf(p.Name)}
	}
	switch p.Sex {
	case 1:
		out.Gender = "male"
	case 2:
		out.Gender = "female"
	default:
		out.Gender = "unknown"
	}
	if _, err := time.Parse("2006-01-02", p.BirthDate); err == nil {
		out.BirthDate = p.BirthDate
	}
	if r.Phone != "" {
		out.Telecom = []ContactPoint{{System: "phone", Value: r.Phone, Use: "mobile"}}
	}
	if address != "" {
		out.Address = []Address{{Use: "home", Type: "physical", Text: address, Country: "CN"}}
	}
	return out
}

// compoundSurnames are the two-character surnames common enough that a
// name starting with one is split after two characters.
var compoundSurnames = []string{"欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "长孙", "宇文", "司徒", "夏侯", "轩辕", "端木", "独孤"}

// nameOf writes a Chinese name whole in text and split into family (the
// first character, or a known compound surname) and given name. Names in
// Latin letters are only written as text.
func nameOf(name string) HumanName {
	h := HumanName{Use: "official", Text: name}
	rs := []rune(name)
	if len(rs) < 2 || strings.ContainsAny(name, " ·•") || rs[0] < 0x3400 {
		return h
	}
	n := 1
	for _, c := range compoundSurnames {
		if strings.HasPrefix(name, c) && len(rs) > 2 {
			n = 2
		}
	}
	h.Family, h.Given = string(rs[:n]), []string{string(rs[n:])}
	return h
}

func metaOf(t time.Time) *Meta {
	if t.IsZero() {
		return nil
	}
	return &Meta{LastUpdated: instant(t)}
}

// instant writes a time as a FHIR instant in China time.
func instant(t time.Time) string { return t.In(china).Format("2006-01-02T15:04:05.000-07:00") }

func patientRef(personID string) Reference { return Reference{Reference: "Patient/" + personID} }

// ImmunizationOf builds the Immunization of a vaccination record.
func ImmunizationOf(v store.Vaccination) Immunization {
	primary := false
	out := Immunization{ResourceType: "Immunization", ID: v.ID, Status: "completed", Patient: patientRef(v.PersonID),
		OccurrenceDateTime: v.GivenOn, PrimarySource: &primary, LotNumber: strings.TrimSpace(v.Lot)}
	out.VaccineCode = CodeableConcept{Text: v.Vaccine}
	if vc, ok := VaccineByName(v.Vaccine); ok {
		out.VaccineCode.Coding = append(out.VaccineCode.Coding, Coding{System: VaccineSystem, Code: vc.Code, Display: vc.Name})
		if vc.CVX != "" {
			out.VaccineCode.Coding = append(out.VaccineCode.Coding, Coding{System: CVX, Code: vc.CVX})
		}
	}
	if site := strings.TrimSpace(v.Site); site != "" {
		out.Location = &Reference{Display: site}
	}
	if v.Dose > 0 {
		out.ProtocolApplied = []ProtocolApplied{{DoseNumberPositiveInt: v.Dose}}
	}
	return out
}

// ObservationOf builds the Observation of a test record. A pending test is
// "registered" without a value; an invalid one is "final" with the
// data-absent reason "error".
func ObservationOf(t store.HealthTest) Observation {
	out := Observation{ResourceType: "Observation", ID: t.ID, Status: "final", Subject: &Reference{Reference: "Patient/" + t.PersonID},
		Category: []CodeableConcept{{Coding: []Coding{{System: CategorySystem, Code: "laboratory", Display: "Laboratory"}}}}}
	if tc, ok := TestByKind(t.Kind); ok {
		out.Code = CodeableConcept{Coding: []Coding{{System: LOINC, Code: tc.Code, Display: tc.Display}}, Text: t.Kind}
	} else {
		out.Code = CodeableConcept{Text: t.Kind}
	}
	if !t.SampledAt.IsZero() {
		out.EffectiveDateTime = t.SampledAt.In(china).Format(time.RFC3339)
	}
	if !t.ResultAt.IsZero() {
		out.Issued = instant(t.ResultAt)
	}
	if inst := strings.TrimSpace(t.Institution); inst != "" {
		out.Performer = []Reference{{Display: inst}}
	}
	switch t.Result {
	case "pending":
		out.Status = "registered"
	case "invalid":
		out.DataAbsentReason = &CodeableConcept{Coding: []Coding{{System: AbsentSystem, Code: "error", Display: "Error"}}}
	default:
		if rc, ok := resultCode(t.Result); ok {
			out.ValueCodeableConcept = &CodeableConcept{Coding: []Coding{{System: SNOMED, Code: rc.Code, Display: rc.Display}}}
		}
	}
	return out
}

// SearchSet builds a searchset bundle: matches are what was searched for,
// includes come along with them. base ("https://host/api/v1/fhir") makes
// the entries' full URLs; "" leaves them out.
func SearchSet(base string, matches []any, includes []any) Bundle {
	n := len(matches)
	b := Bundle{ResourceType: "Bundle", Type: "searchset", Total: &n}
	add := func(r any, mode string) {
		e := BundleEntry{Resource: r, Search: &BundleSearch{Mode: mode}}
		if base != "" {
			if t, id := typeAndID(r); t != "" && id != "" {
				e.FullURL = strings.TrimSuffix(base, "/") + "/" + t + "/" + id
			}
		}
		b.Entry = append(b.Entry, e)
	}
	for _, r := range matches {
		add(r, "match")
	}
	for _, r := range includes {
		add(r, "include")
	}
	return b
}

func typeAndID(r any) (string, string) {
	switch v := r.(type) {
	case Patient:
		return v.ResourceType, v.ID
	case *Patient:
		return v.ResourceType, v.ID
	case Immunization:
		return v.ResourceType, v.ID
	case *Immunization:
		return v.ResourceType, v.ID
	case Observation:
		return v.ResourceType, v.ID
	case *Observation:
		return v.ResourceType, v.ID
	}
	return "", ""
}
