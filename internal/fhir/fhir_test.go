package fhir

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"shequ/internal/errs"
	"shequ/internal/pii"
	"shequ/internal/store"
)

const zhangID = "11010519491231002X" // the standard's sample: female, 1949-12-31

var now = time.Date(2026, 11, 28, 2, 0, 0, 0, time.UTC)

func samples() (store.Person, store.Vaccination, store.HealthTest) {
	p := store.Person{ID: "01jabcdefghjkmnpqrstvwxyz0", Name: "张秀英", IDType: "resident_id", IDMask: pii.MaskID(zhangID),
		BirthDate: "1949-12-31", Sex: 2, UpdatedAt: now}
	v := store.Vaccination{ID: "01jvacc0000000000000000000", PersonID: p.ID, Vaccine: "重组新冠病毒疫苗（CHO细胞）", Dose: 2,
		GivenOn: "2021-06-15", Site: "秦都区疾控中心接种点", Lot: "202106A031"}
	sampled := time.Date(2026, 11, 27, 0, 30, 0, 0, time.UTC)
	ht := store.HealthTest{ID: "01jtest0000000000000000000", PersonID: p.ID, Kind: "nucleic", SampledAt: sampled,
		ResultAt: sampled.Add(12 * time.Hour), Result: "negative", Institution: "咸阳市第一人民医院"}
	return p, v, ht
}

func TestPatientRevealsOnlyWhatIsPassed(t *testing.T) {
	p, _, _ := samples()
	full := PatientOf(p, "丰乐小区3号楼1单元1502室", Reveal{IDNumber: zhangID, Phone: "13912345678"})
	if len(full.Identifier) != 1 || full.Identifier[0].Value != zhangID || full.Identifier[0].System != IdentifierSystemResidentID ||
		len(full.Telecom) != 1 || full.Gender != "female" || full.BirthDate != "1949-12-31" ||
		full.Name[0].Family != "张" || full.Name[0].Given[0] != "秀英" || full.Address[0].Text != "丰乐小区3号楼1单元1502室" {
		t.Fatalf("full patient: %+v", full)
	}
	masked := PatientOf(p, "", Reveal{})
	b, _ := json.Marshal(masked)
	if strings.Contains(string(b), zhangID) || strings.Contains(string(b), "telecom") || !strings.Contains(string(b), `"valueCode":"masked"`) ||
		!strings.Contains(string(b), p.IDMask) {
		t.Fatalf("masked patient: %s", b)
	}
	if n := nameOf("欧阳娜娜"); n.Family != "欧阳" || n.Given[0] != "娜娜" {
		t.Errorf("compound surname: %+v", n)
	}
	if n := nameOf("John Smith"); n.Family != "" || n.Text != "John Smith" {
		t.Errorf("latin name: %+v", n)
	}
}

// withSubject gives an exported resource the identifier a partner sends.
func withSubject(t *testing.T, r any, field string) []byte {
	t.Helper()
	b, _ := json.Marshal(r)
	var m map[string]any
	json.Unmarshal(b, &m)
	m[field] = map[string]any{"identifier": map[string]any{"system": IdentifierSystemResidentID, "value": zhangID}, "display": "张秀英"}
	out, _ := json.Marshal(m)
	return out
}

func TestRoundTripKeepsTheMeaning(t *testing.T) {
	_, v, ht := samples()
	for _, result := range []string{"negative", "positive", "pending", "invalid"} {
		for _, kind := range []string{"nucleic", "antigen", "antibody"} {
			x := ht
			x.Result, x.Kind = result, kind
			if result == "pending" {
				x.ResultAt = time.Time{}
			}
			got, err := ParseObservation(withSubject(t, ObservationOf(x), "subject"), now)
			if err != nil {
				t.Fatalf("%s %s: %v", kind, result, err)
			}
			if got.Kind != kind || got.Result != result || !got.SampledAt.Equal(x.SampledAt) || !got.ResultAt.Equal(x.ResultAt) ||
				got.Institution != x.Institution || got.IDNumber != zhangID || got.Name != "张秀英" || got.Ref != x.ID {
				t.Errorf("%s %s: %+v", kind, result, got)
			}
		}
	}
	for _, vc := range Vaccines {
		x := v
		x.Vaccine = vc.Name
		got, err := ParseImmunization(withSubject(t, ImmunizationOf(x), "patient"), now)
		if err != nil {
			t.Fatalf("%s: %v", vc.Name, err)
		}
		if got.Vaccine != vc.Name || got.Dose != 2 || got.GivenOn != "2021-06-15" || got.Lot != x.Lot || got.Site != x.Site || got.IDNumber != zhangID {
			t.Errorf("%s: %+v", vc.Name, got)
		}
	}
}

