package ledgerio

import (
	"archive/zip"
	"bytes"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"shequ/internal/errs"
	"shequ/internal/pii"
)

var now = time.Date(2026, 11, 28, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))

// The standard's own sample numbers (GB 11643-1999 annex): a woman born
// 1949-12-31 and a man born 1880-01-01.
const (
	idWoman = "11010519491231002X"
	idMan   = "440524188001010014"
)

func headers() []string {
	h := make([]string, len(Columns))
	for i, c := range Columns {
		h[i] = c.Header
	}
	return h
}

// person is a valid row as header → value; with overrides applied.
func person(kv ...string) map[string]string {
	m := map[string]string{
		"姓名": "李秀英", "证件号码": idWoman, "民族": "汉族", "手机号码": "13800138000",
		"人员类别": "户籍", "户籍地址": "北京市朝阳区建国路1号", "楼栋或门牌": "3号楼",
		"单元": "2单元", "房号": "1502", "与户主关系": "户主", "房屋用途": "自住",
		"入住日期": "2015-06-01",
	}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func csvLine(cells []string) string {
	out := make([]string, len(cells))
	for i, c := range cells {
		if strings.ContainsAny(c, ",\"\n") {
			c = `"` + strings.ReplaceAll(c, `"`, `""`) + `"`
		}
		out[i] = c
	}
	return strings.Join(out, ",") + "\r\n"
}

func csvFile(head []string, rows ...map[string]string) []byte {
	var b strings.Builder
	b.WriteString(csvLine(head))
	for _, r := range rows {
		cells := make([]string, len(head))
		for i, h := range head {
			cells[i] = r[h]
		}
		b.WriteString(csvLine(cells))
	}
	return []byte(b.String())
}

func parse(t testing.TB, data []byte, name string) ([]Row, []Problem) {
	t.Helper()
	rows, problems, err := Parse(bytes.NewReader(data), name, now, Limits{})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return rows, problems
}

// wantErr asserts a whole-file error with key.
func wantErr(t *testing.T, data []byte, name string, lim Limits, key string) *errs.Error {
	t.Helper()
	rows, problems, err := Parse(bytes.NewReader(data), name, now, lim)
	e, ok := errs.As(err)
	if !ok {
		t.Fatalf("err = %v (%d rows, %d problems), want %s", err, len(rows), len(problems), key)
	}
	if e.Key != key || e.Code != errs.Invalid {
		t.Fatalf("err = %v, want invalid %s", err, key)
	}
	if rows != nil || problems != nil {
		t.Errorf("rows/problems returned with a whole-file error")
	}
	return e
}

func findProblem(ps []Problem, line int, column, key string) *Problem {
	for i := range ps {
		if ps[i].Line == line && ps[i].Column == column && ps[i].Key == key {
			return &ps[i]
		}
	}
	return nil
}

func TestTemplateRoundTrip(t *testing.T) {
	tpl, err := Template()
	if err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(tpl))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); !slices.Equal(got, []string{FormSheet, helpSheet, codesSheet}) {
		t.Fatalf("sheets = %v", got)
	}
	if v, _ := f.GetSheetVisible(codesSheet); v {
		t.Error("代码表 is visible")
	}
	if v, _ := f.GetSheetVisible(helpSheet); !v {
		t.Error("填写说明 is hidden")
	}
	// Header: every column, required ones marked with a red *.
	for i, c := range Columns {
		cell, _ := excelize.CoordinatesToCellName(i+1, 1)
		runs, err := f.GetCellRichText(FormSheet, cell)
		if err != nil {
			t.Fatal(err)
		}
		var text string
		red := false
		for _, r := range runs {
			text += r.Text
			if r.Text == "*" && r.Font != nil && strings.HasSuffix(strings.ToUpper(r.Font.Color), "FF0000") {
				red = true
			}
		}
		if want := c.Header + map[bool]string{true: "*"}[c.Required]; text != want {
			t.Errorf("header %s = %q, want %q", cell, text, want)
		}
		if red != c.Required {
			t.Errorf("header %s red star = %v, required = %v", cell, red, c.Required)
		}
	}
	// Drop-downs for every column with choices, fed from the code sheet.
	dvs, err := f.GetDataValidations(FormSheet)
	if err != nil {
		t.Fatal(err)
	}
	lists := map[string]string{}
	for _, dv := range dvs {
		if dv.Type == "list" {
			lists[strings.SplitN(dv.Sqref, ":", 2)[0]] = dv.Formula1
		}
	}
	for i, c := range Columns {
		col, _ := excelize.ColumnNumberToName(i + 1)
		formula, ok := lists[col+"2"]
		if (len(c.Choices) > 0) != ok {
			t.Errorf("%s: drop-down %v, choices %d", c.Header, ok, len(c.Choices))
			continue
		}
		if ok && !strings.Contains(formula, codesSheet) {
			t.Errorf("%s: list %q is not on the code sheet", c.Header, formula)
		}
	}
	// The ID column is text, so Excel keeps all 18 digits.
	idStyle, err := f.GetColStyle(FormSheet, "C")
	if err != nil {
		t.Fatal(err)
	}
	st, _ := f.GetStyle(idStyle)
	if st == nil || st.NumFmt != 49 {
		t.Errorf("证件号码 column style = %+v, want text (49)", st)
	}
	if panes, _ := f.GetPanes(FormSheet); !panes.Freeze || panes.YSplit != 1 {
		t.Errorf("header not frozen: %+v", panes)
	}
	help, _ := f.GetRows(helpSheet)
	joined := fmt.Sprint(help)
	for _, c := range Columns {
		if !strings.Contains(joined, c.Header) {
			t.Errorf("填写说明 does not explain %s", c.Header)
		}
	}
	if !strings.Contains(joined, idWoman) {
		t.Error("填写说明 has no example row")
	}

	// Fill three people the way a user would.
	set := func(row int, header string, v any) {
		t.Helper()
		i := slices.Index(headers(), header)
		cell, _ := excelize.CoordinatesToCellName(i+1, row)
		if err := f.SetCellValue(FormSheet, cell, v); err != nil {
			t.Fatal(err)
		}
	}
	fill := func(row int, p map[string]string) {
		for h, v := range p {
			set(row, h, v)
		}
	}
	fill(2, person())
	// A full-width ID typed with a Chinese input method, no sex or birth.
	fill(3, person("姓名", "王建国", "证件号码", "４４０５２４１８８００１０１００１４", "与户主关系", "夫",
		"单元", "2", "房号", "1502室", "关怀标签", "独居老人；慢性病", "民族", "回"))
	// A passport holder, dates entered as Excel date serials.
	fill(4, person("姓名", "John Smith", "证件类型", "护照", "证件号码", "E12345678", "性别", "男",
		"民族", "", "人员类别", "流动", "与户主关系", "非亲属", "手机号码", "", "入住日期", ""))
	set(4, "出生日期", 32874)
	set(4, "入住日期", 45000)
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}

	rows, problems := parse(t, buf.Bytes(), "采集表.xlsx")
	if len(problems) != 0 {
		t.Fatalf("problems: %+v", problems)
	}
	if len(rows) != 3 {
		t.Fatalf("%d rows, want 3", len(rows))
	}
	r := rows[0]
	if r.Line != 2 || r.Name != "李秀英" || r.DocType != pii.DocResidentID || r.ID.Number != idWoman ||
		r.Sex != 2 || r.BirthDate != "1949-12-31" || r.Ethnicity != "01" || r.Phone != "13800138000" ||
		r.Residency != "registered" || r.Relation != "02" || r.RoomUse != "self" || r.Since != "2015-06-01" {
		t.Errorf("row 2 = %+v", r)
	}
	r = rows[1]
	if r.Line != 3 || r.ID.Number != idMan || r.Sex != 1 || r.BirthDate != "1880-01-01" ||
		r.Unit != "2单元" || r.Room != "1502" || r.Relation != "11" || r.Ethnicity != "03" ||
		!slices.Equal(r.Tags, []string{"elderly_alone", "chronic"}) {
		t.Errorf("row 3 = %+v", r)
	}
	r = rows[2]
	if r.Line != 4 || r.DocType != pii.DocPassport || r.ID.Number != "E12345678" || r.Sex != 1 ||
		r.BirthDate != "1990-01-01" || r.Since != "2023-03-15" || r.Residency != "floating" || r.Relation != "99" {
		t.Errorf("row 4 = %+v", r)
	}
}

