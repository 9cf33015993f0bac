package fhir

import "shequ/internal/pii"

// TestCode is how a ledger test kind is coded: the LOINC code written on
// export, and the codes accepted on import.
type TestCode struct {
	Kind    string // ledger kind: nucleic, antigen, antibody
	Code    string // LOINC code written on export
	Display string
	Also    []string // further LOINC codes read as this kind
}

// TestCodes are the ledger's test kinds in LOINC.
var TestCodes = []TestCode{
	{Kind: "nucleic", Code: "94500-6", Display: "SARS-CoV-2 (COVID-19) RNA [Presence] in Respiratory specimen by NAA with probe detection",
		Also: []string{"94309-2", "94531-1"}},
	{Kind: "antigen", Code: "94558-4", Display: "SARS-CoV-2 (COVID-19) Ag [Presence] in Respiratory specimen by Rapid immunoassay",
		Also: []string{"97097-0"}},
	{Kind: "antibody", Code: "94661-6", Display: "SARS-CoV-2 (COVID-19) Ab [Interpretation] in Serum or Plasma"},
}

// ResultCode is how a ledger result is coded in SNOMED CT.
type ResultCode struct {
	Result  string // ledger result: positive, negative
	Code    string
	Display string
	Also    []string // "Detected" / "Not detected", read as the same
}

// ResultCodes are the coded results. "pending" has no value (status
// registered) and "invalid" a dataAbsentReason of "error".
var ResultCodes = []ResultCode{
	{Result: "positive", Code: "10828004", Display: "Positive", Also: []string{"260373001"}},
	{Result: "negative", Code: "260385009", Display: "Negative", Also: []string{"260415000"}},
}

// Vaccine is one entry of the vaccine code table: the name the ledger
// stores, shequ's own code, and CVX codes where they fit.
type Vaccine struct {
	Code    string   // in VaccineSystem
	Name    string   // as stored in vaccinations.vaccine
	Aliases []string // other names read on import
	CVX     string   // written on export when one CVX code fits the product
	AlsoCVX []string // further CVX codes read as this vaccine
}

// Vaccines are the vaccines the ledger knows.
var Vaccines = []Vaccine{
	{Code: "covid19-inactivated", Name: "新冠病毒灭活疫苗（Vero细胞）",
		Aliases: []string{"新冠病毒灭活疫苗", "新冠灭活疫苗", "灭活疫苗", "新型冠状病毒灭活疫苗（Vero细胞）"},
		AlsoCVX: []string{"510", "511", "516"}},
	{Code: "covid19-recombinant-cho", Name: "重组新冠病毒疫苗（CHO细胞）",
		Aliases: []string{"重组新型冠状病毒蛋白疫苗（CHO细胞）", "重组蛋白疫苗", "智飞"}, CVX: "507"},
	{Code: "covid19-adenovirus5", Name: "重组新冠病毒疫苗（5型腺病毒载体）",
		Aliases: []string{"腺病毒载体疫苗", "康希诺"}, CVX: "506"},
	{Code: "influenza", Name: "流感疫苗", Aliases: []string{"流感病毒裂解疫苗", "流行性感冒疫苗"}, CVX: "88"},
	{Code: "pneumococcal-ppsv23", Name: "23价肺炎球菌多糖疫苗", Aliases: []string{"肺炎疫苗", "PPV23"}, CVX: "33"},
}

// VaccineByName finds the table entry of a stored or typed vaccine name.
// Names are compared as pii.NormalizeText leaves them (full-width
// brackets and spaces as typed in Excel are the same name).
func VaccineByName(name string) (Vaccine, bool) {
	name = pii.NormalizeText(name)
	for _, v := range Vaccines {
		if pii.NormalizeText(v.Name) == name || v.Code == name {
			return v, true
		}
		for _, a := range v.Aliases {
			if pii.NormalizeText(a) == name {
				return v, true
			}
		}
	}
	return Vaccine{}, false
}

// VaccineByCode finds a vaccine by a coding's system and code.
func VaccineByCode(system, code string) (Vaccine, bool) {
	for _, v := range Vaccines {
		switch system {
		case VaccineSystem:
			if v.Code == code {
				return v, true
			}
		case CVX:
			if v.CVX == code && code != "" {
				return v, true
			}
			for _, c := range v.AlsoCVX {
				if c == code {
					return v, true
				}
			}
		}
	}
	return Vaccine{}, false
}

// TestByKind finds the coding of a ledger test kind.
func TestByKind(kind string) (TestCode, bool) {
	for _, t := range TestCodes {
		if t.Kind == kind {
			return t, true
		}
	}
	return TestCode{}, false
}

// TestByLOINC finds the ledger test kind of a LOINC code.
func TestByLOINC(code string) (TestCode, bool) {
	for _, t := range TestCodes {
		if t.Code == code {
			return t, true
		}
		for _, a := range t.Also {
			if a == code {
				return t, true
			}
		}
	}
	return TestCode{}, false
}

// ResultBySNOMED finds the ledger result of a SNOMED CT code.
func ResultBySNOMED(code string) (ResultCode, bool) {
	for _, r := range ResultCodes {
		if r.Code == code {
			return r, true
		}
		for _, a := range r.Also {
			if a == code {
				return r, true
			}
		}
	}
	return ResultCode{}, false
}

func resultCode(result string) (ResultCode, bool) {
	for _, r := range ResultCodes {
		if r.Result == result {
			return r, true
		}
	}
	return ResultCode{}, false
}
