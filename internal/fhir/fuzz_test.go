package fhir

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"shequ/internal/errs"
	"shequ/internal/pii"
	"shequ/internal/store"
)

var inboundKeys = []string{KeyJSON, KeyResourceType, KeyRequired, KeyUnknownCode, KeyIdentifier, KeyIDNumber, KeyDate, KeyStatus, KeyDose}

// refused checks an inbound refusal: an invalid-input error with one of
// the documented keys, naming the path at fault.
func refused(t *testing.T, err error) {
	t.Helper()
	e, ok := errs.As(err)
	if !ok || e.Code != errs.Invalid || !slices.Contains(inboundKeys, e.Key) || e.Field == "" {
		t.Fatalf("refusal %v: want an invalid-input error with an inbound key and a path", err)
	}
}

func validSubject(t *testing.T, s Subject) {
	t.Helper()
	id, err := pii.ParseID(pii.DocResidentID, s.IDNumber, now)
	if err != nil || id.Number != s.IDNumber {
		t.Fatalf("subject number %q is not a normalised resident ID (%v)", s.IDNumber, err)
	}
}

// asJSON is s as encoding/json writes it back: invalid UTF-8 becomes U+FFFD.
func asJSON(s string) string { return string([]rune(s)) }

func FuzzParseObservation(f *testing.F) {
	_, _, ht := samples()
	for _, result := range []string{"negative", "positive", "pending", "invalid"} {
		x := ht
		x.Result = result
		f.Add(withSubject(&testing.T{}, ObservationOf(x), "subject"))
	}
	f.Add([]byte(`{"resourceType":"Observation","status":"preliminary","subject":{"identifier":{"system":"urn:oid:2.16.156.10011.1.5","value":"130503670401001"}},` +
		`"code":{"coding":[{"system":"urn:x"},{"system":"http://loinc.org","code":"94558-4"}]},"effectiveInstant":"2026-11-27T08:30:00.123456789Z","issued":"2026-11-27"}`))
	f.Add([]byte(`{"resourceType":"Observation","status":"final","subject":{"identifier":{"system":"urn:oid:2.16.156.10011.1.5","value":"11010519491231002x"}},` +
		`"code":{"coding":[{"system":"http://loinc.org","code":"94500-6"}]},"effectiveDateTime":"2026-11-27","dataAbsentReason":{}}`))
	f.Add([]byte(`{"resourceType":"Observation","code":{"coding":[1]}}`))
	f.Add([]byte(`[1,2]`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := ParseObservation(data, now)
		if err != nil {
			refused(t, err)
			return
		}
		validSubject(t, got.Subject)
		if _, ok := TestByKind(got.Kind); !ok || !slices.Contains([]string{"negative", "positive", "invalid", "pending"}, got.Result) || got.SampledAt.IsZero() {
			t.Fatalf("accepted %+v", got)
		}
		// Sent back out and read again, it means the same.
		x := store.HealthTest{ID: got.Ref, Kind: got.Kind, Result: got.Result, SampledAt: got.SampledAt, ResultAt: got.ResultAt, Institution: got.Institution}
		again, err := ParseObservation(withSubject(t, ObservationOf(x), "subject"), now)
		if err != nil {
			t.Fatalf("re-reading %+v: %v", x, err)
		}
		if again.Kind != got.Kind || again.Result != got.Result || !again.SampledAt.Equal(got.SampledAt.Truncate(time.Second)) ||
			!again.ResultAt.Equal(got.ResultAt.Truncate(time.Millisecond)) || again.Institution != asJSON(got.Institution) || again.Ref != asJSON(got.Ref) {
			t.Fatalf("round trip changed %+v into %+v", got, again)
		}
	})
}