func TestHeaderOrderAndAliases(t *testing.T) {
	head := []string{"房号", "与户主关系", "楼栋或门牌", "人员类别", "身份证号码", "＊姓名", "手机号"}
	p := person()
	p["身份证号码"], p["＊姓名"], p["手机号"] = p["证件号码"], p["姓名"], p["手机号码"]
	rows, problems := parse(t, csvFile(head, p), "a.csv")
	if len(problems) != 0 || len(rows) != 1 {
		t.Fatalf("rows %+v problems %+v", rows, problems)
	}
	if rows[0].Name != "李秀英" || rows[0].ID.Number != idWoman || rows[0].Room != "1502" || rows[0].Phone != "13800138000" {
		t.Errorf("row = %+v", rows[0])
	}
}

func TestMissingRequiredColumn(t *testing.T) {
	head := slices.DeleteFunc(headers(), func(h string) bool { return h == "房号" })
	e := wantErr(t, csvFile(head, person()), "a.csv", Limits{}, KeyColumns)
	if len(e.Args) != 2 || e.Args[0] != "房号" {
		t.Fatalf("args = %v, want the missing 房号 first", e.Args)
	}
	if e.Args[1] != strings.Join(headers(), "、") {
		t.Errorf("expected list = %v", e.Args[1])
	}

	// A file with no usable header names all required columns.
	e = wantErr(t, []byte("a,b,c\n1,2,3\n"), "a.csv", Limits{}, KeyColumns)
	if e.Args[0] != "姓名、证件号码、人员类别、楼栋或门牌、房号、与户主关系" {
		t.Errorf("missing = %v", e.Args[0])
	}
}