func TestInboundErrorsNameThePath(t *testing.T) {
	subject := `"subject":{"identifier":{"system":"` + IdentifierSystemResidentID + `","value":"` + zhangID + `"}}`
	code := `"code":{"coding":[{"system":"http://loinc.org","code":"94500-6"}]}`
	value := `"valueCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"260385009"}]}`
	when := `"effectiveDateTime":"2026-11-27T08:30:00+08:00"`
	obs := func(parts ...string) string {
		return `{"resourceType":"Observation","status":"final",` + strings.Join(parts, ",") + `}`
	}
	cases := []struct {
		body, key, field string
	}{
		{`[1,2]`, KeyJSON, "Observation"},
		{`{"resourceType":"Patient"}`, KeyResourceType, "resourceType"},
		{obs(code, value, when), KeyRequired, "Observation.subject"},
		{obs(`"subject":{"reference":"Patient/1"}`, code, value, when), KeyIdentifier, "Observation.subject.identifier"},
		{obs(`"subject":{"identifier":{"system":"urn:other","value":"1"}}`, code, value, when), KeyIdentifier, "Observation.subject.identifier.system"},
		{obs(`"subject":{"identifier":{"system":"`+IdentifierSystemResidentID+`","value":"110105194912310021"}}`, code, value, when), KeyIDNumber, "Observation.subject.identifier.value"},
		{obs(subject, `"code":{"coding":[{"system":"http://loinc.org","code":"12345-6"}]}`, value, when), KeyUnknownCode, "Observation.code.coding[0].code"},
		{obs(subject, `"code":{"coding":[{"system":"urn:x","code":"pcr"}]}`, value, when), KeyUnknownCode, "Observation.code.coding[0]"},
		{obs(subject, code, `"valueCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"1"}]}`, when), KeyUnknownCode, "Observation.valueCodeableConcept.coding[0].code"},
		{obs(subject, code, value, `"effectiveDateTime":"2026-11"`), KeyDate, "Observation.effectiveDateTime"},
		{obs(subject, code, value), KeyRequired, "Observation.effectiveDateTime"},
		{`{"resourceType":"Observation","status":"cancelled",` + subject + `,` + code + `,` + when + `}`, KeyStatus, "Observation.status"},
		{`{"resourceType":"Immunization","status":"completed","patient":{"identifier":{"system":"` + IdentifierSystemResidentID + `","value":"` + zhangID +
			`"}},"vaccineCode":{"coding":[{"system":"http://hl7.org/fhir/sid/cvx","code":"999"}]},"occurrenceDateTime":"2021-06-15","protocolApplied":[{"doseNumberPositiveInt":1}]}`,
			KeyUnknownCode, "Immunization.vaccineCode.coding[0].code"},
		{`{"resourceType":"Immunization","status":"completed","patient":{"identifier":{"system":"` + IdentifierSystemResidentID + `","value":"` + zhangID +
			`"}},"vaccineCode":{"text":"流感疫苗"},"occurrenceDateTime":"15/06/2021","protocolApplied":[{"doseNumberPositiveInt":1}]}`,
			KeyDate, "Immunization.occurrenceDateTime"},
		{`{"resourceType":"Immunization","status":"completed","patient":{"identifier":{"system":"` + IdentifierSystemResidentID + `","value":"` + zhangID +
			`"}},"vaccineCode":{"text":"流感疫苗"},"occurrenceDateTime":"2021-06-15"}`,
			KeyRequired, "Immunization.protocolApplied[0].doseNumberPositiveInt"},
		{`{"resourceType":"Immunization","status":"not-done"}`, KeyStatus, "Immunization.status"},
	}
	for i, c := range cases {
		var err error
		if strings.Contains(c.body, "Immunization") {
			_, err = ParseImmunization([]byte(c.body), now)
		} else {
			_, err = ParseObservation([]byte(c.body), now)
		}
		e, ok := errs.As(err)
		if !ok || e.Code != errs.Invalid || e.Key != c.key || e.Field != c.field {
			t.Errorf("case %d: got %v, want %s on %s", i, err, c.key, c.field)
		}
	}
	// CVX codes and the vaccine's name are read as the ledger's vaccine.
	im := `{"resourceType":"Immunization","status":"completed","patient":{"identifier":{"system":"` + IdentifierSystemResidentID + `","value":"` + zhangID +
		`"}},"vaccineCode":{"coding":[{"system":"http://hl7.org/fhir/sid/cvx","code":"511"}]},"occurrenceDateTime":"2021-06-15T10:00:00+08:00","protocolApplied":[{"doseNumberPositiveInt":3}]}`
	got, err := ParseImmunization([]byte(im), now)
	if err != nil || got.Vaccine != "新冠病毒灭活疫苗（Vero细胞）" || got.Dose != 3 || got.GivenOn != "2021-06-15" {
		t.Errorf("CVX 511: %+v %v", got, err)
	}
}
