package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"shequ/internal/testutil"
)

// Two `shequ serve` processes on one fresh PostgreSQL database, as behind a
// load balancer: a session opened on one works on the other; an alarm raised
// through a device request on either reaches the duty-page stream of both,
// once each; webhooks queued through both are delivered once each.
// Needs SHEQU_TEST_PG_URL (with CI=true its absence fails the test).
func TestTwoInstancesOnePostgres(t *testing.T) {
	dsn := testutil.DSN(t, "postgres")
	key := filepath.Join(t.TempDir(), "shequ.key")

	// Populate the database with the demo, then stop it.
	pop := startInstance(t, "demo", "--addr", freeAddr(t), "--db", dsn, "--key-file", key, "--seed", "1", "--people", "300")
	lines := pop.waitLine(t, regexp.MustCompile(`^# demo database `), 120*time.Second)
	pop.stop(t)
	var admin account
	var deviceTokens []string
	for _, l := range lines {
		if m := loginLine.FindStringSubmatch(l); m != nil && m[1] == "admin" {
			admin = account{Username: m[2], Password: m[3]}
		} else if m := deviceLine.FindStringSubmatch(l); m != nil {
			deviceTokens = append(deviceTokens, m[2])
		}
	}
	if admin.Username == "" || len(deviceTokens) == 0 {
		t.Fatalf("the demo printed no admin login or no device:\n%s", strings.Join(lines, "\n"))
	}

	one := startInstance(t, "serve", "--addr", freeAddr(t), "--db", dsn, "--key-file", key)
	two := startInstance(t, "serve", "--addr", freeAddr(t), "--db", dsn, "--key-file", key)
	one.waitHealthy(t)
	two.waitHealthy(t)

	// (a) A session opened on instance 1 works on instance 2.
	cookie := instLogin(t, one, admin)
	if code, _ := one.get(t, "/gates/alarms", nil); code != http.StatusSeeOther && code != http.StatusFound {
		t.Fatalf("instance 1 answered %d to a request without a session", code)
	}
	if code, body := two.get(t, "/gates/alarms", cookie); code != http.StatusOK {
		t.Fatalf("the session of instance 1 on instance 2: %d\n%s", code, clip(body, 0, 500))
	}

	// (b) Alarms cross to the other instance's duty-page stream, once.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	streamOne, streamTwo := one.alarmStream(t, ctx, cookie), two.alarmStream(t, ctx, cookie)
	one.decide(t, deviceTokens[0], `{"credential":{"kind":"card","value":"NOSUCHCARD01"},"temperature":39.4}`)
	fever := []sseAlarm{streamTwo.until(t, "fever"), streamOne.until(t, "fever")}
	two.decide(t, deviceTokens[len(deviceTokens)-1], `{"credential":{"kind":"card","value":"NOSUCHCARD02"}}`)
	// Anything instance 2 saw of the first alarm came before this one.
	stranger := []sseAlarm{streamOne.until(t, "stranger"), streamTwo.until(t, "stranger")}
	if fever[0].ID != fever[1].ID || stranger[0].ID != stranger[1].ID || fever[0].ID == stranger[0].ID {
		t.Fatalf("the two streams saw different alarms: fever %v, stranger %v", fever, stranger)
	}
	for name, s := range map[string]*sseReader{"instance 1": streamOne, "instance 2": streamTwo} {
		for id, n := range s.counts() {
			if n != 1 {
				t.Errorf("%s's stream got alarm %s %d times, want once", name, id, n)
			}
		}
	}
	t.Logf("alarm %s raised through instance 1 and %s through instance 2 reached both streams once", fever[0].ID, stranger[0].ID)

	// (c) Webhooks queued through both instances, delivered once each
	// while both deliverers run.
	var mu sync.Mutex
	got := map[string]int{}
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		got[r.Header.Get("X-Shequ-Delivery")]++
		mu.Unlock()
	}))
	defer recv.Close()
	_, page := one.get(t, "/webhooks", cookie)
	m := regexp.MustCompile(`/webhooks/partners/([0-9A-Za-z]+)`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no partner on /webhooks:\n%s", clip(page, 0, 2000))
	}
	code, page := one.post(t, "/webhooks/partners/"+m[1], cookie, url.Values{"url": {recv.URL + "/hook"}, "events": {"person.changed"}})
	sub := regexp.MustCompile(`/webhooks/subscriptions/([0-9A-Za-z]+)/ping`).FindStringSubmatch(page)
	if code != http.StatusOK || sub == nil {
		t.Fatalf("subscribing: %d\n%s", code, clip(page, 0, 2000))
	}
	const pings = 12
	for i := range pings {
		inst := one
		if i%2 == 1 {
			inst = two
		}
		if code, body := inst.post(t, "/webhooks/subscriptions/"+sub[1]+"/ping", cookie, url.Values{}); code != http.StatusSeeOther {
			t.Fatalf("ping %d: %d\n%s", i, code, clip(body, 0, 500))
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n >= pings {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d webhooks delivered within 60 s", n, pings)
		}
		time.Sleep(200 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != pings {
		t.Errorf("%d different deliveries received, want %d", len(got), pings)
	}
	for id, n := range got {
		if n != 1 {
			t.Errorf("delivery %s received %d times, want once", id, n)
		}
	}
}

// instance is a running shequ process.
type instance struct {
	URL  string
	args []string
	out  *lockedBuffer
	cmd  *exec.Cmd
	done chan struct{}
	mu   sync.Mutex
	seen []string // stdout lines so far
}

// startInstance starts `shequ CMD ARGS…` (the address comes from --addr)
// and kills its process group when the test ends.
func startInstance(t *testing.T, args ...string) *instance {
	t.Helper()
	p := &instance{args: args, out: &lockedBuffer{}, done: make(chan struct{})}
	for i, a := range args {
		if a == "--addr" {
			p.URL = "http://" + args[i+1]
		}
	}
	p.cmd = exec.Command(shequBin, args...)
	p.cmd.Dir = t.TempDir()
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	p.cmd.Stderr = p.out
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			p.out.Write([]byte(sc.Text() + "\n"))
			p.mu.Lock()
			p.seen = append(p.seen, strings.TrimSpace(sc.Text()))
			p.mu.Unlock()
		}
		p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
		if t.Failed() {
			t.Logf("output of shequ %s:\n%s", strings.Join(args[:1], " "), tail(p.out.String(), 60))
		}
	})
	return p
}

