// Package e2e drives the whole shequ binary with a real browser: it builds
// cmd/shequ once, starts `shequ demo` on a free loopback port for each test,
// and uses headless Chromium through chromedp to act as a user would.
//
// Without Chromium the tests are skipped, except with CI=true, where a missing
// browser fails the run. Set SHEQU_E2E_SHOTS=DIR to keep the screenshots.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/chromedp/chromedp"
)

var (
	// shequBin is the binary that TestMain built from ./cmd/shequ.
	shequBin string
	// chromiumPath is the browser that the tests start.
	chromiumPath string
)

// demoRoles are the roles for which `shequ demo` must print a login line.
var demoRoles = []string{"admin", "official", "staff", "grid", "property", "owners"}

const (
	demoLinesTimeout  = 30 * time.Second  // until the url and login lines are printed
	demoHealthTimeout = 30 * time.Second  // until GET /healthz answers 200
	browserTimeout    = 240 * time.Second // whole browser session of one test
	stepTimeout       = 15 * time.Second  // one navigation or wait inside a test
)

func TestMain(m *testing.M) { os.Exit(runMain(m)) }

func runMain(m *testing.M) int {
	ci := os.Getenv("CI") == "true"

	chromiumPath = findChromium()
	if chromiumPath == "" {
		const why = "chromium not found (neither /usr/bin/chromium nor `chromium` in PATH); " +
			"install it with: apt-get install -y chromium fonts-wqy-microhei"
		if ci {
			fmt.Fprintln(os.Stderr, "e2e: FAIL: CI=true but "+why)
			return 1
		}
		fmt.Println("e2e: SKIP all browser tests: " + why)
		return 0
	}

	root, err := moduleRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	tmp, err := os.MkdirTemp("", "shequ-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(tmp)

	shequBin = filepath.Join(tmp, "shequ")
	start := time.Now()
	build := exec.Command("go", "build", "-o", shequBin, "./cmd/shequ")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: FAIL: go build -o %s ./cmd/shequ (in %s): %v\n%s\n", shequBin, root, err, out)
		return 1
	}
	fmt.Printf("e2e: built %s in %v; browser %s\n", shequBin, time.Since(start).Round(time.Millisecond), chromiumPath)

	code := m.Run()
	// After the whole run: no demo may have logged personal data
	// (docs/security.md).
	if bad := personalDataInLogs(); len(bad) > 0 {
		fmt.Fprintf(os.Stderr, "e2e: FAIL: personal data in the demos' logs (%d lines, masked here):\n%s\n", len(bad), strings.Join(bad, "\n"))
		return 1
	}
	fmt.Printf("e2e: searched the output of %d demos: no ID numbers or phone numbers\n", len(demos))
	return code
}

// findChromium returns the path of the Chromium binary, or "".
func findChromium() string {
	if fi, err := os.Stat("/usr/bin/chromium"); err == nil && !fi.IsDir() {
		return "/usr/bin/chromium"
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	return ""
}

// moduleRoot walks up from the working directory (the e2e folder while
// testing) to the folder that holds go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the e2e folder")
		}
		dir = parent
	}
}

// lockedBuffer collects the output of a child process.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// tail returns at most the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("... (%d lines before)", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// account is one demo login.
type account struct {
	Username string
	Password string
}

// demo is a running `shequ demo` process.
type demo struct {
	URL     string             // base URL, e.g. http://127.0.0.1:41234
	Logins  map[string]account // role -> login
	Devices map[string]string  // gate code -> device token
	// SelfReport is the public self-report form the demo prints.
	SelfReport string
	// Open311 is the demo's Open311 client key.
	Open311 string
	// Partner and PartnerToken are the demo's partner department and its
	// open-API token.
	Partner, PartnerToken string
	DB, Key               string        // the demo's database and key file
	out                   *lockedBuffer // stdout and stderr of the process
	cmd                   *exec.Cmd
}

// Output returns what the demo printed so far.
func (d *demo) Output() string { return d.out.String() }

