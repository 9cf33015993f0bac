package fhir

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"shequ/internal/testutil"
)

// schemaFile is the official FHIR R4 JSON schema as shipped by the npm
// package in schema/package.json; CI installs it with
// `npm ci --prefix internal/fhir/schema`.
var schemaFile = filepath.Join("schema", "node_modules", "@asymmetrik", "fhir-json-schema-validator", "fhir.schema.json")

const schemaURL = "file:///fhir.r4.schema.json"

var (
	schemaOnce sync.Once
	schemaComp *jsonschema.Compiler
	schemaErr  error
	schemaMu   sync.Mutex
	compiled   = map[string]*jsonschema.Schema{}
)

// r4 returns the schema of one resource type (a definition of the R4
// schema), skipping the test when the schema is not installed (failing
// in CI).
func r4(t *testing.T, resourceType string) *jsonschema.Schema {
	t.Helper()
	schemaOnce.Do(func() {
		b, err := os.ReadFile(schemaFile)
		if err != nil {
			schemaErr = err
			return
		}
		// It must really be R4: the 4.0 schema id, and resources that
		// exist only in R4 (removed in R4B and R5).
		var head struct {
			ID          string                     `json:"id"`
			Definitions map[string]json.RawMessage `json:"definitions"`
		}
		if err := json.Unmarshal(b, &head); err != nil {
			schemaErr = err
			return
		}
		if head.ID != "http://hl7.org/fhir/json-schema/4.0" || head.Definitions["EffectEvidenceSynthesis"] == nil ||
			head.Definitions["MedicinalProductAuthorization"] == nil || head.Definitions["SubscriptionTopic"] != nil {
			schemaErr = os.ErrInvalid
			t.Errorf("%s is not the FHIR R4 schema (id %q)", schemaFile, head.ID)
			return
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			schemaErr = err
			return
		}
		c := jsonschema.NewCompiler()
		if err := c.AddResource(schemaURL, doc); err != nil {
			schemaErr = err
			return
		}
		schemaComp = c
	})
	if schemaErr != nil {
		if os.IsNotExist(schemaErr) {
			testutil.SkipOrFail(t, "the FHIR R4 schema is not installed (npm ci --prefix internal/fhir/schema)")
		}
		t.Fatalf("FHIR schema: %v", schemaErr)
	}
	schemaMu.Lock()
	defer schemaMu.Unlock()
	if s := compiled[resourceType]; s != nil {
		return s
	}
	s, err := schemaComp.Compile(schemaURL + "#/definitions/" + resourceType)
	if err != nil {
		t.Fatalf("compile %s: %v", resourceType, err)
	}
	compiled[resourceType] = s
	return s
}

// validate checks a resource (any Go value) against its R4 definition.
func validate(t *testing.T, resource any) error {
	t.Helper()
	b, err := json.Marshal(resource)
	if err != nil {
		t.Fatal(err)
	}
	var head struct {
		ResourceType string `json:"resourceType"`
	}
	json.Unmarshal(b, &head)
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return r4(t, head.ResourceType).Validate(inst)
}

func TestResourcesValidateAgainstR4Schema(t *testing.T) {
	p, v, ht := samples()
	patient := PatientOf(p, "丰乐小区3号楼1单元1502室", Reveal{IDNumber: zhangID, Phone: "13912345678"})
	masked := PatientOf(p, "", Reveal{})
	var obs []any
	for _, result := range []string{"negative", "positive", "pending", "invalid"} {
		x := ht
		x.Result = result
		obs = append(obs, ObservationOf(x))
	}
	ag := ht
	ag.Kind = "antigen"
	obs = append(obs, ObservationOf(ag))
	odd := v
	odd.Vaccine = "某种台账外疫苗"
	resources := append([]any{patient, masked, ImmunizationOf(v), ImmunizationOf(odd)}, obs...)
	for _, r := range resources {
		if err := validate(t, r); err != nil {
			b, _ := json.Marshal(r)
			t.Errorf("%s\ndoes not validate: %v", b, err)
		}
	}
	bundle := SearchSet("https://shequ.example/api/v1/fhir", []any{patient}, append([]any{ImmunizationOf(v)}, obs...))
	if err := validate(t, bundle); err != nil {
		t.Errorf("bundle does not validate: %v", err)
	}
	if len(bundle.Entry) != 7 || bundle.Entry[0].FullURL != "https://shequ.example/api/v1/fhir/Patient/"+p.ID || *bundle.Total != 1 {
		t.Errorf("bundle: %+v", bundle)
	}
}

// The validation can fail: broken resources are refused.
func TestBrokenResourcesFailTheSchema(t *testing.T) {
	p, v, ht := samples()
	im := ImmunizationOf(v)
	im.OccurrenceDateTime = "15/06/2021" // not a FHIR dateTime
	pat := PatientOf(p, "", Reveal{})
	pat.Gender = "f"
	pat.BirthDate = "1949-13-31"
	obs := ObservationOf(ht)
	obs.EffectiveDateTime = "2026-11-27 08:30" // a space is not a FHIR dateTime
	for name, r := range map[string]any{"immunization": im, "patient": pat, "observation": obs} {
		if err := validate(t, r); err == nil {
			t.Errorf("broken %s validated", name)
		}
	}
	// An element that R4 does not have.
	var m map[string]any
	b, _ := json.Marshal(ObservationOf(ht))
	json.Unmarshal(b, &m)
	m["valueColour"] = "green"
	if err := validate(t, m); err == nil || !strings.Contains(err.Error(), "valueColour") {
		t.Errorf("unknown element: %v", err)
	}
}