func TestUnknownAndDuplicateColumns(t *testing.T) {
	head := append(headers(), "微信号", "姓名")
	rows, problems := parse(t, csvFile(head, person("微信号", "wx123")), "a.csv")
	if len(rows) != 1 {
		t.Fatalf("rows = %d", len(rows))
	}
	p := findProblem(problems, 1, "", KeyColumnsIgnored)
	if p == nil || p.Args[0] != "微信号" {
		t.Errorf("problems = %+v", problems)
	}
	if findProblem(problems, 1, "姓名", KeyColumnDuplicate) == nil {
		t.Errorf("duplicate 姓名 column not reported: %+v", problems)
	}
}

func TestCSVEncodings(t *testing.T) {
	data := csvFile(headers(), person(), person("姓名", "王建国", "证件号码", idMan))
	gbk, err := simplifiedchinese.GB18030.NewEncoder().Bytes(data)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(gbk, data) {
		t.Fatal("encoding did nothing")
	}
	for name, in := range map[string][]byte{
		"gb18030": gbk,
		"bom":     append([]byte{0xEF, 0xBB, 0xBF}, data...),
		"utf8":    data,
	} {
		t.Run(name, func(t *testing.T) {
			rows, problems := parse(t, in, "名单.csv")
			if len(problems) != 0 || len(rows) != 2 {
				t.Fatalf("rows %d problems %+v", len(rows), problems)
			}
			if rows[0].Name != "李秀英" || rows[1].Name != "王建国" || rows[0].Building != "3号楼" || rows[1].Line != 3 {
				t.Errorf("rows = %+v", rows)
			}
		})
	}
}

func TestCSVLinesMatchSpreadsheetRows(t *testing.T) {
	// A title row, a blank line and a note with a line break: Excel shows
	// the header on row 2 and the bad row on row 6.
	var b strings.Builder
	b.WriteString("丰乐社区人员信息采集表\n")
	b.WriteString(csvLine(headers()))
	b.WriteString(string(csvFile(headers(), person("备注", "第一行\n第二行"))[len(csvLine(headers())):]))
	b.WriteString("\n")
	b.WriteString(string(csvFile(headers(), person("证件号码", idMan))[len(csvLine(headers())):]))
	b.WriteString(string(csvFile(headers(), person("证件号码", "110105194912310021"))[len(csvLine(headers())):]))
	rows, problems := parse(t, []byte(b.String()), "a.csv")
	if len(rows) != 2 || rows[0].Line != 3 || rows[1].Line != 5 || rows[0].Notes != "第一行 第二行" {
		t.Errorf("rows = %+v", rows)
	}
	if len(problems) != 1 || problems[0].Line != 6 {
		t.Errorf("problems = %+v", problems)
	}
}

