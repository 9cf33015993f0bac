package web_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"shequ/internal/access"
	"shequ/internal/apptest"
	"shequ/internal/store"
)

func uploadExchange(t *testing.T, c *http.Client, u string, fields map[string]string, name string, data []byte) (int, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(data)
	mw.Close()
	req, _ := http.NewRequest("POST", u, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out bytes.Buffer
	out.ReadFrom(resp.Body)
	return resp.StatusCode, out.String()
}

// Staff upload a health-side file: problems are listed by row and column
// with nothing applied and a downloadable report; a clean file is applied
// and the unmatched rows are listed. Grid workers may not import.
func TestExchangeUpload(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	staff := e.Login(t, access.Staff)
	base := e.Server.URL
	ctx := context.Background()

	st, body, _ := apptest.Do(t, staff, "GET", base+"/exchange", nil, nil)
	if st != 200 || !strings.Contains(body, `id="upload"`) || strings.Contains(body, "exchange.kind") || strings.Contains(body, "exchange.title") {
		t.Fatalf("page: %d", st)
	}
	nodeID := between(body, `name="node" required><option value="`, `"`)
	node, err := e.App.Store.OrgNode(ctx, nodeID)
	if err != nil {
		t.Fatalf("node %q: %v", nodeID, err)
	}
	hits, _, err := e.App.Store.Persons(ctx, store.PersonFilter{Scopes: []string{node.Path}, Limit: 1})
	if err != nil || len(hits) == 0 {
		t.Fatalf("a demo person: %v", err)
	}
	id, err := e.App.Ledger.PlainID(hits[0].Person)
	if err != nil {
		t.Fatal(err)
	}
	st, _, h := apptest.Do(t, staff, "GET", base+"/exchange/template/vaccinations", nil, nil)
	if st != 200 || !strings.Contains(h.Get("Content-Disposition"), ".xlsx") {
		t.Fatalf("template: %d", st)
	}

	fields := map[string]string{"kind": "tests", "node": nodeID, "department": "秦都区疾控中心"}
	bad := "身份证号码,姓名,检测类型,检测结果,采样时间\n" + id + "," + hits[0].Name + ",血常规,阴性,2026-11-27 08:30\n"
	st, body = uploadExchange(t, staff, base+"/exchange", fields, "bad.csv", []byte(bad))
	if st != 422 || !strings.Contains(body, `id="problems"`) || !strings.Contains(body, "血常规") || !strings.Contains(body, "检测类型") {
		t.Fatalf("bad file: %d", st)
	}
	report := between(body, `href="/exchange/report/`, `"`)
	if st, _, _ := apptest.Do(t, staff, "GET", base+"/exchange/report/"+report, nil, nil); st != 200 {
		t.Fatalf("report: %d", st)
	}
	before, _ := e.App.Store.Health(ctx, hits[0].ID)

	good := "身份证号码,姓名,检测类型,检测结果,采样时间\n" + id + "," + hits[0].Name + ",核酸,阴性,2026-11-28 08:00\n" +
		"610402197003037897,赵六,核酸,阴性,2026-11-28 08:00\n"
	st, body = uploadExchange(t, staff, base+"/exchange", fields, "good.csv", []byte(good))
	if st != 200 || !strings.Contains(body, `id="applied">1<`) || !strings.Contains(body, `id="unmatched"`) || !strings.Contains(body, "good.csv") {
		t.Fatalf("good file: %d %s", st, body)
	}
	after, _ := e.App.Store.Health(ctx, hits[0].ID)
	if len(after.Tests) != len(before.Tests)+1 || after.Tests[0].Source != store.SourceImport {
		t.Fatalf("tests: %d → %d", len(before.Tests), len(after.Tests))
	}

	worker := e.Login(t, access.Grid)
	if st, _, _ := apptest.Do(t, worker, "GET", base+"/exchange", nil, nil); st != 403 {
		t.Errorf("grid worker: %d", st)
	}
}
