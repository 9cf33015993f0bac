package leads

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"shequ/internal/errs"
	"shequ/internal/pii"
)

var fuzzNow = time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)

// checkLeadFile asserts what every parse of a lead file must satisfy: a
// refusal is an invalid-input error with a message key and keeps no row;
// otherwise every line is either a good row or has problems, never both,
// and every good row holds what matching needs, normalised.
func checkLeadFile(t *testing.T, lf LeadFile, err error) {
	t.Helper()
	if err != nil {
		e, ok := errs.As(err)
		if !ok || e.Key == "" || e.Code != errs.Invalid {
			t.Fatalf("refusal %v is not an invalid-input error with a key", err)
		}
		if len(lf.Rows) != 0 || len(lf.Problems) != 0 {
			t.Fatalf("refused file kept %d rows and %d problems", len(lf.Rows), len(lf.Problems))
		}
		return
	}
	if len(lf.Rows)+len(lf.Problems) == 0 {
		t.Fatal("accepted a file without leads")
	}
	bad := map[int]bool{}
	for _, p := range lf.Problems {
		if p.Err == nil || p.Err.Key == "" || p.Err.Code != errs.Invalid || p.Column == "" || p.Line < 2 {
			t.Fatalf("problem without line, column or key: %+v", p)
		}
		bad[p.Line] = true
	}
	ids, last := map[string]int{}, 0
	for _, r := range lf.Rows {
		if bad[r.Line] || r.Line <= last {
			t.Fatalf("row %d: has problems too, or out of order (after %d)", r.Line, last)
		}
		last = r.Line
		if r.ID == "" && r.Phone == "" && r.HMAC == "" {
			t.Fatalf("row %d without any identifier: %+v", r.Line, r)
		}
		if r.Name == "" && r.HMAC == "" {
			t.Fatalf("row %d without a name: %+v", r.Line, r)
		}
		switch {
		case r.ID == "":
		case r.IDPartial:
			if len(r.ID) != 18 || strings.Trim(r.ID, "0123456789X*") != "" || strings.Count(r.ID, "*") > 12 || !strings.Contains(r.ID, "*") {
				t.Fatalf("row %d: bad masked number %q", r.Line, r.ID)
			}
		default:
			id, err := pii.ParseID(pii.DocResidentID, r.ID, fuzzNow)
			if err != nil || id.Number != r.ID {
				t.Fatalf("row %d: number %q is not a normalised resident ID (%v)", r.Line, r.ID, err)
			}
			if first, dup := ids[r.ID]; dup {
				t.Fatalf("rows %d and %d share the number %s", first, r.Line, r.ID)
			}
			ids[r.ID] = r.Line
		}
		if r.Phone != "" && !r.PhonePartial {
			if p, err := pii.NormalizePhone(r.Phone); err != nil || p != r.Phone {
				t.Fatalf("row %d: phone %q is not normalised", r.Line, r.Phone)
			}
		}
		if r.HMAC != "" {
			if len(r.HMAC) != 43 || strings.Trim(r.HMAC, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
				t.Fatalf("row %d: bad keyed identifier %q", r.Line, r.HMAC)
			}
			if first, dup := ids["#"+r.HMAC]; dup {
				t.Fatalf("rows %d and %d share the keyed identifier", first, r.Line)
			}
			ids["#"+r.HMAC] = r.Line
		}
		if r.Deadline != "" {
			if d, err := time.Parse(time.DateOnly, r.Deadline); err != nil || d.Format(time.DateOnly) != r.Deadline {
				t.Fatalf("row %d: deadline %q", r.Line, r.Deadline)
			}
		}
	}
}

func FuzzParseLeadFile(f *testing.F) {
	const head = "姓名,身份证号,手机号,地址,事由,截止日期\n"
	for _, s := range []string{
		head + "张秀英,11010519491231002X,13912345678,丰乐小区3号楼,密接,2026-12-01\n",
		head + "张秀英,11010519491231002x,,,,\n李四,11010519491231002X,,,,\n",
		head + "王五,1101**********002X,139****5678,,,2026/12/1\n",
		head + "赵六,,+86 139 1234 5678,,,\n赵六,,13912345678,,,\n",
		"标识码,姓名\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA,\n",
		"2026年11月协查名单\n\n" + head + "钱七,130503670401001,,,,2026.12.01\n",
		"name;id;phone\nx;6.10402E+17;1\n",
		head + ",,,,,\n\"未结束,",
		"\xef\xbb\xbf" + head + "孙八,11010519491231002X\n",
		"\xff\xfe姓\x00",
	} {
		f.Add([]byte(s))
	}
	gbk, _ := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(head + "周九,11010519491231002X,13912345678,,,\n"))
	f.Add(gbk)
	x := excelize.NewFile()
	for i, row := range [][]any{{"姓名", "身份证号", "手机号"}, {"吴十", "11010519491231002X", "13912345678"}, {"郑", "1101", ""}} {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		x.SetSheetRow("Sheet1", cell, &row)
	}
	var buf bytes.Buffer
	x.Write(&buf)
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		lf, err := ParseLeadFile(data, fuzzNow)
		checkLeadFile(t, lf, err)
	})
}

// FuzzParseLeadTable is the leads API: the JSON batch becomes a table in
// the API's layout, one row per lead, which parseTable reads.
func FuzzParseLeadTable(f *testing.F) {
	f.Add("张秀英", "11010519491231002X", "", "13912345678", "2026-12-01", "李四", "11010519491231002x", "", "")
	f.Add("", "", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "", "", "", "", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "")
	f.Add("王五", "1101**********002X", "", "139****5678", "2026/12/1", "王五", "", "", "139 1234 5678")
	f.Add("赵六", "", "", "+86 139 1234 5678", "x", "赵六", "", "", "13912345678")
	f.Add(" ", "\u3000", "", " ", "", "name", "id_number", "id_hmac", "phone")
	f.Fuzz(func(t *testing.T, name1, id1, hmac1, phone1, deadline1, name2, id2, hmac2, phone2 string) {
		table := [][]string{
			{"ref", "name", "id_number", "id_hmac", "phone", "address", "reason", "deadline"},
			{"a", name1, id1, hmac1, phone1, "", "", deadline1},
			{"b", name2, id2, hmac2, phone2, "", "", ""},
		}
		lf, err := parseTable(table, fuzzNow)
		checkLeadFile(t, lf, err)
		if err != nil {
			return
		}
		// Every lead the sender meant (anything to identify it by) comes
		// back as a row or with problems; index = line - 2.
		done := map[int]bool{}
		for _, r := range lf.Rows {
			done[r.Line] = true
		}
		for _, p := range lf.Problems {
			if p.Line != 2 && p.Line != 3 {
				t.Fatalf("problem on line %d of a two-lead batch", p.Line)
			}
			done[p.Line] = true
		}
		for i, l := range [][4]string{{name1, id1, hmac1, phone1}, {name2, id2, hmac2, phone2}} {
			blank := true
			for _, v := range l {
				blank = blank && strings.TrimSpace(pii.NormalizeText(v)) == ""
			}
			if !blank && !done[i+2] {
				t.Fatalf("lead %d %q vanished: %+v", i, l, lf)
			}
		}
	})
}