func TestWrongCheckDigit(t *testing.T) {
	bad := "110105194912310021"
	_, problems := parse(t, csvFile(headers(), person(), person("证件号码", bad)), "a.csv")
	if len(problems) != 1 {
		t.Fatalf("problems = %+v", problems)
	}
	p := problems[0]
	if p.Line != 3 || p.Column != "证件号码" || p.Key != "err.import.id_check" {
		t.Errorf("problem = %+v", p)
	}
	if p.Value != pii.MaskID(bad) || strings.Contains(p.Value, "19491231") {
		t.Errorf("value %q is not masked", p.Value)
	}
}

func TestRowProblems(t *testing.T) {
	cases := []struct {
		name   string
		kv     []string
		column string
		key    string
	}{
		{"missing name", []string{"姓名", ""}, "姓名", KeyRequired},
		{"bad doc type", []string{"证件类型", "驾驶证"}, "证件类型", KeyChoice},
		{"id length", []string{"证件号码", "1101051949"}, "证件号码", "err.import.id_length"},
		{"id region", []string{"证件号码", residentID("990101", time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC), 1)}, "证件号码", "err.import.id_region"},
		{"sex contradicts id", []string{"性别", "男"}, "性别", KeySexMismatch},
		{"birth contradicts id", []string{"出生日期", "1949-12-30"}, "出生日期", KeyBirthMismatch},
		{"bad date", []string{"入住日期", "2015-13-01"}, "入住日期", KeyDate},
		{"year only", []string{"入住日期", "2015"}, "入住日期", KeyDate},
		{"since far ahead", []string{"入住日期", "2028-01-01"}, "入住日期", KeyDateTooFar},
		{"future birth", []string{"证件类型", "护照", "证件号码", "E1234567", "出生日期", "2026-11-29"}, "出生日期", KeyDateFuture},
		{"bad ethnicity", []string{"民族", "火星族"}, "民族", KeyEthnicity},
		{"bad phone", []string{"手机号码", "12345"}, "手机号码", KeyPhone},
		{"bad residency", []string{"人员类别", "暂住"}, "人员类别", KeyChoice},
		{"bad relation", []string{"与户主关系", "邻居"}, "与户主关系", KeyRelation},
		{"one-digit relation", []string{"与户主关系", "2"}, "与户主关系", KeyRelation},
		{"bad room use", []string{"房屋用途", "仓库"}, "房屋用途", KeyChoice},
		{"unknown tag", []string{"关怀标签", "独居老人、退役军人"}, "关怀标签", KeyTag},
		{"name too long", []string{"姓名", strings.Repeat("长", 51)}, "姓名", KeyTooLong},
		{"scientific id", []string{"证件号码", "6.10402E+17"}, "证件号码", KeyIDScientific},
		// 610402199002021234 typed as a number: Excel keeps 15 digits.
		{"id stored as number", []string{"证件号码", "610402199002021000"}, "证件号码", KeyIDScientific},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rows, problems := parse(t, csvFile(headers(), person(c.kv...)), "a.csv")
			if len(rows) != 0 {
				t.Errorf("bad row returned: %+v", rows)
			}
			if findProblem(problems, 2, c.column, c.key) == nil {
				t.Errorf("problems = %+v, want %s on %s", problems, c.key, c.column)
			}
		})
	}
}

func TestCodesAccepted(t *testing.T) {
	rows, problems := parse(t, csvFile(headers(),
		person("与户主关系", "02", "民族", "1", "人员类别", "常住人口", "证件类型", "身份证", "性别", "女",
			"出生日期", "1949年12月31日", "手机号码", "+86 138-0013-8000", "关怀标签", "低保 低保,婴幼儿"),
	), "a.csv")
	if len(problems) != 0 || len(rows) != 1 {
		t.Fatalf("rows %+v problems %+v", rows, problems)
	}
	r := rows[0]
	if r.Relation != "02" || r.Ethnicity != "01" || r.Residency != "permanent" || r.Phone != "13800138000" ||
		!slices.Equal(r.Tags, []string{"subsistence", "infant"}) {
		t.Errorf("row = %+v", r)
	}
}