var (
	urlLine     = regexp.MustCompile(`^url:\s+(http://\S+)\s*$`)
	loginLine   = regexp.MustCompile(`^login:\s+(\S+)\s+(\S+)\s+(\S+)(?:\s+.*)?$`)
	deviceLine  = regexp.MustCompile(`^device:\s+(\S+)\s+(\S+)$`)
	reportLine  = regexp.MustCompile(`^selfreport:\s+(\S+)$`)
	o311Line    = regexp.MustCompile(`^open311:\s+(\S+)$`)
	partnerLine = regexp.MustCompile(`^partner:\s+(\S+)\s+(sq_\S+)$`)
	dbLine      = regexp.MustCompile(`^# demo database (\S+) \(key (\S+)\)`)
)

// startDemo starts `shequ demo` on a free loopback port with a fresh SQLite
// database and seed 1. It reads the url and login lines that the demo prints
// before it serves, then waits until GET /healthz answers 200. The process
// group is killed when the test ends.
func startDemo(t *testing.T) *demo {
	t.Helper()
	return startDemoWith(t, demoOptions{})
}

// demoOptions change what startDemoWith starts (the zero value: as
// startDemo).
type demoOptions struct {
	DB     string   // --db: a SQLite path or a postgres:// URL (default: demo.db in Dir)
	Dir    string   // working folder, key file and default database (default: t.TempDir())
	People int      // --people (default: the demo's own figure)
	Extra  []string // more arguments
}

