package exchange_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"shequ/internal/access"
	"shequ/internal/audit"
	"shequ/internal/errs"
	"shequ/internal/exchange"
	"shequ/internal/fhir"
	"shequ/internal/ledger"
	"shequ/internal/ledgerio"
	"shequ/internal/pii"
	"shequ/internal/store"
	"shequ/internal/testutil"
)

var t0 = time.Date(2026, 11, 28, 2, 0, 0, 0, time.UTC)

// idOf completes 17 digits with the GB 11643 check character.
func idOf(first17 string) string { return first17 + string(pii.IDCheckChar(first17)) }

var (
	zhangID = "11010519491231002X"      // 张秀英, lives in 丰乐社区
	liID    = idOf("61040219800101123") // 李建国, lives in 丰乐社区
	wangID  = idOf("61040219900202456") // 王小明, lives in 和园社区 (another community)
	nobody  = idOf("61040219700303789") // in no ledger
)

type fixture struct {
	s           *store.Store
	svc         *exchange.Service
	comm, other store.OrgNode
	staff       *access.Principal
	zhang, li   store.Person
	wang        store.Person
}

func setup(t *testing.T, s *store.Store) *fixture {
	ctx := context.Background()
	keys := pii.NewKeyring(bytes.Repeat([]byte{5}, 32))
	l := &ledger.Service{Store: s, Keys: keys, Audit: audit.New(func(b []byte) []byte { return keys.MAC(b, "audit") })}
	f := &fixture{s: s, svc: exchange.New(l)}
	var rooms [2]store.Place
	err := s.Write(ctx, func(tx *store.Tx) error {
		st := store.OrgNode{Code: "610402011000", Name: "渭滨街道", Level: store.LevelStreet}
		if err := tx.CreateOrgNode(ctx, &st, ""); err != nil {
			return err
		}
		f.comm = store.OrgNode{ParentID: st.ID, Code: "610402011002", Name: "丰乐社区", Level: store.LevelCommunity}
		if err := tx.CreateOrgNode(ctx, &f.comm, ""); err != nil {
			return err
		}
		f.other = store.OrgNode{ParentID: st.ID, Code: "610402011001", Name: "和园社区", Level: store.LevelCommunity}
		if err := tx.CreateOrgNode(ctx, &f.other, ""); err != nil {
			return err
		}
		for i, c := range []store.OrgNode{f.comm, f.other} {
			rooms[i] = store.Place{CommunityID: c.ID, Kind: store.PlaceRoom, Name: "101", Address: c.Name + "1号楼101室", RoomUse: "self"}
			if err := tx.CreatePlace(ctx, &rooms[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sys := ledger.Actor{Source: store.SourceUI}
	move := func(room store.Place, name, id, rel, hh string) store.Person {
		p, err := l.MoveIn(ctx, sys, room.ID, hh, ledger.PersonInput{Name: name, IDNumber: id, Phone: "13912345678", Residency: "registered"}, rel, "2020-01-01")
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	f.zhang = move(rooms[0], "张秀英", zhangID, "02", "")
	f.li = move(rooms[1-1], "李建国", liID, "02", "")
	f.wang = move(rooms[1], "王小明", wangID, "02", "")
	f.staff = &access.Principal{UserID: "u-staff", Name: "王芳", Assignments: []access.Assignment{{Role: access.Staff, NodePath: f.comm.Path}}}
	return f
}

func (f *fixture) actor(file string) exchange.Actor {
	return exchange.Actor{P: f.staff, Department: "秦都区疾控中心", Scope: f.comm.Path}
}

func csvOf(lines ...string) []byte { return []byte(strings.Join(lines, "\n") + "\n") }

func xlsxOf(t *testing.T, rows [][]any) []byte {
	t.Helper()
	x := excelize.NewFile()
	defer x.Close()
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := x.SetSheetRow("Sheet1", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	buf, err := x.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestCleanFilesApplyWithProvenance(t *testing.T) {
	clock := testutil.NewClock(t0)
	testutil.ForEachDB(t, clock.Now, func(t *testing.T, s *store.Store) {
		f := setup(t, s)
		ctx := context.Background()
		// Tests as CSV (GBK-free UTF-8 with a title row before the header).
		data := csvOf("2026年11月27日核酸检测结果,,,,,,",
			"身份证号码,姓名,检测类型,检测结果,采样时间,报告时间,检测机构",
			zhangID+",张秀英,核酸,阴性,2026-11-27 08:30,2026-11-27 20:00,咸阳市第一人民医院",
			strings.ToLower(liID)+",李建国,94558-4,260385009,2026/11/27 09:00,,",
			wangID+",王小明,核酸,阴性,2026-11-27 08:30,,",
			nobody+",赵六,抗原,阳性,2026-11-27,,")
		res, err := f.svc.Import(ctx, f.actor(""), exchange.KindTests, "11月27日结果.csv", data)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Problems) != 0 || res.Rows != 4 || res.Applied != 2 || len(res.Unmatched) != 2 ||
			res.Unmatched[0].Line != 5 || res.Unmatched[1].Line != 6 || res.Unmatched[1].IDMask != pii.MaskID(nobody) {
			t.Fatalf("result: %+v", res)
		}
		h, _ := s.Health(ctx, f.zhang.ID)
		if len(h.Tests) != 1 || h.Tests[0].Kind != "nucleic" || h.Tests[0].Result != "negative" || h.Tests[0].Source != store.SourceImport ||
			h.Tests[0].Institution != "咸阳市第一人民医院" || !h.Tests[0].SampledAt.Equal(time.Date(2026, 11, 27, 0, 30, 0, 0, time.UTC)) {
			t.Fatalf("zhang's test: %+v", h.Tests)
		}
		h, _ = s.Health(ctx, f.li.ID)
		if len(h.Tests) != 1 || h.Tests[0].Kind != "antigen" || h.Tests[0].Institution != "秦都区疾控中心" {
			t.Fatalf("li's test (LOINC and SNOMED codes; institution defaults to the department): %+v", h.Tests)
		}
		tl, _ := s.Timeline(ctx, f.zhang.ID, 5)
		if len(tl) == 0 || tl[0].Action != "test" || tl[0].Source != store.SourceImport || tl[0].Reason != "秦都区疾控中心 · 11月27日结果.csv" ||
			tl[0].ActorName != "王芳" {
			t.Fatalf("timeline: %+v", tl)
		}
		// The same file again changes nothing.
		res, err = f.svc.Import(ctx, f.actor(""), exchange.KindTests, "11月27日结果.csv", data)
		if err != nil || res.Applied != 0 || res.Unchanged != 2 {
			t.Fatalf("again: %+v %v", res, err)
		}

		// Vaccinations as .xlsx, with a date cell and a CVX code.
		book := xlsxOf(t, [][]any{
			{"身份证号码*", "姓名*", "疫苗名称*", "剂次*", "接种日期*", "接种单位", "疫苗批号"},
			{zhangID, "张秀英", "重组新冠病毒疫苗（CHO细胞）", 3, time.Date(2021, 6, 15, 0, 0, 0, 0, time.UTC), "秦都区疾控中心接种点", "202106A031"},
			{liID, "李建国", "511", "第2剂", "2021-05-01"},
			{nobody, "赵六", "流感疫苗", 1, "2025-10-01"},
		})
		res, err = f.svc.Import(ctx, f.actor(""), exchange.KindVaccinations, "接种.xlsx", book)
		if err != nil || len(res.Problems) != 0 || res.Applied != 2 || len(res.Unmatched) != 1 || res.Unmatched[0].Line != 4 {
			t.Fatalf("vaccinations: %+v %v", res, err)
		}
		h, _ = s.Health(ctx, f.zhang.ID)
		if len(h.Vaccinations) != 1 || h.Vaccinations[0].GivenOn != "2021-06-15" || h.Vaccinations[0].Dose != 3 ||
			h.Vaccinations[0].Lot != "202106A031" || h.Vaccinations[0].Source != store.SourceImport {
			t.Fatalf("zhang's doses: %+v", h.Vaccinations)
		}
		h, _ = s.Health(ctx, f.li.ID)
		if len(h.Vaccinations) != 1 || h.Vaccinations[0].Vaccine != "新冠病毒灭活疫苗（Vero细胞）" || h.Vaccinations[0].Dose != 2 {
			t.Fatalf("li's doses: %+v", h.Vaccinations)
		}
		entries, _ := s.AuditEntries(ctx, store.AuditFilter{Action: "exchange.import"})
		if len(entries) != 3 || !strings.Contains(entries[0].Detail, "接种.xlsx") {
			t.Fatalf("audit: %+v", entries)
		}
	})
}

func TestAFileWithProblemsAppliesNothing(t *testing.T) {
	clock := testutil.NewClock(t0)
	testutil.ForEachDB(t, clock.Now, func(t *testing.T, s *store.Store) {
		f := setup(t, s)
		ctx := context.Background()
		badCheck := liID[:17] + string("0123456789X"[(strings.IndexByte("0123456789X", liID[17])+1)%11])
		data := csvOf("身份证号码,姓名,检测类型,检测结果,采样时间",
			zhangID+",张秀英,核酸,阴性,2026-11-27 08:30",
			badCheck+",李建国,核酸,阴性,2026-11-27 08:30",
			zhangID+",张秀英,血常规,弱阳性,2026-11-27",
			liID+",李四,核酸,阴性,2026-12-30",
			wangID+",王小明,核酸,阴性,2026-11-27 08:30")
		res, err := f.svc.Import(ctx, f.actor(""), exchange.KindTests, "bad.csv", data)
		if err != nil {
			t.Fatal(err)
		}
		want := []struct {
			line     int
			col, key string
		}{
			{3, "身份证号码", ledgerio.KeyID(pii.ReasonCheck)},
			{4, "检测类型", "err.exchange.test_kind"},
			{4, "检测结果", "err.exchange.result"},
			{5, "采样时间", "err.exchange.future"},
		}
		if len(res.Problems) != len(want) || res.Applied != 0 {
			t.Fatalf("problems: %+v", res)
		}
		for i, w := range want {
			p := res.Problems[i]
			if p.Line != w.line || p.Column != w.col || p.Key != w.key {
				t.Errorf("problem %d: %+v, want %+v", i, p, w)
			}
		}
		if strings.Contains(res.Problems[0].Value, badCheck) {
			t.Error("the bad ID number is shown unmasked")
		}
		h, _ := s.Health(ctx, f.zhang.ID)
		if len(h.Tests) != 0 {
			t.Fatal("a file with problems wrote a row")
		}
		// A name that does not agree with the ledger is a problem too.
		res, _ = f.svc.Import(ctx, f.actor(""), exchange.KindTests, "name.csv",
			csvOf("身份证号码,姓名,检测类型,检测结果,采样时间", zhangID+",张秀兰,核酸,阴性,2026-11-27 08:30", liID+",李建国,核酸,阴性,2026-11-27 08:30"))
		if len(res.Problems) != 1 || res.Problems[0].Key != "err.exchange.name_mismatch" || res.Problems[0].Line != 2 || res.Applied != 0 {
			t.Fatalf("name mismatch: %+v", res)
		}
		// The error report lists them.
		b, err := exchange.ErrorReport(res.Problems, nil)
		if err != nil || len(b) < 100 {
			t.Fatalf("report: %v", err)
		}
		// Whole-file errors.
		if _, err := f.svc.Import(ctx, f.actor(""), exchange.KindTests, "x.csv", csvOf("姓名,结果", "张三,阴性")); !errs.Is(err, errs.Invalid) {
			t.Errorf("missing columns: %v", err)
		}
		out := exchange.Actor{P: &access.Principal{UserID: "u2", Assignments: []access.Assignment{{Role: access.Staff, NodePath: f.other.Path}}},
			Department: "疾控", Scope: f.comm.Path}
		if _, err := f.svc.Import(ctx, out, exchange.KindTests, "x.csv", data); !errs.Is(err, errs.Forbidden) {
			t.Errorf("outsider: %v", err)
		}
		a := f.actor("")
		a.Department = ""
		if _, err := f.svc.Import(ctx, a, exchange.KindTests, "x.csv", data); !errs.Is(err, errs.Invalid) {
			t.Errorf("no department: %v", err)
		}
	})
}

func TestCivilAffairsTags(t *testing.T) {
	clock := testutil.NewClock(t0)
	testutil.ForEachDB(t, clock.Now, func(t *testing.T, s *store.Store) {
		f := setup(t, s)
		ctx := context.Background()
		a := f.actor("")
		a.Department = "渭滨街道民政办"
		res, err := f.svc.Import(ctx, a, exchange.KindTags, "低保名单.csv", csvOf("公民身份号码,姓名,救助类别,变动",
			zhangID+",张秀英,低保,新增", zhangID+",张秀英,特困人员,", liID+",李建国,残疾,", nobody+",赵六,优抚,新增"))
		if err != nil || len(res.Problems) != 0 || res.Applied != 3 || len(res.Unmatched) != 1 {
			t.Fatalf("tags: %+v %v", res, err)
		}
		p, _ := s.Person(ctx, f.zhang.ID)
		if p.Tags != "subsistence,extreme_poverty" {
			t.Fatalf("zhang's tags: %q", p.Tags)
		}
		tl, _ := s.Timeline(ctx, f.zhang.ID, 5)
		logged := 0
		for _, c := range tl {
			if c.Action == "update" && c.Reason == "渭滨街道民政办 · 低保名单.csv" && strings.Contains(c.Changes, `"tags"`) {
				logged++
			}
		}
		if logged != 2 {
			t.Fatalf("timeline: %+v", tl)
		}
		// Leaving the list removes the tag; an unknown category is a problem.
		res, _ = f.svc.Import(ctx, a, exchange.KindTags, "退出.csv", csvOf("身份证号码,姓名,类别,变动", zhangID+",张秀英,低保,取消"))
		if res.Applied != 1 {
			t.Fatalf("removal: %+v", res)
		}
		if p, _ := s.Person(ctx, f.zhang.ID); p.Tags != "extreme_poverty" {
			t.Fatalf("after removal: %q", p.Tags)
		}
		res, _ = f.svc.Import(ctx, a, exchange.KindTags, "bad.csv", csvOf("身份证号码,姓名,类别,变动", zhangID+",张秀英,五保,新增", liID+",李建国,低保,改变"))
		if len(res.Problems) != 2 || res.Problems[0].Column != "类别" || res.Problems[1].Column != "变动" {
			t.Fatalf("bad tags: %+v", res)
		}
	})
}

func TestFHIRInboundAndExport(t *testing.T) {
	clock := testutil.NewClock(t0)
	testutil.ForEachDB(t, clock.Now, func(t *testing.T, s *store.Store) {
		f := setup(t, s)
		ctx := context.Background()
		partner := exchange.Actor{Name: "秦都区疾控中心接口", Department: "秦都区疾控中心", Scope: f.comm.Path}
		obs := func(id string) []byte {
			return []byte(`{"resourceType":"Observation","id":"lab-1","status":"final",
				"code":{"coding":[{"system":"http://loinc.org","code":"94500-6"}]},
				"subject":{"identifier":{"system":"` + fhir.IdentifierSystemResidentID + `","value":"` + id + `"},"display":"张秀英"},
				"effectiveDateTime":"2026-11-27T08:30:00+08:00",
				"valueCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"10828004"}]}}`)
		}
		rid, err := f.svc.ApplyObservation(ctx, partner, obs(zhangID))
		if err != nil || rid == "" {
			t.Fatalf("observation: %q %v", rid, err)
		}
		again, err := f.svc.ApplyObservation(ctx, partner, obs(zhangID))
		if err != nil || again != rid {
			t.Fatalf("sent twice: %q %v", again, err)
		}
		if _, err := f.svc.ApplyObservation(ctx, partner, obs(nobody)); !errs.Is(err, errs.NotFound) {
			t.Fatalf("unknown person: %v", err)
		}
		if _, err := f.svc.ApplyObservation(ctx, partner, obs(wangID)); !errs.Is(err, errs.NotFound) {
			t.Fatalf("person outside the scope: %v", err)
		}
		h, _ := s.Health(ctx, f.zhang.ID)
		if len(h.Tests) != 1 || h.Tests[0].ID != rid || h.Tests[0].Result != "positive" || h.Tests[0].Source != store.SourcePartner {
			t.Fatalf("tests: %+v", h.Tests)
		}
		tl, _ := s.Timeline(ctx, f.zhang.ID, 5)
		if tl[0].Reason != "秦都区疾控中心 · Observation/lab-1" || tl[0].ActorName != "秦都区疾控中心接口" {
			t.Fatalf("timeline: %+v", tl[0])
		}
		im := `{"resourceType":"Immunization","status":"completed","patient":{"identifier":{"system":"` + fhir.IdentifierSystemResidentID +
			`","value":"` + zhangID + `"}},"vaccineCode":{"coding":[{"system":"` + fhir.VaccineSystem + `","code":"influenza"}]},
			"occurrenceDateTime":"2025-10-08","lotNumber":"L1","protocolApplied":[{"doseNumberPositiveInt":1}]}`
		vid, err := f.svc.ApplyImmunization(ctx, partner, []byte(im))
		if err != nil || vid == "" {
			t.Fatalf("immunization: %v", err)
		}
		// Export: masked unless revealed; round trip keeps the meaning.
		b, err := f.svc.PatientBundle(ctx, f.zhang.ID, exchange.Show{}, "")
		if err != nil || len(b.Entry) != 3 {
			t.Fatalf("bundle: %+v %v", b, err)
		}
		js, _ := json.Marshal(b)
		if strings.Contains(string(js), zhangID) || strings.Contains(string(js), "13912345678") || !strings.Contains(string(js), "1101**********002X") {
			t.Fatalf("masked bundle leaks: %s", js)
		}
		p, err := f.svc.Patient(ctx, f.zhang.ID, exchange.Show{IDNumber: true, Phone: true})
		if err != nil || p.Identifier[0].Value != zhangID || p.Telecom[0].Value != "13912345678" || p.Address[0].Text != "丰乐社区1号楼101室" {
			t.Fatalf("revealed patient: %+v %v", p, err)
		}
		ims, tests, _ := f.svc.Records(ctx, f.zhang.ID)
		if len(ims) != 1 || ims[0].ID != vid || len(tests) != 1 || tests[0].ValueCodeableConcept.Coding[0].Code != "10828004" {
			t.Fatalf("records: %+v %+v", ims, tests)
		}
		if id, err := f.svc.PersonByIDNumber(ctx, f.comm.Path, strings.ToLower(zhangID)); err != nil || id != f.zhang.ID {
			t.Fatalf("by ID number: %q %v", id, err)
		}
	})
}

func TestTemplates(t *testing.T) {
	for _, k := range exchange.Kinds {
		b, err := exchange.Template(k)
		if err != nil {
			t.Fatal(err)
		}
		x, err := excelize.OpenReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		rows, _ := x.GetRows(x.GetSheetList()[0])
		if len(rows) != 1 || rows[0][0] != "身份证号码*" || exchange.FileName(k) == "" {
			t.Errorf("%s template: %v", k, rows)
		}
		x.Close()
	}
}