func FuzzParseImmunization(f *testing.F) {
	_, v, _ := samples()
	for _, vc := range Vaccines {
		x := v
		x.Vaccine = vc.Name
		f.Add(withSubject(&testing.T{}, ImmunizationOf(x), "patient"))
	}
	f.Add([]byte(`{"resourceType":"Immunization","status":"completed","patient":{"identifier":{"system":"urn:oid:2.16.156.10011.1.5","value":"11010519491231002X"}},` +
		`"vaccineCode":{"text":" 流感病毒裂解疫苗 "},"occurrenceDateTime":"2021-06-15T23:30:00Z","protocolApplied":[{"doseNumberString":" 3rd"}]}`))
	f.Add([]byte(`{"resourceType":"Immunization","status":"completed","patient":{"identifier":{"system":"urn:oid:2.16.156.10011.1.5","value":"11010519491231002X"}},` +
		`"vaccineCode":{"coding":[{"system":"http://hl7.org/fhir/sid/cvx","code":""}]},"occurrenceString":"last week","protocolApplied":[{"doseNumberPositiveInt":-1}]}`))
	f.Add([]byte(`{"resourceType":"Immunization","protocolApplied":{}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := ParseImmunization(data, now)
		if err != nil {
			refused(t, err)
			return
		}
		validSubject(t, got.Subject)
		vc, ok := VaccineByName(got.Vaccine)
		if !ok || vc.Name != got.Vaccine || got.Dose < 1 || got.Dose > 10 {
			t.Fatalf("accepted %+v", got)
		}
		if d, err := time.Parse(time.DateOnly, got.GivenOn); err != nil || d.Format(time.DateOnly) != got.GivenOn {
			t.Fatalf("given on %q", got.GivenOn)
		}
		x := store.Vaccination{ID: got.Ref, Vaccine: got.Vaccine, Dose: got.Dose, GivenOn: got.GivenOn, Lot: got.Lot, Site: got.Site}
		again, err := ParseImmunization(withSubject(t, ImmunizationOf(x), "patient"), now)
		if err != nil {
			t.Fatalf("re-reading %+v: %v", x, err)
		}
		if again.Vaccine != got.Vaccine || again.Dose != got.Dose || again.GivenOn != got.GivenOn || again.Lot != asJSON(got.Lot) ||
			again.Site != asJSON(got.Site) || again.Ref != asJSON(got.Ref) {
			t.Fatalf("round trip changed %+v into %+v", got, again)
		}
	})
}

// FuzzExportRoundTrip starts from ledger records: exported and read back
// in, a test or a dose means what it meant.
func FuzzExportRoundTrip(f *testing.F) {
	f.Add(uint8(0), uint8(1), int64(1795833000), int64(43200), "咸阳市第一人民医院", uint8(1), uint8(2), int32(18793), "202106A031", "秦都区疾控中心接种点", "张秀英", uint16(2))
	f.Add(uint8(2), uint8(2), int64(-2208988800), int64(0), " \t", uint8(4), uint8(10), int32(-25567), "", "", "欧阳 娜娜", uint16(999))
	f.Add(uint8(1), uint8(3), int64(0), int64(-1), "\xff", uint8(0), uint8(1), int32(0), " x ", "\u3000", "John  Smith", uint16(0))
	kinds := []string{"nucleic", "antigen", "antibody"}
	results := []string{"negative", "positive", "pending", "invalid"}
	f.Fuzz(func(t *testing.T, kind, result uint8, sampled, resultAfter int64, inst string, vaccine, dose uint8, day int32, lot, site, name string, seq uint16) {
		// Times between 1900 and 2100, as the ledger holds them (to the
		// second, results to the millisecond).
		const span = 200 * 366 * 86400
		sampledAt := time.Unix(-2208988800+((sampled%span)+span)%span, 0).UTC()
		var resultAt time.Time
		if resultAfter >= 0 {
			resultAt = sampledAt.Add(time.Duration(resultAfter%(30*86400*1000)) * time.Millisecond)
		}
		first17 := "11010519491231" + string(rune('0'+seq%10)) + string(rune('0'+seq/10%10)) + string(rune('0'+seq/100%10))
		number := first17 + string(pii.IDCheckChar(first17))
		withWho := func(r any, field string) []byte {
			b, _ := json.Marshal(r)
			var m map[string]any
			json.Unmarshal(b, &m)
			m[field] = map[string]any{"identifier": map[string]any{"system": IdentifierSystemResidentID, "value": number}, "display": name}
			out, _ := json.Marshal(m)
			return out
		}
		ht := store.HealthTest{ID: "t1", Kind: kinds[int(kind)%len(kinds)], Result: results[int(result)%len(results)], SampledAt: sampledAt, ResultAt: resultAt, Institution: inst}
		got, err := ParseObservation(withWho(ObservationOf(ht), "subject"), now)
		if err != nil {
			t.Fatalf("exported %+v does not read back: %v", ht, err)
		}
		if got.Kind != ht.Kind || got.Result != ht.Result || !got.SampledAt.Equal(ht.SampledAt) || !got.ResultAt.Equal(ht.ResultAt) ||
			got.Institution != strings.TrimSpace(asJSON(inst)) || got.IDNumber != number || got.Name != pii.NormalizeText(asJSON(name)) {
			t.Fatalf("%+v came back as %+v", ht, got)
		}
		v := store.Vaccination{ID: "v1", Vaccine: Vaccines[int(vaccine)%len(Vaccines)].Name, Dose: 1 + int(dose)%10,
			GivenOn: time.Date(1970, 1, 1+int(day)%(60*366), 0, 0, 0, 0, time.UTC).Format(time.DateOnly), Lot: lot, Site: site}
		dv, err := ParseImmunization(withWho(ImmunizationOf(v), "patient"), now)
		if err != nil {
			t.Fatalf("exported %+v does not read back: %v", v, err)
		}
		if dv.Vaccine != v.Vaccine || dv.Dose != v.Dose || dv.GivenOn != v.GivenOn || dv.Lot != strings.TrimSpace(asJSON(lot)) ||
			dv.Site != strings.TrimSpace(asJSON(site)) || dv.IDNumber != number {
			t.Fatalf("%+v came back as %+v", v, dv)
		}
	})
}