func TestDuplicateInFile(t *testing.T) {
	// The 15-digit form of the same number is the same person.
	rows, problems := parse(t, csvFile(headers(),
		person(), person("姓名", "王建国", "证件号码", idMan), person("证件号码", "110105491231002")), "a.csv")
	if len(rows) != 2 {
		t.Errorf("rows = %d", len(rows))
	}
	if len(problems) != 1 {
		t.Fatalf("problems = %+v", problems)
	}
	p := problems[0]
	if p.Line != 4 || p.Column != "证件号码" || p.Key != KeyDuplicateInFile || len(p.Args) != 1 || p.Args[0] != 2 {
		t.Errorf("problem = %+v", p)
	}
}

// xlsxWith builds a form workbook with excelize and lets edit change it.
func xlsxWith(t *testing.T, edit func(f *excelize.File, cell func(header string, row int) string), people ...map[string]string) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	head := headers()
	cell := func(h string, row int) string {
		c, _ := excelize.CoordinatesToCellName(slices.Index(head, h)+1, row)
		return c
	}
	for i, h := range head {
		c, _ := excelize.CoordinatesToCellName(i+1, 1)
		f.SetCellValue("Sheet1", c, h)
	}
	for r, p := range people {
		for h, v := range p {
			f.SetCellValue("Sheet1", cell(h, r+2), v)
		}
	}
	if edit != nil {
		edit(f, cell)
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestFormulaCell(t *testing.T) {
	data := xlsxWith(t, func(f *excelize.File, cell func(string, int) string) {
		if err := f.SetCellFormula("Sheet1", cell("证件号码", 3), `"44052418800101"&"0014"`); err != nil {
			t.Fatal(err)
		}
		if err := f.SetCellFormula("Sheet1", cell("姓名", 4), "A2"); err != nil {
			t.Fatal(err)
		}
	}, person(), person("证件号码", ""), person("姓名", "", "证件号码", "130503196704010016"))
	rows, problems := parse(t, data, "a.xlsx")
	if len(rows) != 1 || rows[0].Line != 2 {
		t.Errorf("rows = %+v", rows)
	}
	if len(problems) != 2 {
		t.Fatalf("problems = %+v", problems)
	}
	if p := problems[0]; p.Line != 3 || p.Column != "证件号码" || p.Key != KeyFormula {
		t.Errorf("problem = %+v", p)
	}
	if p := problems[1]; p.Line != 4 || p.Column != "姓名" || p.Key != KeyFormula || p.Value != "=A2" {
		t.Errorf("problem = %+v", p)
	}
}

func TestScientificIDInWorkbook(t *testing.T) {
	// What Excel stores when an 18-digit number is typed into a General cell.
	data := xlsxWith(t, func(f *excelize.File, cell func(string, int) string) {
		// Excel's own XML for 610402199002021234 typed into a General cell,
		// and the same number written out in full by another program.
		f.SetCellDefault("Sheet1", cell("证件号码", 2), "6.1040219900202099E+17")
		f.SetCellFloat("Sheet1", cell("证件号码", 3), 6.10402199002021e17, -1, 64)
	}, person(), person())
	rows, problems := parse(t, data, "a.xlsx")
	if len(rows) != 0 {
		t.Errorf("rows = %+v", rows)
	}
	for _, line := range []int{2, 3} {
		if findProblem(problems, line, "证件号码", KeyIDScientific) == nil {
			t.Errorf("line %d: problems = %+v", line, problems)
		}
	}
}

func TestDate1904Workbook(t *testing.T) {
	data := xlsxWith(t, func(f *excelize.File, cell func(string, int) string) {
		yes := true
		if err := f.SetWorkbookProps(&excelize.WorkbookPropsOptions{Date1904: &yes}); err != nil {
			t.Fatal(err)
		}
		f.SetCellInt("Sheet1", cell("入住日期", 2), 45000-date1904Offset)
	}, person())
	rows, problems := parse(t, data, "mac.xlsx")
	if len(problems) != 0 || len(rows) != 1 || rows[0].Since != "2023-03-15" {
		t.Errorf("rows %+v problems %+v", rows, problems)
	}
}

func TestTitleRowAboveHeaderInWorkbook(t *testing.T) {
	f := excelize.NewFile()
	f.SetCellValue("Sheet1", "A1", "丰乐社区3号楼人员信息采集表")
	f.SetSheetRow("Sheet1", "A2", &[]string{"姓名*", "证件号码*", "人员类别*", "楼栋或门牌*", "房号*", "与户主关系*"})
	f.SetSheetRow("Sheet1", "A3", &[]string{"李秀英", idWoman, "户籍", "3号楼", "1502", "户主"})
	f.SetSheetRow("Sheet1", "A5", &[]string{"王建国", idMan, "户籍", "3号楼", "1502", "配偶"})
	buf, _ := f.WriteToBuffer()
	rows, problems := parse(t, buf.Bytes(), "a.xlsx")
	if len(problems) != 0 || len(rows) != 2 || rows[0].Line != 3 || rows[1].Line != 5 {
		t.Errorf("rows %+v problems %+v", rows, problems)
	}
}

func TestXLSRejected(t *testing.T) {
	xls := append(slices.Clone(oleMagic), make([]byte, 1024)...)
	copy(xls[600:], utf16le("Workbook"))
	wantErr(t, xls, "名单.xls", Limits{}, KeyXLSUnsupported)
}

func TestEncryptedRejected(t *testing.T) {
	// A password-protected .xlsx is a CFB container whose directory lists
	// an "EncryptedPackage" stream.
	enc := append(slices.Clone(oleMagic), make([]byte, 1536)...)
	copy(enc[1024:], utf16le("EncryptionInfo"))
	copy(enc[1152:], utf16le("EncryptedPackage"))
	wantErr(t, enc, "名单.xlsx", Limits{}, KeyEncrypted)
}

func TestCorruptAndEmpty(t *testing.T) {
	tpl, err := Template()
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, tpl[:len(tpl)/2], "a.xlsx", Limits{}, KeyCorrupt)
	wantErr(t, []byte("not a zip"), "a.xlsx", Limits{}, KeyCorrupt)
	wantErr(t, nil, "a.csv", Limits{}, KeyEmpty)
	wantErr(t, []byte("\r\n ,, \r\n"), "a.csv", Limits{}, KeyEmpty)
}

