// Package fhir turns ledger records into HL7 FHIR R4 (4.0.1) resources and
// reads the inbound ones the health side sends. It has its own minimal
// types: only the elements shequ writes or reads, each with its R4 JSON
// name. It does no permission checks and no database work: the caller
// decides what may be revealed and passes plain values only then.
//
// Code systems (docs/exchange.md has the tables):
//   - the resident ID (居民身份证号码): IdentifierSystemResidentID, with
//     identifier type v2-0203 "NNCHN" (national person identifier, China);
//   - tests: LOINC (94500-6 SARS-CoV-2 RNA by NAA, 94558-4 antigen, 94661-6
//     antibody); results: SNOMED CT 10828004 positive / 260385009 negative;
//   - vaccines: shequ's own code system VaccineSystem, plus CVX where one
//     product code fits.
package fhir

import (
	"encoding/json"
	"time"
)

// Systems and fixed URIs.
const (
	// IdentifierSystemResidentID names the 18-digit resident identity
	// number of GB 11643: an OID under 2.16.156.10011, the health
	// sector's branch of China's OID tree. It is a documented choice
	// (docs/exchange.md), not a registry look-up: a partner that names the
	// number differently is mapped at the API.
	IdentifierSystemResidentID = "urn:oid:2.16.156.10011.1.5"
	// IdentifierSystemMasked carries the masked number (1101**********002X)
	// when the full number may not be revealed. It is for people to read,
	// never for matching.
	IdentifierSystemMasked = "urn:shequ:masked-resident-id"
	// IdentifierTypeSystem is HL7 v2 table 0203 (identifier type).
	IdentifierTypeSystem = "http://terminology.hl7.org/CodeSystem/v2-0203"
	// IdentifierTypeNational is "national person identifier" for China.
	IdentifierTypeNational = "NNCHN"

	LOINC          = "http://loinc.org"
	SNOMED         = "http://snomed.info/sct"
	CVX            = "http://hl7.org/fhir/sid/cvx"
	VaccineSystem  = "urn:shequ:vaccine"
	CategorySystem = "http://terminology.hl7.org/CodeSystem/observation-category"
	AbsentSystem   = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
	AbsentURL      = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
)

// china is the time zone written into dateTimes (UTC+8, no daylight
// saving), fixed so no time-zone database is needed.
var china = time.FixedZone("CST", 8*3600)

// Coding is a code from a code system.
type Coding struct {
	System  string `json:"system,omitempty"`
	Code    string `json:"code,omitempty"`
	Display string `json:"display,omitempty"`
}

// CodeableConcept is codings and/or a text.
type CodeableConcept struct {
	Coding []Coding `json:"coding,omitempty"`
	Text   string   `json:"text,omitempty"`
}

// Extension is an extension with a code value (all this package uses).
type Extension struct {
	URL       string `json:"url"`
	ValueCode string `json:"valueCode,omitempty"`
}

// Element carries the extensions of a primitive value ("_value").
type Element struct {
	Extension []Extension `json:"extension,omitempty"`
}

// Identifier is a business identifier.
type Identifier struct {
	Use    string           `json:"use,omitempty"`
	Type   *CodeableConcept `json:"type,omitempty"`
	System string           `json:"system,omitempty"`
	Value  string           `json:"value,omitempty"`
	// ValueElement marks an absent value (masked).
	ValueElement *Element `json:"_value,omitempty"`
}

// Reference points at another resource, by literal reference, business
// identifier, or only a display text.
type Reference struct {
	Reference  string      `json:"reference,omitempty"`
	Identifier *Identifier `json:"identifier,omitempty"`
	Display    string      `json:"display,omitempty"`
}

// HumanName is a person's name; Chinese names are written whole in Text
// and split into family and given name.
type HumanName struct {
	Use    string   `json:"use,omitempty"`
	Text   string   `json:"text,omitempty"`
	Family string   `json:"family,omitempty"`
	Given  []string `json:"given,omitempty"`
}

// ContactPoint is a phone number.
type ContactPoint struct {
	System string `json:"system,omitempty"`
	Value  string `json:"value,omitempty"`
	Use    string `json:"use,omitempty"`
}

