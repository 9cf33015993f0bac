package e2e

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"shequ/internal/gate"
	"shequ/internal/store"
)

// privatePG is a PostgreSQL cluster of the test's own, so that it can be
// crashed and restarted without touching the shared server.
type privatePG struct {
	bin, dir, data string
	port           int
	cred           *syscall.Credential
}

// pgBinDir finds PostgreSQL's server programs (initdb, pg_ctl).
func pgBinDir() string {
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		if d := strings.TrimSpace(string(out)); fileExists(filepath.Join(d, "initdb")) {
			return d
		}
	}
	ds, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	for i := len(ds) - 1; i >= 0; i-- {
		if fileExists(filepath.Join(ds[i], "initdb")) && fileExists(filepath.Join(ds[i], "pg_ctl")) {
			return ds[i]
		}
	}
	return ""
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// needOrSkip skips the test with why, or fails it with CI=true.
func needOrSkip(t *testing.T, why string) {
	t.Helper()
	if inCI() {
		t.Fatalf("CI=true but %s", why)
	}
	t.Skip(why)
}

// startPrivatePG runs initdb and pg_ctl start as the postgres user (initdb
// refuses root) in a new folder, listening on 127.0.0.1 at a free port.
func startPrivatePG(t *testing.T) *privatePG {
	t.Helper()
	bin := pgBinDir()
	if bin == "" {
		needOrSkip(t, "PostgreSQL's initdb and pg_ctl were not found (apt-get install -y postgresql)")
	}
	pg := &privatePG{bin: bin}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			needOrSkip(t, "running as root, and there is no postgres user to run initdb as")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		pg.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	dir, err := os.MkdirTemp("", "shequ-pgfault-")
	if err != nil {
		t.Fatal(err)
	}
	pg.dir, pg.data = dir, filepath.Join(dir, "data")
	t.Cleanup(func() {
		pg.ctl(t, "stop", "-m", "immediate") // may be stopped already
		os.RemoveAll(dir)
	})
	if pg.cred != nil {
		if err := os.Chown(dir, int(pg.cred.Uid), int(pg.cred.Gid)); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := pg.run("initdb", "-D", pg.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	l := freeAddr(t)
	pg.port, _ = strconv.Atoi(l[strings.LastIndexByte(l, ':')+1:])
	pg.start(t)
	admin, err := sql.Open("pgx", pg.url("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec(`CREATE DATABASE shequ`); err != nil {
		t.Fatalf("create database: %v", err)
	}
	return pg
}

// run runs one of PostgreSQL's programs as the postgres user.
func (pg *privatePG) run(prog string, args ...string) ([]byte, error) {
	cmd := exec.Command(filepath.Join(pg.bin, prog), args...)
	cmd.Dir = pg.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: pg.cred}
	return cmd.CombinedOutput()
}

func (pg *privatePG) ctl(t *testing.T, args ...string) error {
	out, err := pg.run("pg_ctl", append([]string{"-D", pg.data}, args...)...)
	if err != nil {
		t.Logf("pg_ctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return err
}

func (pg *privatePG) start(t *testing.T) {
	t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1", pg.port, pg.dir)
	if err := pg.ctl(t, "start", "-w", "-t", "60", "-l", filepath.Join(pg.dir, "server.log"), "-o", opts); err != nil {
		log, _ := os.ReadFile(filepath.Join(pg.dir, "server.log"))
		t.Fatalf("pg_ctl start failed; server.log:\n%s", tail(string(log), 40))
	}
}

// crash stops the server the way a crash would: no checkpoint, clients cut
// off, recovery from the WAL at the next start.
func (pg *privatePG) crash(t *testing.T) {
	t.Helper()
	if err := pg.ctl(t, "stop", "-m", "immediate", "-w"); err != nil {
		t.Fatal("pg_ctl stop -m immediate failed")
	}
}

func (pg *privatePG) url(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", pg.port, db)
}

// TestPostgresRestartUnderLoad crashes PostgreSQL (pg_ctl stop -m immediate)
// under load from gate devices and a staff member's browser, and starts it
// again. While it is down every request is answered, not left hanging: the
// device API with 503 and a translated JSON error, pages with a translated
// error page, /readyz with 503; the session survives. After the restart the
// same server process serves again, every acknowledged event is stored
// exactly once, every decision answered is logged, the hourly pass rollup
// equals the events, and pg_amcheck finds no corruption.
func TestPostgresRestartUnderLoad(t *testing.T) {
	pg := startPrivatePG(t)
	d := startDemoWith(t, demoOptions{DB: pg.url("shequ"), People: 300})
	dev := newDeviceAPI(d.URL, d.Devices["HY-N-TURNSTILE"])
	staff := webLogin(t, d.URL, d.Logins["staff"])
	if a := staff.get("/gates"); a.Status != 200 {
		t.Fatalf("GET /gates before the crash: %v", a)
	}

	// Load: four devices' worth of event uploads, decisions, page loads.
	// Every answer is kept with the phase it was given in.
	type result struct {
		what  string
		phase string
		a     answer
	}
	var (
		mu        sync.Mutex
		phase     = "up"
		results   []result
		decisions = map[string]bool{} // decision ids answered 200
		stop      = make(chan struct{})
		wg        sync.WaitGroup
	)
	// A request is labelled with its phase when the phase did not change
	// while it ran, else "transition".
	phaseNow := func() string { mu.Lock(); defer mu.Unlock(); return phase }
	note := func(what, began string, a answer) {
		mu.Lock()
		p := phase
		if p != began {
			p = "transition"
		}
		results = append(results, result{what, p, a})
		mu.Unlock()
	}
	loop := func(fn func(n int)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				fn(n)
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}
	for w := 0; w < 4; w++ {
		loop(func(n int) {
			evs := make([]gate.PassEvent, 50)
			for i := range evs {
				evs[i] = cardEvent(fmt.Sprintf("pg-%d-%d-%d", w, n, i), time.Now())
			}
			began := phaseNow()
			_, a := dev.upload(evs)
			note("events", began, a)
		})
	}
	loop(func(n int) {
		began := phaseNow()
		a := dev.post("/api/device/v1/decide", gate.DecideRequest{Credential: gate.Credential{Kind: "card", Value: "HY10000001"},
			TemperatureC: 36.6, EventID: fmt.Sprintf("pgd-%d", n)})
		if a.Status == 200 {
			var r gate.DecideResponse
			if json.Unmarshal([]byte(a.Body), &r) == nil && r.DecisionID != "" {
				mu.Lock()
				decisions[r.DecisionID] = true
				mu.Unlock()
			}
		}
		note("decide", began, a)
	})
	loop(func(n int) {
		began := phaseNow()
		note("page", began, staff.get("/gates"))
	})

	setPhase := func(p string) { mu.Lock(); phase = p; mu.Unlock() }
	waitAcked := func(min int) {
		deadline := time.Now().Add(30 * time.Second)
		for _, n := dev.counts(); n < min; _, n = dev.counts() {
			if time.Now().After(deadline) {
				t.Fatalf("only %d events acknowledged under load (wanted %d)", n, min)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitAcked(1000)

	// Crash PostgreSQL.
	setPhase("crashing")
	pg.crash(t)
	setPhase("down")
	// What a device and a member of staff see while it is down.
	_, a := dev.upload([]gate.PassEvent{cardEvent("pg-probe-down", time.Now())})
	if e, ok := jsonError(a); a.Status != http.StatusServiceUnavailable || !ok || e.Error.Code != "unavailable" ||
		e.Error.Message != tr("zh", "err.db_unavailable") {
		t.Fatalf("events while PostgreSQL is down: want 503 {code: unavailable, message: %q}, got %v", tr("zh", "err.db_unavailable"), a)
	}
	dev.Lang = "en"
	_, a = dev.upload([]gate.PassEvent{cardEvent("pg-probe-down-en", time.Now())})
	dev.Lang = "zh-CN"
	if e, _ := jsonError(a); a.Status != http.StatusServiceUnavailable || e.Error.Message != tr("en", "err.db_unavailable") {
		t.Fatalf("events while PostgreSQL is down, in English: want 503 %q, got %v", tr("en", "err.db_unavailable"), a)
	}
	a = staff.get("/gates")
	if a.Status != http.StatusServiceUnavailable || !strings.Contains(a.Body, tr("zh", "err.db_unavailable")) || !strings.Contains(a.Body, "<html") {
		t.Fatalf("a page while PostgreSQL is down: want a 503 page saying %q, got %v", tr("zh", "err.db_unavailable"), a)
	}
	if a = roundTrip(faultClient, mustRequest("GET", d.URL+"/readyz")); a.Status != http.StatusServiceUnavailable {
		t.Fatalf("/readyz while PostgreSQL is down: want 503, got %v", a)
	}
	if a = roundTrip(faultClient, mustRequest("GET", d.URL+"/healthz")); a.Status != http.StatusOK {
		t.Fatalf("/healthz (the process is alive) while PostgreSQL is down: want 200, got %v", a)
	}
	time.Sleep(time.Second) // let the load meet the outage

	// Start it again: crash recovery from the WAL, then the same server
	// process must serve again.
	setPhase("recovering")
	pg.start(t)
	deadline := time.Now().Add(30 * time.Second)
	for {
		a := roundTrip(faultClient, mustRequest("GET", d.URL+"/readyz"))
		if a.Status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz did not answer 200 within 30 s of PostgreSQL's restart: %v", a)
		}
		time.Sleep(100 * time.Millisecond)
	}
	setPhase("after")
	_, ackedBefore := dev.counts()
	waitAcked(ackedBefore + 500)
	if a := staff.get("/gates"); a.Status != 200 {
		t.Fatalf("GET /gates after the restart (same session): %v", a)
	}
	close(stop)
	wg.Wait()

	// Every answer was an answer; during the outage only 503s with the
	// translated message (or a decision from memory); afterwards 200s.
	count := map[string]int{}
	for _, r := range results {
		key := r.phase + " " + r.what + " " + strconv.Itoa(r.a.Status)
		count[key]++
		if r.a.Err != nil {
			t.Errorf("%s during phase %s: %v", r.what, r.phase, r.a)
			continue
		}
		switch {
		case r.a.Status == 200:
			if r.phase == "down" && r.what == "events" {
				t.Errorf("events acknowledged while PostgreSQL was down: %v", r.a)
			}
		case r.a.Status == http.StatusServiceUnavailable && r.phase != "up" && r.phase != "after":
			if r.what == "page" {
				if !strings.Contains(r.a.Body, tr("zh", "err.db_unavailable")) {
					t.Errorf("error page during the outage without the translated message: %v", r.a)
				}
			} else if e, ok := jsonError(r.a); !ok || e.Error.Code != "unavailable" || e.Error.Message != tr("zh", "err.db_unavailable") {
				t.Errorf("%s during the outage: not the translated JSON error: %v", r.what, r.a)
			}
		default:
			t.Errorf("%s during phase %s: %v", r.what, r.phase, r.a)
		}
	}
	t.Logf("answers by phase, kind and status: %v", count)
	if count["after events 200"] == 0 || count["after page 200"] == 0 {
		t.Errorf("no successful uploads or page loads after the restart: %v", count)
	}

	// Resend what was never acknowledged, as a device does.
	dev.resendAll(t)
	s, err := store.Open(context.Background(), pg.url("shequ"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkStoredOnce(t, s, dev, "pg-")
	// Every decision answered 200 (some from memory during the outage) is
	// in the decision log: the recorder kept what it could not write.
	deadline = time.Now().Add(15 * time.Second)
	for {
		missing := 0
		mu.Lock()
		for id := range decisions {
			var n int
			if err := store.RawForTest(s).QueryRow(`SELECT count(*) FROM decisions WHERE id = $1`, id).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 1 {
				missing++
			}
		}
		total := len(decisions)
		mu.Unlock()
		if missing == 0 {
			t.Logf("%d decisions answered, all logged", total)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d decisions answered were not logged", missing, total)
		}
		time.Sleep(200 * time.Millisecond)
	}
	checkPassHourly(t, s)

	// No corruption: PostgreSQL's own checker over every table and index.
	if out, err := pg.run("pg_amcheck", "-h", "127.0.0.1", "-p", strconv.Itoa(pg.port), "-U", "postgres", "--install-missing",
		"--heapallindexed", "shequ"); err != nil {
		t.Fatalf("pg_amcheck found problems: %v\n%s", err, out)
	}
}

func mustRequest(method, url string) *http.Request {
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		panic(err)
	}
	return req
}

// checkStoredOnce checks that the events the device sent (ids starting with
// prefix) are each stored exactly once, acknowledged ones included.
func checkStoredOnce(t *testing.T, s *store.Store, dev *deviceAPI, prefix string) {
	t.Helper()
	rows, err := store.RawForTest(s).Query(`SELECT event_id, count(*) FROM pass_events WHERE event_id LIKE $1 GROUP BY event_id`, prefix+"%")
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		stored[id] = n
	}
	rows.Close()
	dev.mu.Lock()
	defer dev.mu.Unlock()
	for id := range dev.acked {
		if strings.HasPrefix(id, prefix) && stored[id] != 1 {
			t.Fatalf("acknowledged event %s stored %d times", id, stored[id])
		}
	}
	sent := 0
	for id := range dev.sent {
		if strings.HasPrefix(id, prefix) {
			sent++
			if stored[id] != 1 {
				t.Fatalf("event %s (sent, resent until acknowledged) stored %d times", id, stored[id])
			}
		}
	}
	if len(stored) != sent {
		t.Fatalf("%d distinct events stored under %s, %d sent", len(stored), prefix, sent)
	}
	t.Logf("%d events sent, each stored exactly once", sent)
}

// checkPassHourly checks that the hourly rollup equals a count over the pass
// events, gate by gate and hour by hour.
func checkPassHourly(t *testing.T, s *store.Store) {
	t.Helper()
	rows, err := store.RawForTest(s).Query(`
		SELECT COALESCE(e.gate_id, h.gate_id), COALESCE(e.hour, h.hour), COALESCE(e.n, 0), COALESCE(h.total, 0)
		FROM (SELECT gate_id, (received_at / 3600000) * 3600000 AS hour, count(*) AS n FROM pass_events GROUP BY gate_id, (received_at / 3600000) * 3600000) e
		FULL OUTER JOIN pass_hourly h ON h.gate_id = e.gate_id AND h.hour = e.hour
		WHERE COALESCE(e.n, 0) <> COALESCE(h.total, 0)`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var g string
		var hour, events, rolled int64
		if err := rows.Scan(&g, &hour, &events, &rolled); err != nil {
			t.Fatal(err)
		}
		t.Errorf("gate %s, hour %s: %d pass events, pass_hourly says %d", g, time.UnixMilli(hour).UTC().Format(time.RFC3339), events, rolled)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}
