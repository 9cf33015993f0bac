package web_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"shequ/internal/access"
	"shequ/internal/apptest"
	"shequ/internal/pii"
)

// TestRequestLogHoldsNoPersonalData: ID numbers and phone numbers in query
// strings, form bodies and paths of every kind of request (a staff search,
// logins, a resident's code, the public self-report form, a partner's
// query) never reach the log.
func TestRequestLogHoldsNoPersonalData(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	u := e.Server.URL
	const id, phone = "11010519491231002X", "13812345678"
	staff := e.Login(t, access.Staff)
	apptest.Do(t, staff, "GET", u+"/ledger/persons?q="+id, nil, nil)
	apptest.Do(t, staff, "GET", u+"/ledger/persons?q="+phone+"&phone="+phone, nil, nil)
	apptest.Do(t, staff, "GET", u+"/ledger/persons/"+id, nil, nil)
	apptest.Do(t, e.Client(), "POST", u+"/login", url.Values{"username": {phone}, "password": {id}}, nil)
	apptest.Do(t, e.Client(), "POST", u+"/login/resident/code", url.Values{"phone": {e.Demo.ResidentPhone}}, nil)
	apptest.Do(t, e.Client(), "POST", u+"/login/resident", url.Values{"phone": {e.Demo.ResidentPhone}, "code": {"000000"}}, nil)
	apptest.Do(t, e.Client(), "POST", u+"/r/"+e.Demo.SelfReportToken, url.Values{"name": {"张三"}, "id_number": {id},
		"phone": {phone}, "from_place": {"北京"}, "arrival_date": {"2026-11-27"}, "consent": {"1"}}, nil)
	apptest.Do(t, e.Client(), "GET", u+"/api/v1/persons?id_number="+id+"&phone="+phone, nil,
		map[string]string{"Authorization": "Bearer " + e.Demo.PartnerToken})
	apptest.Do(t, e.Client(), "GET", u+"/no-such-page?phone="+phone, nil, nil)

	logs := e.LogText()
	if !strings.Contains(logs, `"path":"/ledger/persons"`) {
		t.Fatalf("the requests were not logged at all:\n%s", logs)
	}
	for _, line := range strings.Split(logs, "\n") {
		if found := pii.FindPersonal(line, time.Now()); len(found) > 0 {
			t.Errorf("the log holds %s %s", found[0].Kind, found[0].Masked)
		}
	}
	if strings.Contains(logs, e.Demo.ResidentPhone) {
		t.Error("the log holds the resident's phone")
	}
}
