package web_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"shequ/internal/access"
	"shequ/internal/apptest"
	"shequ/internal/auth"
	"shequ/internal/leads"
	"shequ/internal/store"
)

// uploadBatch posts a lead file to the import form.
func uploadBatch(t *testing.T, e *apptest.Env, c *http.Client, node, name, deadline, csv string, validOnly bool) (int, string, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("node", node)
	mw.WriteField("name", name)
	mw.WriteField("deadline", deadline)
	if validOnly {
		mw.WriteField("valid_only", "yes")
	}
	fw, _ := mw.CreateFormFile("file", "leads.csv")
	fw.Write([]byte(csv))
	mw.Close()
	req, _ := http.NewRequest("POST", e.Server.URL+"/leads/batches", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf.Reset()
	buf.ReadFrom(resp.Body)
	b.Write(buf.Bytes())
	return resp.StatusCode, resp.Header.Get("Location"), b.String()
}

// A 1,000-lead batch imported at street level: a file with problems is
// refused naming each by row and column; the good rows flow down to the
// grids of the people's rooms and their workers; leads for people found
// only by phone or a masked ID are matched too; the rest wait at the
// street. Verified with proof (a quarantine goes into the health records),
// the street's board reaches zero.
func TestLeadBatchClearsToZero(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	ctx := context.Background()
	official := e.Login(t, access.Official)
	raw := store.RawForTest(e.App.Store)
	rows, err := raw.Query(`SELECT p.name, p.id_enc FROM persons p WHERE EXISTS (SELECT 1 FROM household_members m JOIN households h ON h.id = m.household_id
		WHERE m.person_id = p.id AND h.ended_at IS NULL AND (m.until IS NULL OR m.until >= '2026-11-28')) ORDER BY p.id_bidx LIMIT 990`)
	if err != nil {
		t.Fatal(err)
	}
	var csv strings.Builder
	csv.WriteString("序号,姓名,身份证号码,联系电话,报告地址,风险点\n")
	n := 0
	var masked string
	for rows.Next() {
		var name string
		var enc []byte
		rows.Scan(&name, &enc)
		id, _ := e.App.Keys.DecryptString(enc, "persons.id_number")
		n++
		if n == 5 { // the sender masked this one
			masked = name
			id = id[:4] + "**********" + id[14:]
		}
		fmt.Fprintf(&csv, "%d,%s,%s,,渭滨街道,11月20日到过某市场\n", n, name, id)
	}
	rows.Close()
	for i := 0; i < 10; i++ {
		n++
		fmt.Fprintf(&csv, "%d,查无此人%d,,1390000%04d,不详,同航班\n", n, i, i)
	}
	good := csv.String()
	first := strings.Split(strings.Split(good, "\n")[1], ",")
	bad := good + "1001,,61040219800101123X,,,\n1002," + first[1] + "," + first[2] + ",,,\n"
	var street string
	raw.QueryRow(`SELECT id FROM org_nodes WHERE code = '610402011000'`).Scan(&street)
	deadline := e.App.Store.Now().AddDate(0, 0, 2).Format("2006-01-02")
	st, _, body := uploadBatch(t, e, official, street, "11·28 市场关联人员", deadline, bad, false)
	if st != 400 || !strings.Contains(body, "<tr><td>1002</td><td>姓名</td>") || !strings.Contains(body, "<tr><td>1003</td><td>身份证号码</td><td>与第 2 行重复") {
		t.Fatalf("a file with problems: %d\n%s", st, snippet(body))
	}
	if st, _, body := uploadBatch(t, e, official, street, "x", deadline, "编号,名称\n1,2\n", false); st != 400 || !strings.Contains(body, "身份证号") {
		t.Fatalf("a file in another layout: %d\n%s", st, snippet(body))
	}
	st, loc, _ := uploadBatch(t, e, official, street, "11·28 市场关联人员", deadline, bad, true)
	if st != 303 {
		t.Fatalf("import of the good rows: %d", st)
	}
	batch := strings.TrimPrefix(strings.SplitN(loc, "?", 2)[0], "/leads/batches/")
	count := func(q string, args ...any) (c int) {
		raw.QueryRow(q, args...).Scan(&c)
		return c
	}
	if got := count(`SELECT count(*) FROM leads WHERE batch_id = $1`, batch); got != 1000 {
		t.Fatalf("%d leads stored, want 1000", got)
	}
	if got := count(`SELECT count(*) FROM leads WHERE batch_id = $1 AND match_kind = 'fuzzy' AND name = $2`, batch, masked); got != 1 {
		t.Fatal("the lead with a masked ID was not matched")
	}
	if got := count(`SELECT count(*) FROM leads l JOIN places r ON r.id = l.room_id JOIN role_assignments a ON a.node_id = r.grid_id AND a.user_id = l.assignee_id
		WHERE l.batch_id = $1 AND l.status = 'assigned'`, batch); got != 990 {
		t.Fatalf("%d leads with the worker of the person's grid, want 990", got)
	}
	_, body, _ = apptest.Do(t, official, "GET", e.Server.URL+loc, nil, nil)
	if !strings.Contains(body, `data-remaining="1000"`) || !strings.Contains(body, "丰乐社区") || !strings.Contains(body, "和园社区") {
		t.Fatalf("the street's board:\n%s", snippet(body))
	}
	// Past the deadline the board counts them overdue, and one press reminds
	// their workers, once a day.
	e.Clock.Advance(72 * time.Hour)
	official = e.Login(t, access.Official) // the sessions lapsed meanwhile
	_, body, _ = apptest.Do(t, official, "GET", e.Server.URL+loc, nil, nil)
	if !strings.Contains(body, `id="remind"`) {
		t.Fatalf("no reminder button on an overdue board:\n%s", snippet(body))
	}
	for i, want := range []int{990, 990} {
		st, _, _ := apptest.Do(t, official, "POST", e.Server.URL+"/leads/batches/"+batch+"/remind", url.Values{"node": {street}}, nil)
		if got := count(`SELECT count(*) FROM lead_events e JOIN leads l ON l.id = e.lead_id WHERE l.batch_id = $1 AND e.action = 'reminded'`, batch); st != 303 || got != want {
			t.Fatalf("reminder %d: %d, %d reminded", i+1, st, got)
		}
	}
	// The grid worker verifies one of theirs in the browser, with a photo,
	// and puts the person under home quarantine.
	grid := e.Login(t, access.Grid)
	gridUser := principal(t, e, access.Grid)
	var mine, person string
	raw.QueryRow(`SELECT id, person_id FROM leads WHERE batch_id = $1 AND assignee_id = $2 LIMIT 1`, batch, gridUser.UserID).Scan(&mine, &person)
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	for k, v := range map[string]string{"method": "visit", "outcome": "found", "note": "本人在家，无症状", "measure": "home_quarantine", "days": "7"} {
		mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("photo", "door.jpg")
	fw.Write(jpegBytes(t, 32))
	mw.Close()
	req, _ := http.NewRequest("POST", e.Server.URL+"/leads/"+mine+"/verify", &form)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := grid.Do(req)
	if err != nil || resp.StatusCode != 303 || strings.Contains(resp.Header.Get("Location"), "error") {
		t.Fatalf("verify in the browser: %v %v", err, resp)
	}
	resp.Body.Close()
	if got := count(`SELECT count(*) FROM monitoring WHERE person_id = $1 AND kind = 'home_quarantine' AND source = 'visit'`, person); got != 1 {
		t.Fatal("the quarantine is not in the person's health records")
	}
	// A visit without a photo is refused with the reason.
	var another string
	raw.QueryRow(`SELECT id FROM leads WHERE batch_id = $1 AND assignee_id = $2 AND status = 'assigned' LIMIT 1`, batch, gridUser.UserID).Scan(&another)
	if err := e.App.Web.Leads.Verify(ctx, gridUser, another, leads.VerifyInput{Method: "visit", Outcome: "found", Note: "x"}); err == nil {
		t.Fatal("a visit without a photo was accepted")
	}
	// Everyone else verifies theirs (the workers by phone, the street its
	// unmatched leads as not found).
	ids, _ := raw.Query(`SELECT l.id, COALESCE(l.assignee_id, '') FROM leads l WHERE l.batch_id = $1 AND l.status <> 'verified'`, batch)
	type todo struct{ id, user string }
	var all []todo
	for ids.Next() {
		var x todo
		ids.Scan(&x.id, &x.user)
		all = append(all, x)
	}
	ids.Close()
	offic := principal(t, e, access.Official)
	for _, x := range all {
		p := offic
		in := leads.VerifyInput{Method: "phone", Outcome: "not_found", Note: "电话无人接听，查无此人", CallRecord: "11月28日 拨打2次"}
		if x.user != "" {
			u, _ := e.App.Store.User(ctx, x.user)
			p, _ = e.App.Auth.Principal(ctx, u)
			in.Outcome, in.Note = "found", "电话联系本人，在家"
		}
		if err := e.App.Web.Leads.Verify(ctx, p, x.id, in); err != nil {
			t.Fatalf("verify %s: %v", x.id, err)
		}
	}
	_, body, _ = apptest.Do(t, official, "GET", e.Server.URL+loc, nil, nil)
	if !strings.Contains(body, `data-remaining="0"`) || !strings.Contains(body, "已清零") {
		t.Fatalf("the street's board after verification:\n%s", snippet(body))
	}
	// The report back: the sender's columns as sent, then the results.
	resp, err = official.Get(e.Server.URL + "/leads/batches/" + batch + "/report.xlsx?node=" + street)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("report: %v %v", err, resp)
	}
	xb, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	xf, err := excelize.OpenReader(bytes.NewReader(xb))
	if err != nil {
		t.Fatal(err)
	}
	xrows, _ := xf.GetRows(xf.GetSheetList()[0])
	var head []string
	for _, r := range xrows {
		if len(r) > 0 && r[0] == "序号" {
			head = r
		}
	}
	if len(head) < 8 || head[5] != "风险点" || head[6] != "核查状态" || head[7] != "核查结果" {
		t.Fatalf("report header: %v", head)
	}
	found := false
	for _, r := range xrows {
		if len(r) > 7 && r[1] == masked && r[7] == "在社区找到本人" {
			found = true
		}
	}
	if !found {
		t.Fatal("the report lacks the masked-ID lead with its outcome")
	}
	if count(`SELECT count(*) FROM audit_log WHERE action = 'export.leads' AND target_id = $1`, batch) != 1 {
		t.Fatal("the export is not audited")
	}
}

// A lead imported at one community for someone living in another waits
// there matched; one action transfers it, and it goes on to the grid
// worker of the person's room in the receiving community, with history.
func TestLeadTransferAcrossTheTree(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	ctx := context.Background()
	raw := store.RawForTest(e.App.Store)
	var compound, village string
	raw.QueryRow(`SELECT id FROM org_nodes WHERE code = '610402011001'`).Scan(&compound)
	raw.QueryRow(`SELECT id FROM org_nodes WHERE code = '610402011002'`).Scan(&village)
	comm, _ := e.App.Store.OrgNode(ctx, village)
	hits, _, _ := e.App.Store.Persons(ctx, store.PersonFilter{Scopes: []string{comm.Path}, Limit: 1})
	id, _ := e.App.Keys.DecryptString(hits[0].IDEnc, "persons.id_number")
	csv := "姓名,身份证号\n" + hits[0].Name + "," + id + "\n"
	st, loc, _ := uploadBatch(t, e, e.Login(t, access.Official), compound, "和园社区排查", e.App.Store.Today(), csv, false)
	if st != 303 {
		t.Fatalf("import: %d", st)
	}
	batch := strings.TrimPrefix(strings.SplitN(loc, "?", 2)[0], "/leads/batches/")
	var lead, node string
	raw.QueryRow(`SELECT id, node_id FROM leads WHERE batch_id = $1`, batch).Scan(&lead, &node)
	if node != compound {
		t.Fatalf("a lead for a village resident should wait at the compound, not at %s", node)
	}
	official := e.Login(t, access.Official)
	if st, _, _ := apptest.Do(t, official, "POST", e.Server.URL+"/leads/"+lead+"/transfer", url.Values{"code": {"610402011002"}, "reason": {"住在丰乐社区"}}, nil); st != 303 {
		t.Fatalf("transfer: %d", st)
	}
	var assignee string
	raw.QueryRow(`SELECT COALESCE(assignee_id, ''), node_id FROM leads WHERE id = $1`, lead).Scan(&assignee, &node)
	var workers int
	raw.QueryRow(`SELECT count(*) FROM role_assignments a JOIN places r ON r.grid_id = a.node_id WHERE r.id = $1 AND a.user_id = $2`, hits[0].RoomID, assignee).Scan(&workers)
	if workers != 1 {
		t.Fatalf("after the transfer the lead is at %s with %q, not with the person's grid worker", node, assignee)
	}
	_, body, _ := apptest.Do(t, official, "GET", e.Server.URL+"/leads/"+lead, nil, nil)
	if !strings.Contains(body, "转交") || !strings.Contains(body, "住在丰乐社区") {
		t.Fatalf("the lead's history:\n%s", snippet(body))
	}
}

// An upper level's system sends a batch by API naming people by keyed
// identifiers: residents are matched and routed; for the stranger the
// community keeps only the identifier; a malformed row is named by index;
// the results come back by the sender's refs.
func TestLeadBatchByAPIWithKeyedIdentifiers(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	ctx := context.Background()
	street, _ := e.App.Store.OrgNodeByCode(ctx, "610402011000")
	u, err := e.App.Auth.CreateUser(ctx, nil, auth.NewUser{Username: "district-api", DisplayName: "区指挥部系统", Kind: store.KindAPI, Role: access.Official, NodeID: street.ID}, "")
	if err != nil {
		t.Fatal(err)
	}
	token, err := e.App.Auth.IssueToken(ctx, nil, u.ID, "leads", "")
	if err != nil {
		t.Fatal(err)
	}
	k, keyB64, err := e.App.Web.Leads.CreateKey(ctx, nil, street.ID, "区指挥部数据共享协议")
	if err != nil {
		t.Fatal(err)
	}
	key, _ := base64.StdEncoding.DecodeString(keyB64)
	hits, _, _ := e.App.Store.Persons(ctx, store.PersonFilter{Scopes: []string{street.Path}, Limit: 3})
	body := map[string]any{"node": "610402011000", "name": "区推送", "deadline": e.App.Store.Today(), "key_id": k.ID}
	var ls []map[string]string
	for i, h := range hits {
		id, _ := e.App.Keys.DecryptString(h.IDEnc, "persons.id_number")
		ls = append(ls, map[string]string{"ref": fmt.Sprintf("D-%d", i), "id_hmac": leads.IDHMAC(key, id)})
	}
	stranger := leads.IDHMAC(key, "11010519491231002X")
	ls = append(ls, map[string]string{"ref": "D-3", "id_hmac": stranger}, map[string]string{"ref": "D-4", "id_hmac": "not-a-keyed-id"})
	body["leads"] = ls
	post := func() (int, map[string]any) {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", e.Server.URL+"/api/v1/leads/batches", bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	st, out := post()
	ps, _ := out["problems"].([]any)
	if st != 400 || len(ps) != 1 || ps[0].(map[string]any)["index"] != float64(4) {
		t.Fatalf("a malformed identifier: %d %v", st, out)
	}
	body["valid_only"] = true
	st, out = post()
	if st != 200 || out["matched"] != float64(3) || out["unmatched"] != float64(1) {
		t.Fatalf("the batch: %d %v", st, out)
	}
	var idEnc []byte
	var name, mask string
	store.RawForTest(e.App.Store).QueryRow(`SELECT id_enc, name, id_mask FROM leads WHERE id_hmac = $1`, stranger).Scan(&idEnc, &name, &mask)
	if idEnc != nil || name != "" || mask != "" {
		t.Fatal("the community learned something about a stranger")
	}
	req, _ := http.NewRequest("GET", e.Server.URL+"/api/v1/leads/batches/"+out["batch_id"].(string)+"/results", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Total, Remaining int
		Results          []struct{ Ref, Status string }
	}
	json.NewDecoder(resp.Body).Decode(&res)
	resp.Body.Close()
	if res.Total != 4 || res.Remaining != 4 || res.Results[3].Ref != "D-3" {
		t.Fatalf("results: %+v", res)
	}
}

// An agreement key is made on the leads page, shown once, and audited.
func TestLeadKeyShownOnce(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	var street string
	store.RawForTest(e.App.Store).QueryRow(`SELECT id FROM org_nodes WHERE code = '610402011000'`).Scan(&street)
	st, body, _ := apptest.Do(t, e.Login(t, access.Official), "POST", e.Server.URL+"/leads/keys", url.Values{"node": {street}, "name": {"区指挥部协议"}}, nil)
	if st != 200 || !strings.Contains(body, `id="key"`) || !strings.Contains(body, "只显示这一次") {
		t.Fatalf("key page: %d\n%s", st, snippet(body))
	}
	var n int
	store.RawForTest(e.App.Store).QueryRow(`SELECT count(*) FROM audit_log WHERE action = 'lead.key_created'`).Scan(&n)
	if n != 1 {
		t.Fatal("the key's creation is not audited")
	}
	if st, _, _ := apptest.Do(t, e.Login(t, access.Grid), "POST", e.Server.URL+"/leads/keys", url.Values{"node": {street}, "name": {"x"}}, nil); st != 403 {
		t.Fatalf("a grid worker made a key: %d", st)
	}
}