// Address is where someone lives.
type Address struct {
	Use     string `json:"use,omitempty"`
	Type    string `json:"type,omitempty"`
	Text    string `json:"text,omitempty"`
	Country string `json:"country,omitempty"`
}

// Meta is resource metadata.
type Meta struct {
	LastUpdated string `json:"lastUpdated,omitempty"`
}

// Patient is a person of the ledger.
type Patient struct {
	ResourceType string         `json:"resourceType"`
	ID           string         `json:"id,omitempty"`
	Meta         *Meta          `json:"meta,omitempty"`
	Identifier   []Identifier   `json:"identifier,omitempty"`
	Active       *bool          `json:"active,omitempty"`
	Name         []HumanName    `json:"name,omitempty"`
	Telecom      []ContactPoint `json:"telecom,omitempty"`
	Gender       string         `json:"gender,omitempty"`
	BirthDate    string         `json:"birthDate,omitempty"`
	Address      []Address      `json:"address,omitempty"`
}

// ImmunizationPerformer is who gave a dose.
type ImmunizationPerformer struct {
	Actor Reference `json:"actor"`
}

// ProtocolApplied says which dose of a series this was.
type ProtocolApplied struct {
	DoseNumberPositiveInt int `json:"doseNumberPositiveInt,omitempty"`
}

// Immunization is one vaccine dose.
type Immunization struct {
	ResourceType       string                  `json:"resourceType"`
	ID                 string                  `json:"id,omitempty"`
	Meta               *Meta                   `json:"meta,omitempty"`
	Identifier         []Identifier            `json:"identifier,omitempty"`
	Status             string                  `json:"status,omitempty"`
	VaccineCode        CodeableConcept         `json:"vaccineCode"`
	Patient            Reference               `json:"patient"`
	OccurrenceDateTime string                  `json:"occurrenceDateTime,omitempty"`
	PrimarySource      *bool                   `json:"primarySource,omitempty"`
	Location           *Reference              `json:"location,omitempty"`
	LotNumber          string                  `json:"lotNumber,omitempty"`
	Performer          []ImmunizationPerformer `json:"performer,omitempty"`
	ProtocolApplied    []ProtocolApplied       `json:"protocolApplied,omitempty"`
}

// Observation is one test result.
type Observation struct {
	ResourceType         string            `json:"resourceType"`
	ID                   string            `json:"id,omitempty"`
	Meta                 *Meta             `json:"meta,omitempty"`
	Identifier           []Identifier      `json:"identifier,omitempty"`
	Status               string            `json:"status,omitempty"`
	Category             []CodeableConcept `json:"category,omitempty"`
	Code                 CodeableConcept   `json:"code"`
	Subject              *Reference        `json:"subject,omitempty"`
	EffectiveDateTime    string            `json:"effectiveDateTime,omitempty"`
	Issued               string            `json:"issued,omitempty"`
	Performer            []Reference       `json:"performer,omitempty"`
	ValueCodeableConcept *CodeableConcept  `json:"valueCodeableConcept,omitempty"`
	DataAbsentReason     *CodeableConcept  `json:"dataAbsentReason,omitempty"`
}

// BundleSearch says why an entry is in a search result.
type BundleSearch struct {
	Mode string `json:"mode,omitempty"` // match, include
}

// BundleEntry is one resource of a bundle.
type BundleEntry struct {
	FullURL  string        `json:"fullUrl,omitempty"`
	Resource any           `json:"resource"`
	Search   *BundleSearch `json:"search,omitempty"`
}

// BundleLink is a link of a bundle (self, next).
type BundleLink struct {
	Relation string `json:"relation"`
	URL      string `json:"url"`
}

// Bundle is a search result set.
type Bundle struct {
	ResourceType string        `json:"resourceType"`
	ID           string        `json:"id,omitempty"`
	Meta         *Meta         `json:"meta,omitempty"`
	Type         string        `json:"type"`
	Total        *int          `json:"total,omitempty"`
	Link         []BundleLink  `json:"link,omitempty"`
	Entry        []BundleEntry `json:"entry,omitempty"`
}

// Marshal is json.Marshal, for callers that want the bytes of a resource.
func Marshal(resource any) ([]byte, error) { return json.Marshal(resource) }
