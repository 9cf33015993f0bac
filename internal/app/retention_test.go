package app_test

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"shequ/internal/app"
	"shequ/internal/audit"
	"shequ/internal/config"
	"shequ/internal/face"
	"shequ/internal/store"
	"shequ/internal/testutil"
)

// openApp opens the whole program on a fresh database of engine.
func openApp(t *testing.T, engine string, clock *testutil.Clock, dsn, keyFile string) *app.App {
	t.Helper()
	cfg := config.Default()
	cfg.DB = dsn
	if dsn == "" {
		cfg.DB = testutil.DSN(t, engine)
	}
	cfg.KeyFile = keyFile
	if keyFile == "" {
		cfg.KeyFile = filepath.Join(t.TempDir(), "test.key")
	}
	a, err := app.Open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func exec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func exists(t *testing.T, db *sql.DB, table, id string) bool {
	t.Helper()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM `+table+` WHERE id = $1`, id).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n == 1
}

// TestRetentionPurgesEachKindAtItsPeriod puts, for every kind of personal
// data with a period, one record just inside the period and one just
// outside, runs the daily purge with a fake clock, and checks that exactly
// the outside ones went, that each purge is in the audit log with its count
// and no personal data, and that the audit chain still verifies after its
// own start was purged.
func TestRetentionPurgesEachKindAtItsPeriod(t *testing.T) {
	for _, engine := range testutil.Engines() {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			now := time.Date(2026, 11, 28, 1, 0, 0, 0, time.UTC) // 09:00 in China
			clock := testutil.NewClock(now)
			a := openApp(t, engine, clock, "", "")
			db := store.RawForTest(a.Store)
			r := a.Cfg.Retention
			nowMS := now.UnixMilli()
			// in and out: a moment just inside and just outside a period.
			in := func(d time.Duration) int64 { return now.Add(-d + time.Minute).UnixMilli() }
			out := func(d time.Duration) int64 { return now.Add(-d - time.Minute).UnixMilli() }
			// Dates: the cut-off day itself stays, the day before goes.
			day := func(d time.Duration, offset int) string {
				return now.Add(-d).In(time.FixedZone("CST", 8*3600)).AddDate(0, 0, offset).Format("2006-01-02")
			}

			// Audit entries from before and after the audit period, made at
			// those times, so the chain is real.
			clock.Set(now.Add(-r.Audit - time.Hour))
			for range 3 {
				if err := a.Audit.Record(ctx, a.Store, &store.AuditEntry{ActorName: "张三", Action: "login", IP: "10.0.0.1"}); err != nil {
					t.Fatal(err)
				}
			}
			clock.Set(now.Add(-r.Audit + time.Hour))
			for range 2 {
				if err := a.Audit.Record(ctx, a.Store, &store.AuditEntry{ActorName: "李四", Action: "pii.reveal"}); err != nil {
					t.Fatal(err)
				}
			}
			clock.Set(now)

			// The places, people and accounts the records hang on.
			exec(t, db, `INSERT INTO org_nodes (id, level, code, name, path, created_at, updated_at) VALUES ('c1', 'community', '610402011001', '丰乐社区', '/c1/', $1, $1)`, nowMS)
			exec(t, db, `INSERT INTO places (id, community_id, kind, name, address, created_at, updated_at) VALUES ('r1', 'c1', 'room', '101', '1-1-101', $1, $1)`, nowMS)
			exec(t, db, `INSERT INTO households (id, room_id, created_at, updated_at) VALUES ('h1', 'r1', $1, $1)`, nowMS)
			for _, p := range []string{"p-left-long-ago", "p-left-recently", "p-lives-here", "p-other"} {
				exec(t, db, `INSERT INTO persons (id, name, residency, created_at, updated_at) VALUES ($1, '王五', 'registered', $2, $2)`, p, nowMS)
			}
			exec(t, db, `INSERT INTO household_members (household_id, person_id, until) VALUES ('h1', 'p-left-long-ago', $1)`, day(r.Faces, -1))
			exec(t, db, `INSERT INTO household_members (household_id, person_id, until) VALUES ('h1', 'p-left-recently', $1)`, day(r.Faces, 0))
			exec(t, db, `INSERT INTO household_members (household_id, person_id) VALUES ('h1', 'p-lives-here')`)
			exec(t, db, `INSERT INTO users (id, username, display_name, kind, created_at, updated_at) VALUES ('u-partner', 'health', '卫健委', 'api', $1, $1)`, nowMS)
			exec(t, db, `INSERT INTO users (id, username, display_name, kind, created_at, updated_at) VALUES ('u-device', 'dev1', '闸机', 'api', $1, $1)`, nowMS)
			exec(t, db, `INSERT INTO gates (id, community_id, code, name, kind, created_at) VALUES ('g1', 'c1', 'FL-N', '北门', 'turnstile', $1)`, nowMS)
			exec(t, db, `INSERT INTO devices (id, gate_id, user_id, name, created_at) VALUES ('d1', 'g1', 'u-device', '北门闸机', $1)`, nowMS)
			exec(t, db, `INSERT INTO agreements (id, partner_id, department, name, purpose, node_id, grants, rate_limit, expires_on, created_at, updated_at)
				VALUES ('ag1', 'u-partner', 'health', '核酸', '核查', 'c1', '{}', 60, '2030-01-01', $1, $1)`, nowMS)
			exec(t, db, `INSERT INTO webhook_subscriptions (id, partner_id, url, secret_enc, events, created_at, updated_at)
				VALUES ('ws1', 'u-partner', 'https://partner.example/hook', $1, ',person.changed,', $2, $2)`, []byte{1, 2, 3}, nowMS)
			exec(t, db, `INSERT INTO report_codes (id, community_id, place, kind, token, created_at) VALUES ('rc1', 'c1', '北门', 'gate', 'tok', $1)`, nowMS)

			// Records of every kind, just inside (-in) and just outside (-out).
			for _, side := range []struct {
				suffix string
				at     func(time.Duration) int64
				date   int
			}{{"-in", in, 0}, {"-out", out, -1}} {
				s := side.suffix
				exec(t, db, `INSERT INTO pass_events (id, device_id, gate_id, event_id, person_id, credential, outcome, device_time, received_at)
					VALUES ($1, 'd1', 'g1', $1, 'p-other', 'card', 'allow', $2, $2)`, "pe"+s, side.at(a.Cfg.PassRetention))
				exec(t, db, `INSERT INTO decisions (id, device_id, gate_id, credential, outcome, reason, at) VALUES ($1, 'd1', 'g1', 'card', 'allow', 'resident', $2)`,
					"de"+s, side.at(a.Cfg.PassRetention))
				exec(t, db, `INSERT INTO health_tests (id, person_id, kind, sampled_at, result, source, created_at) VALUES ($1, 'p-other', 'pcr', $2, 'negative', 'ui', $2)`,
					"ht"+s, side.at(r.Health))
				exec(t, db, `INSERT INTO code_snapshots (id, person_id, colour, at, source, created_at) VALUES ($1, 'p-other', 'green', $2, 'ui', $2)`,
					"cs"+s, side.at(r.Health))
				exec(t, db, `INSERT INTO travel_declarations (id, person_id, from_place, arrival_date, source, created_at) VALUES ($1, 'p-other', '武汉', '2026-01-01', 'ui', $2)`,
					"td"+s, side.at(r.Health))
				exec(t, db, `INSERT INTO monitoring (id, person_id, kind, start_date, end_date, source, created_at) VALUES ($1, 'p-other', 'home_quarantine', '2020-01-01', $2, 'ui', $3)`,
					"mo"+s, day(r.Health, side.date), nowMS)
				exec(t, db, `INSERT INTO vaccinations (id, person_id, vaccine, dose, given_on, source, created_at) VALUES ($1, 'p-other', 'covid', 1, $2, 'ui', $3)`,
					"va"+s, day(r.Vaccinations, side.date), nowMS)
				exec(t, db, `INSERT INTO agreement_access (id, agreement_id, at, dataset, record_id) VALUES ($1, 'ag1', $2, 'persons', 'p-other')`,
					"aa"+s, side.at(r.PartnerAccess))
				exec(t, db, `INSERT INTO webhook_deliveries (id, subscription_id, kind, record_key, seq, payload, status, next_at, window_from, created_at)
					VALUES ($1, 'ws1', 'person.changed', 'p-other', $2, '{}', 'delivered', $3, $3, $3)`, "wd"+s, len(s), side.at(r.Webhooks))
				exec(t, db, `INSERT INTO outbox (id, channel, body, created_at) VALUES ($1, 'app', '请核查', $2)`, "ob"+s, side.at(r.Notifications))
				exec(t, db, `INSERT INTO visitors (id, community_id, name, valid_from, valid_until, registered_by, created_at) VALUES ($1, 'c1', '赵六', $2, $2, 'booth', $2)`,
					"vi"+s, side.at(r.Visitors))
				exec(t, db, `INSERT INTO alarms (id, gate_id, kind, person_id, detail, at) VALUES ($1, 'g1', 'fever', 'p-other', '37.9', $2)`, "al"+s, side.at(r.Alarms))
				// A finished lead batch: its one lead verified just inside or outside.
				exec(t, db, `INSERT INTO lead_batches (id, node_id, name, source, deadline, created_at) VALUES ($1, 'c1', '协查', 'import', '2026-01-01', $2)`,
					"lb"+s, out(r.Leads+time.Hour))
				exec(t, db, `INSERT INTO leads (id, batch_id, deadline, node_id, status, verified_at, created_at, updated_at) VALUES ($1, $2, '2026-01-01', 'c1', 'verified', $3, $3, $3)`,
					"le"+s, "lb"+s, side.at(r.Leads))
				exec(t, db, `INSERT INTO lead_events (id, lead_id, at, action) VALUES ($1, $2, $3, 'verified')`, "lv"+s, "le"+s, side.at(r.Leads))
				exec(t, db, `INSERT INTO self_reports (id, ref, code_id, community_id, name, id_enc, id_bidx, id_mask, from_place, arrival_date, room_id, lead_id, created_at, updated_at)
					VALUES ($1, $1, 'rc1', 'c1', '钱七', $2, $1, '6104**********123X', '武汉', '2026-01-01', 'r1', $3, $4, $4)`, "sl"+s, []byte{1}, "le"+s, out(r.Leads+time.Hour))
				// A self-report that never became a lead.
				exec(t, db, `INSERT INTO self_reports (id, ref, code_id, community_id, name, id_enc, id_bidx, id_mask, from_place, arrival_date, room_id, created_at, updated_at)
					VALUES ($1, $1, 'rc1', 'c1', '孙八', $2, $1, '6104**********123X', '武汉', '2026-01-01', 'r1', $3, $3)`, "sr"+s, []byte{1}, side.at(r.Leads))
				// A card revoked just inside or outside the face period.
				exec(t, db, `INSERT INTO credentials (id, person_id, kind, value_bidx, value_enc, value_mask, seq, created_at, revoked_at) VALUES ($1, 'p-other', 'card', $1, $2, '****1234', 1, $3, $3)`,
					"cr"+s, []byte{9, 9}, side.at(r.Faces))
			}
			// An old batch with one lead still open stays whole.
			exec(t, db, `INSERT INTO lead_batches (id, node_id, name, source, deadline, created_at) VALUES ('lb-open', 'c1', '协查', 'import', '2020-01-01', $1)`, out(r.Leads+time.Hour))
			exec(t, db, `INSERT INTO leads (id, batch_id, deadline, node_id, status, verified_at, created_at, updated_at) VALUES ('le-done', 'lb-open', '2020-01-01', 'c1', 'verified', $1, $1, $1)`, out(r.Leads))
			exec(t, db, `INSERT INTO leads (id, batch_id, deadline, node_id, status, created_at, updated_at) VALUES ('le-open', 'lb-open', '2020-01-01', 'c1', 'open', $1, $1)`, out(r.Leads))
			// A pending webhook delivery is still owed, however old.
			exec(t, db, `INSERT INTO webhook_deliveries (id, subscription_id, kind, record_key, seq, payload, status, next_at, window_from, created_at)
				VALUES ('wd-pending', 'ws1', 'person.changed', 'p-other', 99, '{}', 'pending', $1, $1, $1)`, out(r.Webhooks))
			// Faces: someone who moved out before the period, someone who moved
			// out on its first day, someone who lives here.
			for _, p := range []string{"p-left-long-ago", "p-left-recently", "p-lives-here"} {
				exec(t, db, `INSERT INTO credentials (id, person_id, kind, value_enc, photo_enc, seq, created_at) VALUES ($1, $2, 'face', $3, $3, 1, $4)`,
					"face-"+p, p, []byte{7, 7, 7}, out(r.Faces+time.Hour))
			}

			// The gates' in-memory gallery holds the three faces.
			desc := make([]float32, face.Dim)
			desc[0] = 1
			for _, p := range []string{"p-left-long-ago", "p-left-recently", "p-lives-here"} {
				if err := a.Gates.Faces.Put("c1", p, "face-"+p, desc, "m1"); err != nil {
					t.Fatal(err)
				}
			}

			ran, purged, err := a.RetentionIfDue(ctx)
			if err != nil || !ran {
				t.Fatalf("retention: ran=%v %v", ran, err)
			}
			// The gate stops recognising the face that went, at once.
			if n := a.Gates.Faces.Len("c1"); n != 2 {
				t.Errorf("the gallery holds %d faces after the purge, want 2", n)
			}

			for _, c := range []struct{ table, id string }{
				{"pass_events", "pe"}, {"decisions", "de"}, {"health_tests", "ht"}, {"code_snapshots", "cs"},
				{"travel_declarations", "td"}, {"monitoring", "mo"}, {"vaccinations", "va"}, {"agreement_access", "aa"},
				{"webhook_deliveries", "wd"}, {"outbox", "ob"}, {"visitors", "vi"}, {"alarms", "al"}, {"lead_batches", "lb"},
				{"leads", "le"}, {"lead_events", "lv"}, {"self_reports", "sl"}, {"self_reports", "sr"},
			} {
				if !exists(t, db, c.table, c.id+"-in") {
					t.Errorf("%s: the record just inside the period was purged", c.table)
				}
				if exists(t, db, c.table, c.id+"-out") {
					t.Errorf("%s: the record just outside the period is still there", c.table)
				}
			}
			for id, table := range map[string]string{"lb-open": "lead_batches", "le-done": "leads", "le-open": "leads"} {
				if !exists(t, db, table, id) {
					t.Errorf("%s of a batch with an open lead was purged", id)
				}
			}
			if !exists(t, db, "webhook_deliveries", "wd-pending") {
				t.Error("a pending webhook delivery was purged")
			}
			// Faces and revoked card values.
			face := func(p string) (revoked bool, descriptor, photo bool) {
				var rv sql.NullInt64
				var v, ph []byte
				if err := db.QueryRow(`SELECT revoked_at, value_enc, photo_enc FROM credentials WHERE id = $1`, "face-"+p).Scan(&rv, &v, &ph); err != nil {
					t.Fatal(err)
				}
				return rv.Valid, v != nil, ph != nil
			}
			if rv, d, ph := face("p-left-long-ago"); !rv || d || ph {
				t.Errorf("face of someone who moved out before the period: revoked=%v descriptor=%v photo=%v", rv, d, ph)
			}
			for _, p := range []string{"p-left-recently", "p-lives-here"} {
				if rv, d, ph := face(p); rv || !d || !ph {
					t.Errorf("face of %s: revoked=%v descriptor=%v photo=%v, want kept", p, rv, d, ph)
				}
			}
			var history int
			db.QueryRow(`SELECT count(*) FROM change_log WHERE person_id = 'p-left-long-ago' AND source = 'retention' AND action = 'credential_revoked'`).Scan(&history)
			if history != 1 {
				t.Errorf("the face revocation is not in the person's history (%d entries)", history)
			}
			card := func(id string) bool {
				var v []byte
				db.QueryRow(`SELECT value_enc FROM credentials WHERE id = $1`, id).Scan(&v)
				return v != nil
			}
			if !card("cr-in") || card("cr-out") {
				t.Errorf("revoked card values: inside kept=%v, outside kept=%v", card("cr-in"), card("cr-out"))
			}

			want := app.Purged{"passes": 2, "health": 4, "vaccinations": 1, "partner_access": 1, "webhook_deliveries": 1,
				"notifications": 1, "visitors": 1, "alarms": 1, "leads": 1, "self_reports": 2, "faces": 1, "credential_values": 1, "audit": 3}
			for k, n := range want {
				if purged[k] != n {
					t.Errorf("purged %s: %d, want %d (all: %v)", k, purged[k], n, purged)
				}
			}

			// Each kind's purge is in the audit log with its count, and no
			// personal data.
			entries, err := a.Store.AuditEntries(ctx, store.AuditFilter{Action: "retention.purge", Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]string{}
			for _, e := range entries {
				seen[e.TargetType] = e.Detail
				for _, pii := range []string{"王五", "张三", "p-other", "10.0.0.1"} {
					if strings.Contains(e.Detail, pii) {
						t.Errorf("purge entry carries personal data: %s", e.Detail)
					}
				}
			}
			for k, n := range want {
				if !strings.Contains(seen[k], `"rows":`+itoa(n)) {
					t.Errorf("audit entry for %s: %q", k, seen[k])
				}
			}

			// The chain verifies from the sealed anchor: the 3 old entries
			// went, the 2 recent ones and the purge entries are checked.
			n, err := a.Audit.Verify(ctx, a.Store)
			if err != nil || n != int64(2+len(want)) {
				t.Fatalf("audit verify after the purge: %d entries, %v", n, err)
			}
			var left int
			db.QueryRow(`SELECT count(*) FROM audit_log WHERE seq <= 3`).Scan(&left)
			if left != 0 {
				t.Fatalf("%d audit entries older than the period left", left)
			}
			// Moving the anchor by hand (hiding one more entry) is noticed.
			var anchor string
			db.QueryRow(`SELECT value FROM meta WHERE key = 'audit_anchor'`).Scan(&anchor)
			var hash4 string
			db.QueryRow(`SELECT hash FROM audit_log WHERE seq = 4`).Scan(&hash4)
			exec(t, db, `DELETE FROM audit_log WHERE seq = 4`)
			exec(t, db, `UPDATE meta SET value = $1 WHERE key = 'audit_anchor'`, "4 "+hash4+" "+strings.Fields(anchor)[2])
			var b *audit.Broken
			if _, err := a.Audit.Verify(ctx, a.Store); !errors.As(err, &b) {
				t.Fatalf("a moved anchor verified: %v", err)
			}
			// Deleting the anchor is noticed too.
			exec(t, db, `DELETE FROM meta WHERE key = 'audit_anchor'`)
			if _, err := a.Audit.Verify(ctx, a.Store); !errors.As(err, &b) {
				t.Fatalf("a chain without its anchor verified: %v", err)
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestRetentionRunsOncePerDay checks the scheduler with a fake clock: the
// purges run on the first tick of a day (in China), not again that day,
// and again the next day; a record that crosses its period in between goes
// on the next day's run.
func TestRetentionRunsOncePerDay(t *testing.T) {
	ctx := context.Background()
	clock := testutil.NewClock(time.Date(2026, 11, 28, 1, 0, 0, 0, time.UTC))
	a := openApp(t, "sqlite", clock, "", "")
	db := store.RawForTest(a.Store)
	exec(t, db, `INSERT INTO users (id, username, display_name, kind, created_at, updated_at) VALUES ('u1', 'a', 'a', 'staff', 0, 0)`)
	// A message that reaches the end of its period at 12:00 the next day.
	exec(t, db, `INSERT INTO outbox (id, user_id, channel, body, created_at) VALUES ('m1', 'u1', 'app', '请核查', $1)`,
		clock.Now().Add(-a.Cfg.Retention.Notifications+35*time.Hour).UnixMilli())
	if ran, _, err := a.RetentionIfDue(ctx); err != nil || !ran {
		t.Fatalf("first run of the day: ran=%v %v", ran, err)
	}
	clock.Advance(10 * time.Hour) // 19:00 in China, same day
	if ran, _, err := a.RetentionIfDue(ctx); err != nil || ran {
		t.Fatalf("second run the same day: ran=%v %v", ran, err)
	}
	clock.Advance(6 * time.Hour) // 01:00 the next day: the message is still inside its period
	if ran, p, err := a.RetentionIfDue(ctx); err != nil || !ran || p["notifications"] != 0 {
		t.Fatalf("next day: ran=%v purged=%v %v", ran, p, err)
	}
	if !exists(t, db, "outbox", "m1") {
		t.Fatal("message purged before its period ended")
	}
	clock.Advance(24 * time.Hour)
	if ran, p, err := a.RetentionIfDue(ctx); err != nil || !ran || p["notifications"] != 1 {
		t.Fatalf("the day after: ran=%v purged=%v %v", ran, p, err)
	}
	if exists(t, db, "outbox", "m1") {
		t.Fatal("message kept past its period")
	}
}

// TestRetentionPurgesLargeBacklogsInBatches: a purge larger than one batch
// (5,000 rows) goes on until everything past the period is gone.
func TestRetentionPurgesLargeBacklogsInBatches(t *testing.T) {
	ctx := context.Background()
	clock := testutil.NewClock(time.Date(2026, 11, 28, 1, 0, 0, 0, time.UTC))
	a := openApp(t, "sqlite", clock, "", "")
	db := store.RawForTest(a.Store)
	old := clock.Now().Add(-a.Cfg.Retention.Notifications - time.Hour).UnixMilli()
	exec(t, db, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 12001)
		INSERT INTO outbox (id, channel, body, created_at) SELECT 'm' || i, 'app', '请核查', $1 FROM n`, old)
	p, err := a.Retention(ctx)
	if err != nil || p["notifications"] != 12001 {
		t.Fatalf("purged %v: %v", p, err)
	}
	var left int
	db.QueryRow(`SELECT count(*) FROM outbox`).Scan(&left)
	if left != 0 {
		t.Fatalf("%d messages left", left)
	}
}