func TestBlankTemplateHasNoRows(t *testing.T) {
	tpl, _ := Template()
	rows, problems := parse(t, tpl, "a.xlsx")
	if len(rows) != 0 || len(problems) != 0 {
		t.Errorf("rows %+v problems %+v", rows, problems)
	}
}

func TestLimits(t *testing.T) {
	data := csvFile(headers(), person(), person("证件号码", idMan))
	e := wantErr(t, data, "a.csv", Limits{MaxBytes: int64(len(data)) - 1}, KeyTooLarge)
	if len(e.Args) != 1 || e.Args[0] != int64(1) {
		t.Errorf("args = %v", e.Args)
	}
	if _, _, err := Parse(bytes.NewReader(data), "a.csv", now, Limits{MaxBytes: int64(len(data))}); err != nil {
		t.Errorf("file of exactly MaxBytes: %v", err)
	}
	e = wantErr(t, data, "a.csv", Limits{MaxRows: 1}, KeyTooManyRows)
	if e.Args[0] != 1 {
		t.Errorf("args = %v", e.Args)
	}
}

func TestTenThousandBadRows(t *testing.T) {
	var b strings.Builder
	b.WriteString(csvLine(headers()))
	birth := time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 10_000; i++ {
		id := residentID("610104", birth.AddDate(0, 0, i), 1)
		id = id[:17] + string("0123456789X"[(strings.IndexByte("0123456789X", id[17])+1)%11]) // wrong check
		r := person("证件号码", id)
		cells := make([]string, len(Columns))
		for j, h := range headers() {
			cells[j] = r[h]
		}
		b.WriteString(csvLine(cells))
	}
	start := time.Now()
	rows, problems := parse(t, []byte(b.String()), "a.csv")
	elapsed := time.Since(start)
	if len(rows) != 0 || len(problems) != 10_000 {
		t.Fatalf("rows %d problems %d", len(rows), len(problems))
	}
	for i, p := range problems {
		if p.Line != i+2 || p.Key != "err.import.id_check" {
			t.Fatalf("problem %d = %+v", i, p)
		}
	}
	if elapsed > 5*time.Second {
		t.Errorf("10,000 bad rows took %v", elapsed)
	}
}

