package e2e

// Helpers shared by the fault tests (docs/faults.md): a device client that
// remembers what the server acknowledged, a logged-in browser-like client,
// and checks of the translated errors users see.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"shequ/internal/gate"
	"shequ/internal/locale"
)

// catalog holds the translations the tests expect to see.
var catalog = locale.MustLoad()

// tr is key translated into lang, as the server would show it.
func tr(lang, key string, args ...any) string { return catalog.Printer(lang).T(key, args...) }

// answer is one HTTP exchange: the status and body, or the transport error
// when nothing was answered.
type answer struct {
	Status int
	Body   string
	Err    error
}

func (a answer) String() string {
	if a.Err != nil {
		return "no answer: " + a.Err.Error()
	}
	return fmt.Sprintf("HTTP %d %s", a.Status, clip(a.Body, 0, 600))
}

// apiError is the JSON error body of the API.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// jsonError decodes an answer's JSON error; ok is false when the body is
// not one.
func jsonError(a answer) (apiError, bool) {
	var e apiError
	if err := json.Unmarshal([]byte(a.Body), &e); err != nil || e.Error.Code == "" {
		return e, false
	}
	return e, true
}

// faultClient answers within its timeout or reports that it did not: a
// server that hangs fails the test by answering nothing.
var faultClient = &http.Client{Timeout: 20 * time.Second}

// deviceAPI talks to the device API with one device's token and remembers
// which event ids were sent and which the server acknowledged (listed as
// accepted or duplicates after its commit).
type deviceAPI struct {
	URL, Token string
	Lang       string // Accept-Language

	mu    sync.Mutex
	sent  map[string]gate.PassEvent
	acked map[string]bool
}

func newDeviceAPI(url, token string) *deviceAPI {
	return &deviceAPI{URL: url, Token: token, Lang: "zh-CN", sent: map[string]gate.PassEvent{}, acked: map[string]bool{}}
}

func (d *deviceAPI) post(path string, body any) answer {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", d.URL+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+d.Token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept-Language", d.Lang)
	return roundTrip(faultClient, req)
}

func roundTrip(c *http.Client, req *http.Request) answer {
	resp, err := c.Do(req)
	if err != nil {
		return answer{Err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return answer{Status: resp.StatusCode, Body: string(b), Err: err}
}

// upload sends events and records the acknowledged ids.
func (d *deviceAPI) upload(evs []gate.PassEvent) (gate.EventsResponse, answer) {
	d.mu.Lock()
	for _, e := range evs {
		if _, ok := d.sent[e.EventID]; !ok {
			d.sent[e.EventID] = e
		}
	}
	d.mu.Unlock()
	a := d.post("/api/device/v1/events", gate.EventsRequest{Events: evs})
	var r gate.EventsResponse
	if a.Err != nil || a.Status != http.StatusOK {
		return r, a
	}
	if err := json.Unmarshal([]byte(a.Body), &r); err != nil {
		a.Err = fmt.Errorf("events answer is not JSON: %v", err)
		return r, a
	}
	d.mu.Lock()
	for _, id := range append(r.Accepted, r.Duplicates...) {
		d.acked[id] = true
	}
	d.mu.Unlock()
	return r, a
}

// unacknowledged returns the events sent but never acknowledged.
func (d *deviceAPI) unacknowledged() []gate.PassEvent {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []gate.PassEvent
	for id, e := range d.sent {
		if !d.acked[id] {
			out = append(out, e)
		}
	}
	return out
}

// counts returns how many events were sent and acknowledged.
func (d *deviceAPI) counts() (sent, acked int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.sent), len(d.acked)
}

// resendAll sends what is unacknowledged until all of it is; the server
// must be up.
func (d *deviceAPI) resendAll(t *testing.T) {
	t.Helper()
	for round := 0; ; round++ {
		pending := d.unacknowledged()
		if len(pending) == 0 {
			return
		}
		if round == 3 {
			t.Fatalf("%d events still unacknowledged after 3 rounds of resending", len(pending))
		}
		for i := 0; i < len(pending); i += gate.MaxBatch {
			if _, a := d.upload(pending[i:min(len(pending), i+gate.MaxBatch)]); a.Err != nil || a.Status != 200 {
				t.Fatalf("resend: %v", a)
			}
		}
	}
}

// cardEvent is a pass event of the demo's first resident card.
func cardEvent(id string, at time.Time) gate.PassEvent {
	return gate.PassEvent{EventID: id, Credential: gate.Credential{Kind: "card", Value: "HY10000001"}, Outcome: "allow",
		TemperatureC: 36.5, DeviceTime: at.UTC()}
}

// webUser is a logged-in browser-like client (cookies, Chinese).
type webUser struct {
	URL string
	c   *http.Client
}

// webLogin logs the account in through the login form.
func webLogin(t *testing.T, base string, a account) *webUser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	u := &webUser{URL: base, c: &http.Client{Jar: jar, Timeout: faultClient.Timeout}}
	form := url.Values{"username": {a.Username}, "password": {a.Password}}
	req, _ := http.NewRequest("POST", base+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if ans := u.do(req); ans.Err != nil || ans.Status != 200 {
		t.Fatalf("log in as %s: %v", a.Username, ans)
	}
	jarURL, _ := url.Parse(base)
	if len(jar.Cookies(jarURL)) == 0 {
		t.Fatalf("log in as %s: no session cookie", a.Username)
	}
	return u
}

func (u *webUser) do(req *http.Request) answer {
	req.Header.Set("Accept-Language", "zh-CN,zh")
	req.Header.Set("Accept", "text/html")
	return roundTrip(u.c, req)
}

// get loads a page.
func (u *webUser) get(path string) answer {
	req, _ := http.NewRequest("GET", u.URL+path, nil)
	return u.do(req)
}

// inCI reports whether missing preconditions must fail the run.
func inCI() bool { return os.Getenv("CI") == "true" }
