package exchange

import (
	"slices"
	"testing"
	"time"
	"unicode/utf8"

	"shequ/internal/errs"
	"shequ/internal/fhir"
	"shequ/internal/pii"
)

// FuzzCheckFile runs the checking half of Import (everything before the
// ledger is asked who the people are) on an inbound file of each kind.
func FuzzCheckFile(f *testing.F) {
	for _, s := range []struct {
		kind uint8
		data string
	}{
		{0, "身份证号码,姓名,检测类型,检测结果,采样时间,报告时间,检测机构\n11010519491231002X,张秀英,核酸,阴性,2026-11-27 08:30,2026-11-27 20:00,咸阳市第一人民医院\n"},
		{0, "2026年11月检测结果\n身份证号码*,姓名*,检测项目,结果,采样日期\n11010519491231002x,张秀英,94500-6,260385009,46352.5\n1.10105E+17,李四,PCR,+,2026/11/27 8:30\n"},
		{0, "身份证号码,姓名,检测类型,检测结果,采样时间,报告时间\n11010519491231002X,张秀英,抗原,待出,2026-11-27T08:30:00+08:00,2026-11-26\n"},
		{1, "身份证号码,姓名,疫苗名称,剂次,接种日期,接种单位,疫苗批号\n11010519491231002X,张秀英," + fhir.Vaccines[0].Name + ",第2剂,2021-06-15,秦都区疾控中心接种点,202106A031\n"},
		{1, "居民身份证号码\t姓名\t疫苗\t针次\t接种时间\n130503670401001\t钱七\t208\t11\t20210615\n"},
		{2, "身份证号码,姓名,类别,变动\n11010519491231002X,张秀英,低保,新增\n11010519491231002X,张秀英,特困供养人员,注销\n,,,\n"},
		{2, "姓名,类别\n张秀英,低保\n"},
		{0, "<html>"},
		{1, "\xff\xfe\x00\x00"},
		{2, "身份证号码,姓名,类别\n\"11010519491231002X,\"\"张\n"},
	} {
		f.Add(s.kind, "file.csv", []byte(s.data))
	}
	f.Add(uint8(0), "file.xlsx", []byte("not a zip"))
	now := time.Date(2026, 11, 28, 2, 0, 0, 0, time.UTC)
	today := now.In(china).Format(time.DateOnly)
	f.Fuzz(func(t *testing.T, k uint8, name string, data []byte) {
		kind := Kinds[int(k)%len(Kinds)]
		cols := columns(kind)
		headers := map[string]bool{}
		for _, c := range cols {
			headers[c.header] = true
		}
		// As Import does.
		rows, err := readRows(name, data)
		var pos []int
		var headerAt int
		if err == nil {
			pos, headerAt, err = findHeader(rows, cols)
		}
		if err != nil {
			if e, ok := errs.As(err); !ok || e.Key == "" || e.Code != errs.Invalid {
				t.Fatalf("refusal %v is not an invalid-input error with a key", err)
			}
			return
		}
		lines := map[int]bool{}
		for _, r := range rows[headerAt+1:] {
			if lines[r.line] || r.line < 1 {
				t.Fatalf("line %d read twice or not counted", r.line)
			}
			lines[r.line] = true
			rec, probs := checkRow(kind, cols, pos, r, now, "疾控中心")
			for _, p := range probs {
				if p.Line != r.line || !headers[p.Column] || p.Key == "" {
					t.Fatalf("problem %+v of line %d: want its line, a column of the kind and a key", p, r.line)
				}
			}
			if len(probs) > 0 {
				continue
			}
			id, err := pii.ParseID(pii.DocResidentID, rec.idNumber, now)
			if err != nil || id.Number != rec.idNumber || rec.line != r.line {
				t.Fatalf("line %d: number %q is not a normalised resident ID (%v)", r.line, rec.idNumber, err)
			}
			if rec.name == "" || utf8.RuneCountInString(rec.name) > 40 {
				t.Fatalf("line %d: name %q", r.line, rec.name)
			}
			switch kind {
			case KindTests:
				if !slices.Contains([]string{"nucleic", "antigen", "antibody"}, rec.kind) ||
					!slices.Contains([]string{"negative", "positive", "invalid", "pending"}, rec.result) {
					t.Fatalf("line %d: kind %q result %q", r.line, rec.kind, rec.result)
				}
				if rec.sampled.IsZero() || rec.sampled.After(now.Add(time.Hour)) ||
					(!rec.reportd.IsZero() && (rec.reportd.Before(rec.sampled) || rec.reportd.After(now.Add(time.Hour)))) {
					t.Fatalf("line %d: sampled %v, result %v", r.line, rec.sampled, rec.reportd)
				}
				if rec.institution == "" || utf8.RuneCountInString(rec.institution) > 60 {
					t.Fatalf("line %d: institution %q", r.line, rec.institution)
				}
			case KindVaccinations:
				if _, ok := fhir.VaccineByName(rec.vaccine); !ok || rec.dose < 1 || rec.dose > 10 {
					t.Fatalf("line %d: vaccine %q dose %d", r.line, rec.vaccine, rec.dose)
				}
				d, err := time.Parse(time.DateOnly, rec.givenOn)
				if err != nil || d.Format(time.DateOnly) != rec.givenOn || rec.givenOn > today {
					t.Fatalf("line %d: given on %q", r.line, rec.givenOn)
				}
				if utf8.RuneCountInString(rec.site) > 60 || utf8.RuneCountInString(rec.lot) > 40 {
					t.Fatalf("line %d: site %q lot %q", r.line, rec.site, rec.lot)
				}
			case KindTags:
				if _, ok := lookupCode(rec.tag, civilTags); !ok || (rec.change != "add" && rec.change != "remove") {
					t.Fatalf("line %d: tag %q change %q", r.line, rec.tag, rec.change)
				}
			}
		}
	})
}