func TestParseDate(t *testing.T) {
	good := map[string]string{
		"2023-03-15": "2023-03-15", "2023/3/5": "2023-03-05", "2023.3.15": "2023-03-15",
		"2023年3月15日": "2023-03-15", "2023年3月15": "2023-03-15", "20230315": "2023-03-15",
		"45000": "2023-03-15", "45000.75": "2023-03-15", "1": "1900-01-01", "59": "1900-02-28",
		"61": "1900-03-01", "32874": "1990-01-01", "2023-03-15 10:30:00": "2023-03-15",
	}
	for in, want := range good {
		d, ok := parseDate(in)
		if !ok || d.Format(time.DateOnly) != want {
			t.Errorf("parseDate(%q) = %v %v, want %s", in, d, ok, want)
		}
	}
	for _, in := range []string{"", "60", "0", "1990", "2023-02-29", "2023-3", "15/03/2023", "abc", "2023-03-15x", "20231315", "3000000"} {
		if d, ok := parseDate(in); ok {
			t.Errorf("parseDate(%q) = %v, want rejected", in, d)
		}
	}
}

func TestExportRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	footer := "导出人：张三 2026-11-28 10:00 · 含个人信息，注意保密"
	ex, err := NewExport(&buf, Sheet{Title: "丰乐社区 3号楼 人员名单", Headers: []string{"姓名", "证件号码", "手机号码", "房号", "年龄", "入住日期"}, Footer: footer})
	if err != nil {
		t.Fatal(err)
	}
	since := time.Date(2015, 6, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 1000; i++ {
		if err := ex.Row(pii.MaskName("李秀英"), pii.MaskID(idWoman), pii.MaskPhone("13800138000"),
			fmt.Sprintf("%04d", i), 70+i%10, since); err != nil {
			t.Fatal(err)
		}
	}
	if err := ex.Row("=1+1", "610402199001011234", "0086"); err != nil {
		t.Fatal(err)
	}
	if err := ex.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ex.Row("late"); err == nil {
		t.Error("Row after Close succeeded")
	}
	data := bytes.Clone(buf.Bytes())

	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sh := f.GetSheetList()[0]
	get := func(cell string) string {
		v, err := f.GetCellValue(sh, cell)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if get("A1") != "丰乐社区 3号楼 人员名单" || get("A2") != "姓名" || get("F2") != "入住日期" {
		t.Errorf("title/header = %q %q %q", get("A1"), get("A2"), get("F2"))
	}
	if get("A3") != "李*英" || get("B3") != "1101**********002X" || get("C3") != "138****8000" || get("D3") != "0000" {
		t.Errorf("row 3 = %q %q %q %q", get("A3"), get("B3"), get("C3"), get("D3"))
	}
	if get("D1002") != "0999" || get("F3") != "2015-06-01" {
		t.Errorf("D1002 = %q, F3 = %q", get("D1002"), get("F3"))
	}
	// Strings stay text, however much they look like numbers or formulas.
	for _, c := range []string{"D3", "B1003", "C1003", "A1003"} {
		typ, _ := f.GetCellType(sh, c)
		if typ != excelize.CellTypeInlineString && typ != excelize.CellTypeSharedString {
			t.Errorf("%s type = %v, want a string", c, typ)
		}
		if formula, _ := f.GetCellFormula(sh, c); formula != "" {
			t.Errorf("%s became a formula %q", c, formula)
		}
	}
	if get("B1003") != "610402199001011234" || get("A1003") != "=1+1" {
		t.Errorf("row 1003 = %q %q", get("A1003"), get("B1003"))
	}
	if typ, _ := f.GetCellType(sh, "E3"); typ == excelize.CellTypeInlineString {
		t.Error("a number was written as text")
	}
	if get("A1005") != footer {
		t.Errorf("footer = %q", get("A1005"))
	}
	props, _ := f.GetDocProps()
	if props.Creator != footer {
		t.Errorf("creator = %q", props.Creator)
	}
	assertColsSorted(t, data)
}

// assertColsSorted checks the first worksheet's <col> elements ascend, or
// Excel offers to "repair" the file.
func assertColsSorted(t *testing.T, xlsx []byte) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(xlsx), int64(len(xlsx)))
	if err != nil {
		t.Fatal(err)
	}
	for _, zf := range zr.File {
		if zf.Name != "xl/worksheets/sheet1.xml" {
			continue
		}
		rc, _ := zf.Open()
		var b bytes.Buffer
		b.ReadFrom(rc)
		rc.Close()
		last := 0
		mins := regexp.MustCompile(`<col min="(\d+)"`).FindAllSubmatch(b.Bytes(), -1)
		if len(mins) == 0 {
			t.Error("no column widths")
		}
		for _, m := range mins {
			n := 0
			fmt.Sscan(string(m[1]), &n)
			if n <= last {
				t.Errorf("<col> elements out of order: %s", mins)
				return
			}
			last = n
		}
	}
}

