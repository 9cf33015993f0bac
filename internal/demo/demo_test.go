package demo_test

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"testing"
	"time"

	"shequ/internal/access"
	"shequ/internal/audit"
	"shequ/internal/auth"
	"shequ/internal/config"
	"shequ/internal/demo"
	"shequ/internal/pii"
	"shequ/internal/store"
	"shequ/internal/testutil"
)

func build(t *testing.T, engine string, seed uint64, people int) (*store.Store, *pii.Keyring, *demo.Result, string) {
	t.Helper()
	dsn := testutil.DSN(t, engine)
	clock := testutil.NewClock(time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC))
	s, err := store.Open(context.Background(), dsn, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	keys := pii.NewKeyring(bytes.Repeat([]byte{7}, 32))
	a := &auth.Service{Store: s, Keys: keys, Audit: audit.New(func(b []byte) []byte { return keys.MAC(b, "audit") }),
		TTL: time.Hour, Argon2: auth.Argon2{Time: 1, MemoryKiB: 1024, Threads: 1}}
	res, err := demo.Build(context.Background(), demo.Env{Store: s, Auth: a, Keys: keys}, demo.Options{Seed: seed, People: people})
	if err != nil {
		t.Fatal(err)
	}
	return s, keys, res, dsn
}

func TestDemoStreetMatchesTheArticle(t *testing.T) {
	for _, engine := range testutil.Engines() {
		t.Run(engine, func(t *testing.T) {
			s, keys, res, dsn := build(t, engine, 1, 0)
			ctx := context.Background()
			if len(res.Communities) != 2 || res.Communities[0].Name != demo.CompoundName || res.Communities[1].Name != demo.VillageName {
				t.Fatalf("communities %+v", res.Communities)
			}
			village, _ := s.CountPopulation(ctx, res.Communities[1].Path)
			if village.Registered+village.Permanent != 1460 || village.Floating != 1950 {
				t.Errorf("urban village: %d permanent, %d floating; the article has 1,460 and 1,950", village.Registered+village.Permanent, village.Floating)
			}
			compound, _ := s.CountPopulation(ctx, res.Communities[0].Path)
			if n := compound.Registered + compound.Permanent + compound.Floating; n != 1600 {
				t.Errorf("compound has %d residents", n)
			}
			// One account per role the contract names, each placed where it works.
			roles := map[access.Role]bool{}
			for _, l := range res.Logins {
				roles[l.Role] = true
				if len(l.Password) < 10 {
					t.Errorf("%s password too short", l.Role)
				}
			}
			for _, r := range []access.Role{access.Admin, access.Official, access.Staff, access.Grid, access.Property, access.Owners} {
				if !roles[r] {
					t.Errorf("no %s login", r)
				}
			}
			// Every grid has a worker.
			for _, g := range res.Grids {
				us, _, err := s.Users(ctx, store.UserFilter{ScopePath: g.Path})
				if err != nil || len(us) == 0 {
					t.Errorf("grid %s has nobody", g.Name)
				}
			}
			// Every identity number decrypts to a valid GB 11643 number whose
			// birth date is the one recorded; the same for phones.
			rows, err := store.RawForTest(s).Query(`SELECT id_enc, birth_date, sex, phone_enc FROM persons`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			n := 0
			for rows.Next() {
				var idEnc, phoneEnc []byte
				var birth string
				var sex int
				rows.Scan(&idEnc, &birth, &sex, &phoneEnc)
				num, err := keys.DecryptString(idEnc, "persons.id_number")
				if err != nil {
					t.Fatal(err)
				}
				id, err := pii.ParseID(pii.DocResidentID, num, time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC))
				if err != nil || id.Birth.Format("2006-01-02") != birth || id.Sex != sex {
					t.Fatalf("person %d: id %v birth %s sex %d: %v", n, id, birth, sex, err)
				}
				phone, _ := keys.DecryptString(phoneEnc, "persons.phone")
				if _, err := pii.NormalizePhone(phone); err != nil {
					t.Fatalf("phone %q: %v", phone, err)
				}
				n++
			}
			if n != 1600+1460+1950 {
				t.Errorf("%d persons", n)
			}
			if engine == "sqlite" {
				assertNoPlainIDs(t, config.SQLitePath(dsn))
			}
		})
	}
}

// assertNoPlainIDs scans the database files for valid identity numbers
// (region, birth date and check character all valid).
func assertNoPlainIDs(t *testing.T, path string) {
	t.Helper()
	re := regexp.MustCompile(`[1-9]\d{16}[\dX]`)
	for _, f := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, m := range re.FindAll(b, -1) {
			if _, err := pii.ParseID(pii.DocResidentID, string(m), time.Now()); err == nil {
				t.Fatalf("%s holds a valid identity number in plaintext: %s…", f, m[:6])
			}
		}
	}
}

func TestSeedReproducesAndPeopleScales(t *testing.T) {
	_, _, a, _ := build(t, "sqlite", 42, 500)
	_, _, b, _ := build(t, "sqlite", 42, 500)
	for i := range a.Logins {
		if a.Logins[i] != b.Logins[i] {
			t.Fatalf("same seed, different logins: %+v vs %+v", a.Logins[i], b.Logins[i])
		}
	}
	s, _, c, _ := build(t, "sqlite", 43, 500)
	if c.Logins[0].Password == a.Logins[0].Password {
		t.Error("different seeds gave the same password")
	}
	var n int
	store.RawForTest(s).QueryRow(`SELECT count(*) FROM persons`).Scan(&n)
	if n != 500 {
		t.Errorf("--people 500 made %d people", n)
	}
}