// waitLine waits until the process prints a line matching re and returns
// the lines printed so far.
func (p *instance) waitLine(t *testing.T, re *regexp.Regexp, within time.Duration) []string {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		p.mu.Lock()
		lines := append([]string(nil), p.seen...)
		p.mu.Unlock()
		for _, l := range lines {
			if re.MatchString(l) {
				return lines
			}
		}
		select {
		case <-p.done:
			t.Fatalf("shequ %s exited before printing %s:\n%s", p.args[0], re, tail(p.out.String(), 60))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("shequ %s did not print %s within %v:\n%s", p.args[0], re, within, tail(p.out.String(), 60))
		}
	}
}

// stop ends the process gracefully and waits for it.
func (p *instance) stop(t *testing.T) {
	t.Helper()
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		t.Fatalf("shequ %s did not stop within 20 s", p.args[0])
	}
}

// waitHealthy waits until GET /healthz answers 200.
func (p *instance) waitHealthy(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(p.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-p.done:
			t.Fatalf("shequ %s exited:\n%s", p.args[0], tail(p.out.String(), 60))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s/healthz not 200 within 30 s (%v):\n%s", p.URL, err, tail(p.out.String(), 60))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

var noRedirect = &http.Client{Timeout: 15 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func (p *instance) do(t *testing.T, method, path string, cookie *http.Cookie, body io.Reader, header map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, p.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if cookie != nil {
		req.AddCookie(cookie)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (p *instance) get(t *testing.T, path string, cookie *http.Cookie) (int, string) {
	t.Helper()
	return p.do(t, http.MethodGet, path, cookie, nil, nil)
}

func (p *instance) post(t *testing.T, path string, cookie *http.Cookie, form url.Values) (int, string) {
	t.Helper()
	return p.do(t, http.MethodPost, path, cookie, strings.NewReader(form.Encode()), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
}

// instLogin signs in on p and returns the session cookie.
func instLogin(t *testing.T, p *instance, a account) *http.Cookie {
	t.Helper()
	resp, err := noRedirect.PostForm(p.URL+"/login", url.Values{"username": {a.Username}, "password": {a.Password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Value != "" && c.Name != "lang" {
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("login: %d", resp.StatusCode)
			}
			return &http.Cookie{Name: c.Name, Value: c.Value}
		}
	}
	t.Fatalf("login answered %d without a session cookie", resp.StatusCode)
	return nil
}

// decide sends a device's decide request.
func (p *instance) decide(t *testing.T, token, body string) {
	t.Helper()
	code, resp := p.do(t, http.MethodPost, "/api/device/v1/decide", nil, bytes.NewBufferString(body),
		map[string]string{"Authorization": "Bearer " + token, "Content-Type": "application/json"})
	if code != http.StatusOK || !strings.Contains(resp, `"outcome"`) {
		t.Fatalf("decide on %s: %d %s", p.URL, code, resp)
	}
	t.Logf("decide on %s: %s", p.URL, resp)
}

// sseAlarm is an alarm event of the duty page's stream.
type sseAlarm struct {
	ID, Kind, Gate, Person, Status string
}

// sseReader collects the alarms of one stream.
type sseReader struct {
	ch  chan sseAlarm
	mu  sync.Mutex
	all []sseAlarm
}

// alarmStream connects to the duty page's stream with the session.
func (p *instance) alarmStream(t *testing.T, ctx context.Context, cookie *http.Cookie) *sseReader {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+"/gates/alarms/stream", nil)
	req.AddCookie(cookie)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		resp.Body.Close()
		t.Fatalf("alarm stream of %s: %d %s", p.URL, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	r := &sseReader{ch: make(chan sseAlarm, 100)}
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		event := ""
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: ") && event == "alarm":
				var a sseAlarm
				if json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &a) == nil {
					r.mu.Lock()
					r.all = append(r.all, a)
					r.mu.Unlock()
					r.ch <- a
				}
			case line == "":
				event = ""
			}
		}
	}()
	return r
}

// until waits (20 s at most) for the next alarm of kind.
func (r *sseReader) until(t *testing.T, kind string) sseAlarm {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case a := <-r.ch:
			if a.Kind == kind {
				return a
			}
		case <-deadline:
			r.mu.Lock()
			defer r.mu.Unlock()
			t.Fatalf("no %s alarm on the stream within 20 s (got %v)", kind, r.all)
		}
	}
}

// counts is how many times each alarm arrived.
func (r *sseReader) counts() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := map[string]int{}
	for _, a := range r.all {
		n[a.ID]++
	}
	return n
}