func TestExportEmptyAndShort(t *testing.T) {
	var buf bytes.Buffer
	ex, err := NewExport(&buf, Sheet{Title: "a/b:c", Headers: []string{"姓名"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := ex.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if v, _ := f.GetCellValue(f.GetSheetList()[0], "A2"); v != "姓名" {
		t.Errorf("header = %q", v)
	}
}

func TestErrorReport(t *testing.T) {
	_, problems := parse(t, csvFile(headers(), person("证件号码", "110105194912310021", "手机号码", "1380013800")), "a.csv")
	if len(problems) != 2 {
		t.Fatalf("problems = %+v", problems)
	}
	tr := func(key string, args ...any) string { return "T(" + key + fmt.Sprint(args...) + ")" }
	data, err := ErrorReport(problems, tr)
	if err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(f.GetSheetList()[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || !slices.Equal(rows[0], []string{"行号", "列", "值", "问题"}) {
		t.Fatalf("rows = %q", rows)
	}
	if !slices.Equal(rows[1], []string{"2", "证件号码", pii.MaskID("110105194912310021"), "T(err.import.id_check)"}) {
		t.Errorf("row 2 = %q", rows[1])
	}
	if rows[2][1] != "手机号码" || strings.Contains(rows[2][2], "3800138") {
		t.Errorf("row 3 = %q (phone must be masked)", rows[2])
	}
	assertColsSorted(t, data)
}

// Every key the package can produce has both texts in MESSAGES.md.
func TestMessagesDocumented(t *testing.T) {
	doc, err := os.ReadFile("MESSAGES.md")
	if err != nil {
		t.Fatal(err)
	}
	src := ""
	for _, name := range []string{"parse.go", "xlsx.go", "csv.go"} {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		src += string(b)
	}
	keys := regexp.MustCompile(`"(err\.import\.[a-z_]+)"`).FindAllStringSubmatch(src, -1)
	for _, r := range []string{pii.ReasonEmpty, pii.ReasonLength, pii.ReasonChars, pii.ReasonRegion, pii.ReasonBirth, pii.ReasonCheck, pii.ReasonType} {
		keys = append(keys, []string{"", KeyID(r)})
	}
	if len(keys) < 30 {
		t.Fatalf("only %d keys found", len(keys))
	}
	for _, k := range keys {
		if k[1] == "err.import.id_" {
			continue
		}
		line := regexp.MustCompile("(?m)^\\| `" + regexp.QuoteMeta(k[1]) + "` \\|[^|]*\\p{Han}[^|]*\\|[^|]*[a-zA-Z][^|]*\\|")
		if !line.Match(doc) {
			t.Errorf("MESSAGES.md lacks a row for %s", k[1])
		}
	}
}

// zipOf is a minimal zip with the given files, for malformed workbooks.
func zipOf(t *testing.T, files map[string]string) []byte {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for name, body := range files {
		fw, err := w.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write([]byte(body))
	}
	w.Close()
	return buf.Bytes()
}

func TestZipThatIsNotAWorkbook(t *testing.T) {
	wantErr(t, zipOf(t, map[string]string{"readme.txt": "hello"}), "a.xlsx", Limits{}, KeyCorrupt)
}

func TestMayHaveFormulaAcrossReads(t *testing.T) {
	for _, tag := range []string{"<f>A1</f>", `<x:f t="shared" si="0"/>`} {
		for off := 256<<10 - 4; off <= 256<<10+1; off++ {
			body := strings.Repeat("<v>1</v>", off/8+1)[:off] + tag + "</c>"
			data := zipOf(t, map[string]string{"sheet.xml": body})
			zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
			if err != nil {
				t.Fatal(err)
			}
			if found, err := mayHaveFormula(zr.File[0]); err != nil || !found {
				t.Errorf("%s at %d: found %v, %v", tag, off, found, err)
			}
		}
	}
	data := zipOf(t, map[string]string{"sheet.xml": strings.Repeat("<c r=\"A1\"><v>1</v></c><filter/>", 20000)})
	zr, _ := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if found, _ := mayHaveFormula(zr.File[0]); found {
		t.Error("formula found in a sheet without one")
	}
}