// startDemoWith is startDemo with options.
func startDemoWith(t *testing.T, o demoOptions) *demo {
	t.Helper()

	addr := freeAddr(t)
	dir := o.Dir
	if dir == "" {
		dir = t.TempDir()
	}
	if o.DB == "" {
		o.DB = filepath.Join(dir, "demo.db")
	}
	d := &demo{Logins: map[string]account{}, Devices: map[string]string{}, out: &lockedBuffer{}}
	rememberDemo(d)

	root, _ := moduleRoot()
	args := []string{"demo", "--addr", addr, "--db", o.DB, "--seed", "1", "--kiosk-dir", filepath.Join(root, "web", "kiosk"),
		"--key-file", filepath.Join(dir, "demo.key")}
	if o.People > 0 {
		args = append(args, "--people", fmt.Sprint(o.People))
	}
	cmd := exec.Command(shequBin, append(args, o.Extra...)...)
	d.cmd = cmd
	cmd.Dir = dir
	// Own process group, so that cleanup can kill the demo and anything it
	// starts; Pdeathsig kills it too if the test binary dies first (for
	// example on a -timeout panic, which runs no cleanups).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Stderr = d.out
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s demo: %v", shequBin, err)
	}

	// The reader copies every line to the capture buffer and parses the
	// url and login lines until it has them all. It keeps reading after
	// that, so the demo never blocks on a full pipe.
	var (
		mu      sync.Mutex // guards d.URL, d.Logins and badLine
		badLine string
	)
	missing := func() []string {
		var m []string
		if d.URL == "" {
			m = append(m, "url")
		}
		if d.SelfReport == "" {
			m = append(m, "selfreport")
		}
		if d.Open311 == "" {
			m = append(m, "open311")
		}
		if d.PartnerToken == "" {
			m = append(m, "partner")
		}
		for _, r := range demoRoles {
			if _, ok := d.Logins[r]; !ok {
				m = append(m, "login "+r)
			}
		}
		return m
	}
	ready := make(chan struct{}) // closed when all lines are parsed
	eof := make(chan struct{})   // closed when stdout is closed
	go func() {
		defer close(eof)
		done := false
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			line := sc.Text()
			d.out.Write([]byte(line + "\n"))
			if done {
				continue
			}
			mu.Lock()
			trimmed := strings.TrimSpace(line)
			if m := urlLine.FindStringSubmatch(trimmed); m != nil {
				if u, err := url.Parse(m[1]); err != nil || u.Host == "" {
					badLine = trimmed
				} else {
					d.URL = strings.TrimRight(m[1], "/")
				}
			} else if m := loginLine.FindStringSubmatch(trimmed); m != nil {
				d.Logins[m[1]] = account{Username: m[2], Password: m[3]}
			} else if m := deviceLine.FindStringSubmatch(trimmed); m != nil {
				d.Devices[m[1]] = m[2]
			} else if m := reportLine.FindStringSubmatch(trimmed); m != nil {
				d.SelfReport = m[1]
			} else if m := o311Line.FindStringSubmatch(trimmed); m != nil {
				d.Open311 = m[1]
			} else if m := partnerLine.FindStringSubmatch(trimmed); m != nil {
				d.Partner, d.PartnerToken = m[1], m[2]
			} else if m := dbLine.FindStringSubmatch(trimmed); m != nil {
				d.DB, d.Key = m[1], m[2]
			}
			if len(missing()) == 0 && d.DB != "" {
				done = true
				close(ready)
			}
			mu.Unlock()
		}
	}()
	exited := make(chan struct{})
	var waitErr error
	outputShown := false // the failure message already holds the demo output
	go func() {
		<-eof // Wait closes the pipe; let the reader finish first
		waitErr = cmd.Wait()
		close(exited)
	}()

	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(5 * time.Second):
				syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				select {
				case <-exited:
				case <-time.After(5 * time.Second):
					t.Logf("shequ demo (pid %d) did not exit after SIGKILL", cmd.Process.Pid)
				}
			}
		}
		// The process group may hold children that outlived the leader.
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		if t.Failed() && !outputShown {
			t.Logf("output of `shequ demo --addr %s`:\n%s", addr, tail(d.Output(), 200))
		}
	})

	fail := func(format string, args ...any) {
		t.Helper()
		outputShown = true
		t.Fatalf("%s\n--- shequ demo --addr %s --db %s --seed 1 printed:\n%s",
			fmt.Sprintf(format, args...), addr, o.DB, tail(d.Output(), 200))
	}
	stillMissing := func() ([]string, string) {
		mu.Lock()
		defer mu.Unlock()
		return missing(), badLine
	}

	// 1. The url line and a login line for every role, printed before the
	// server serves.
	select {
	case <-ready:
	case <-eof:
		select {
		case <-ready: // the last line completed the set
		default:
			m, bad := stillMissing()
			exit := "still running"
			select {
			case <-exited:
				exit = fmt.Sprint(waitErr)
			case <-time.After(2 * time.Second):
			}
			fail("demo closed its output (exit: %s) before printing %v (unparsable url line: %q)", exit, m, bad)
		}
	case <-time.After(demoLinesTimeout):
		m, bad := stillMissing()
		fail("demo did not print %v within %v (unparsable url line: %q)", m, demoLinesTimeout, bad)
	}
	if u, _ := url.Parse(d.URL); u.Host != addr {
		t.Logf("note: demo prints url %s, asked for --addr %s", d.URL, addr)
	}
	printed := time.Since(start)

	// 2. Wait for GET /healthz to answer 200.
	client := &http.Client{Timeout: 2 * time.Second}
	healthDeadline := time.Now().Add(demoHealthTimeout)
	var last string
	for {
		resp, err := client.Get(d.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		select {
		case <-exited:
			fail("demo exited (%v) before GET /healthz answered 200 (last: %s)", waitErr, last)
		default:
		}
		if time.Now().After(healthDeadline) {
			fail("GET %s/healthz did not answer 200 within %v (last: %s)", d.URL, demoHealthTimeout, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("demo at %s: login lines after %v, healthy after %v", d.URL,
		printed.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	return d
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// newBrowser starts a headless Chromium with a fresh profile for the test and
// returns a chromedp context for one tab. The whole session, start included,
// must finish within 60 s; the browser stops when the test ends.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	return newBrowserWith(t)
}

// newBrowserWith starts a browser with extra options (a fake camera …).
func newBrowserWith(t *testing.T, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()

	profile := t.TempDir()
	var browserOut lockedBuffer
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.NoSandbox,
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		// Keep shared memory out of /dev/shm, which is tiny in containers.
		chromedp.Flag("disable-dev-shm-usage", true),
		// Act as the users of the product: a browser set to Simplified
		// Chinese, which sends Accept-Language: zh-CN. (Headless Chromium
		// sends en-US by default, and the server honours Accept-Language.)
		chromedp.Flag("lang", "zh-CN"),
		chromedp.Flag("accept-lang", "zh-CN,zh"),
		chromedp.WindowSize(1280, 900),
		chromedp.UserDataDir(profile),
		chromedp.CombinedOutput(&browserOut),
	}
	opts = append(opts, extra...)

	budget, cancelBudget := context.WithTimeout(context.Background(), browserTimeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(budget, opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
		cancelBudget()
		if t.Failed() {
			if out := browserNoise(browserOut.String()); out != "" {
				t.Logf("chromium output:\n%s", tail(out, 40))
			}
		}
	})

	start := time.Now()
	// The first Run starts the browser and opens the tab.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v\n%s", chromiumPath, err, tail(browserNoise(browserOut.String()), 40))
	}
	t.Logf("chromium started in %v", time.Since(start).Round(time.Millisecond))
	return ctx
}

// browserNoise drops the lines of Chromium's output that every run prints in
// a container without D-Bus, and returns the rest.
func browserNoise(out string) string {
	var keep []string
	for _, l := range strings.Split(out, "\n") {
		if strings.TrimSpace(l) == "" || strings.Contains(l, "dbus/") || strings.Contains(l, "unexpected operator") {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "\n")
}

// shotDirs maps a running test (*testing.T) to its screenshot folder.
var shotDirs sync.Map

// shot saves a full-page PNG screenshot named name.png in the test's
// screenshot folder: $SHEQU_E2E_SHOTS/<test> when that is set (kept), else a
// folder under t.TempDir() (removed with the test).
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir, ok := shotDirs.Load(t)
	if !ok {
		var d string
		if base := os.Getenv("SHEQU_E2E_SHOTS"); base != "" {
			d = filepath.Join(base, strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()))
		} else {
			d = filepath.Join(t.TempDir(), "shots")
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		dir = d
		shotDirs.Store(t, d)
		t.Cleanup(func() { shotDirs.Delete(t) })
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(dir.(string), name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s (%d KB)", path, len(png)/1024)
}

// --- page helpers -----------------------------------------------------------

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// eval evaluates a JavaScript expression in the page within stepTimeout.
func eval[T any](ctx context.Context, expr string) (T, error) {
	sctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	return chromedp.Run(sctx, chromedp.Evaluate[T](expr))
}

// pageDump describes the current page for a failure message: its URL and the
// start of its HTML.
func pageDump(ctx context.Context) string {
	type dump struct {
		URL  string `json:"url"`
		HTML string `json:"html"`
	}
	d, err := eval[dump](ctx, `({url: location.href, html: document.documentElement.outerHTML})`)
	if err != nil {
		return fmt.Sprintf("(page not readable: %v)", err)
	}
	html := d.HTML
	if len(html) > 6000 {
		cut := clip(html, 0, 6000)
		html = cut + fmt.Sprintf("\n... (%d bytes more)", len(html)-len(cut))
	}
	return fmt.Sprintf("--- page %s:\n%s", d.URL, html)
}

// clip returns s[from:to], with the bounds clamped to s and moved back to the
// start of a UTF-8 character.
func clip(s string, from, to int) string {
	from, to = max(0, min(from, len(s))), max(0, min(to, len(s)))
	for from > 0 && !utf8.RuneStart(s[from]) {
		from--
	}
	for to < len(s) && to > from && !utf8.RuneStart(s[to]) {
		to--
	}
	return s[from:to]
}

// fatalPage fails the test with the message and the current page.
func fatalPage(t *testing.T, ctx context.Context, format string, args ...any) {
	t.Helper()
	t.Fatalf("%s\n%s", fmt.Sprintf(format, args...), pageDump(ctx))
}

// errorPage marks the test failed with the message and the current page.
func errorPage(t *testing.T, ctx context.Context, format string, args ...any) {
	t.Helper()
	t.Errorf("%s\n%s", fmt.Sprintf(format, args...), pageDump(ctx))
}

// open navigates to base+path, waits for the page to load, and returns the
// HTTP status of the document (after redirects).
func open(t *testing.T, ctx context.Context, rawURL string) int64 {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	resp, err := chromedp.Run(sctx, chromedp.NavigateResponse(rawURL))
	if err != nil {
		fatalPage(t, ctx, "navigate to %s: %v", rawURL, err)
	}
	if resp == nil {
		return 0
	}
	return resp.Status
}

// element describes the first element that a CSS selector matches.
type element struct {
	Found bool   `json:"found"`
	Text  string `json:"text"` // innerText, or value for an input
	Tag   string `json:"tag"`
	Type  string `json:"type"` // .type of a button or input
}

// query reads the first element that css matches, without waiting.
func query(t *testing.T, ctx context.Context, css string) element {
	t.Helper()
	e, err := eval[element](ctx, `(() => {
		const e = document.querySelector(`+jsString(css)+`);
		if (!e) return {found: false, text: "", tag: "", type: ""};
		const text = (e.tagName === "INPUT") ? e.value : e.innerText;
		return {found: true, text: text || "", tag: e.tagName.toLowerCase(), type: e.type || ""};
	})()`)
	if err != nil {
		fatalPage(t, ctx, "query %q: %v", css, err)
	}
	return e
}

// mustFind fails the test when css matches nothing on the current page.
func mustFind(t *testing.T, ctx context.Context, css string) element {
	t.Helper()
	e := query(t, ctx, css)
	if !e.Found {
		fatalPage(t, ctx, "no element matches %q", css)
	}
	return e
}

// pageLang returns the lang attribute of <html>.
func pageLang(t *testing.T, ctx context.Context) string {
	t.Helper()
	lang, err := eval[string](ctx, `document.documentElement.getAttribute("lang") || ""`)
	if err != nil {
		fatalPage(t, ctx, "read <html lang>: %v", err)
	}
	return lang
}

// location returns the path (with query) of the current page.
func location(t *testing.T, ctx context.Context) string {
	t.Helper()
	p, err := eval[string](ctx, `location.pathname + location.search`)
	if err != nil {
		fatalPage(t, ctx, "read location: %v", err)
	}
	return p
}

// bodyText returns the visible text of the page.
func bodyText(t *testing.T, ctx context.Context) string {
	t.Helper()
	s, err := eval[string](ctx, `document.body ? document.body.innerText : ""`)
	if err != nil {
		fatalPage(t, ctx, "read page text: %v", err)
	}
	return s
}

// pageHTML returns the whole HTML of the page.
func pageHTML(t *testing.T, ctx context.Context) string {
	t.Helper()
	s, err := eval[string](ctx, `document.documentElement.outerHTML`)
	if err != nil {
		fatalPage(t, ctx, "read page HTML: %v", err)
	}
	return s
}

// waitFor polls the JavaScript condition cond until it is true and the
// document has loaded, for up to stepTimeout. Errors while a navigation
// replaces the document are retried. It fails the test with what, the last
// error and the page.
func waitFor(t *testing.T, ctx context.Context, cond, what string) {
	t.Helper()
	expr := `document.readyState === "complete" && !!(` + cond + `)`
	deadline := time.Now().Add(stepTimeout)
	var lastErr error
	for {
		ok, err := eval[bool](ctx, expr)
		if err == nil && ok {
			return
		}
		lastErr = err
		if ctx.Err() != nil || time.Now().After(deadline) {
			fatalPage(t, ctx, "timed out after %v waiting for %s (condition %s; last error %v)", stepTimeout, what, cond, lastErr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// do runs actions that need an element that is already on the page (type,
// click), within stepTimeout.
func do(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		fatalPage(t, ctx, "%s: %v", what, err)
	}
}

// fillLogin fills form#login with the account and submits it with the button.
// It does not wait for the next page.
func fillLogin(t *testing.T, ctx context.Context, a account) {
	t.Helper()
	mustFind(t, ctx, "form#login input[name=username]")
	mustFind(t, ctx, "form#login input[name=password]")
	mustFind(t, ctx, "form#login button[type=submit]")
	do(t, ctx, "type the login",
		chromedp.SendKeys(chromedp.CSS("form#login input[name=username]"), a.Username),
		chromedp.SendKeys(chromedp.CSS("form#login input[name=password]"), a.Password),
	)
}
