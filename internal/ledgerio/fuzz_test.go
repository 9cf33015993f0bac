package ledgerio

import (
	"bytes"
	"testing"
	"time"

	"shequ/internal/errs"
)

func FuzzParseCSV(f *testing.F) {
	head := []byte(csvLine(headers()))
	body := func(b []byte) []byte { return b[len(head):] }
	f.Add(body(csvFile(headers(), person())))
	f.Add(body(csvFile(headers(), person(), person("证件号码", "110105491231002"), person("证件号码", "6.10402E+17"))))
	f.Add(body(csvFile(headers(), person("出生日期", "60", "入住日期", "45000.5", "关怀标签", "低保;;、 ,孕产妇", "单元", "3"))))
	f.Add([]byte("\"unterminated,\"\"x\r\n,,,,,,,,,,,,,,,,,,,,,,,,,\n\n\n"))
	f.Add([]byte("李,身份证,11010519491231002x,女,1949.12.31,汉,+8613800138000,常住,,1号,2,3室,02,出租,,婴幼儿,2099-01-01,\n"))
	f.Add([]byte{0xff, 0xfe, 0x00})
	known := map[string]bool{}
	for _, c := range Columns {
		known[c.Header] = true
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in := append(bytes.Clone(head), data...)
		rows, problems, err := Parse(bytes.NewReader(in), "fuzz.csv", now, Limits{MaxRows: 500})
		if err != nil {
			if !errs.Is(err, errs.Invalid) {
				t.Fatalf("err = %v, want an errs.Invalid", err)
			}
			return
		}
		bad := map[int]bool{}
		for _, p := range problems {
			if p.Line < 2 || !known[p.Column] {
				t.Fatalf("problem %+v: want Line ≥ 2 and a form column", p)
			}
			bad[p.Line] = true
		}
		for _, r := range rows {
			if r.Line < 2 || bad[r.Line] {
				t.Fatalf("row %d returned although it has problems or is the header", r.Line)
			}
			if r.Name == "" || r.ID.Number == "" || r.Residency == "" || r.Building == "" || r.Room == "" || r.Relation == "" {
				t.Fatalf("row without a required value: %+v", r)
			}
		}
	})
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2023-03-15", "2023/3/5", "2023.3.15", "2023年3月15日", "20230315",
		"45000", "45000.75", "60", "59", "1", "2958465", "2023-03-15 10:30", "1990", "１９９０-０１-０１"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := parseDate(s)
		if !ok {
			if !d.IsZero() {
				t.Fatalf("rejected %q but returned %v", s, d)
			}
			return
		}
		if d.Location() != time.UTC || d.Hour() != 0 || d.Minute() != 0 || d.Second() != 0 || d.Nanosecond() != 0 {
			t.Fatalf("%q → %v, want UTC midnight", s, d)
		}
		if d.Year() < 1800 || d.Year() > 9999 {
			t.Fatalf("%q → %v, year out of range", s, d)
		}
		back, ok := parseDate(d.Format(time.DateOnly))
		if !ok || !back.Equal(d) {
			t.Fatalf("%q → %v does not round-trip (%v %v)", s, d, back, ok)
		}
	})
}
