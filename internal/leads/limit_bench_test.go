package leads_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"shequ/internal/pii"
	"shequ/internal/store"
)

// batch100k is the street's 100,000-lead file against a ledger of n
// people: 70 % by full ID, 10 % by phone, 10 % by a masked ID with the
// name, 10 % unknown.
func batch100k(n int) []byte {
	var csv strings.Builder
	csv.WriteString("姓名,身份证号,手机号,地址,事由\n")
	for k := 0; k < 100_000; k++ {
		i := k*10 + k%10 // distinct people; i%10 == 1 have a phone
		switch k % 10 {
		case 0, 2, 3, 4, 5, 6, 7:
			fmt.Fprintf(&csv, "测试%d,%s,,丰乐村,到过某地\n", i, benchID(i))
		case 1:
			fmt.Fprintf(&csv, "测试%d,,%s,丰乐村,同车\n", i, benchPhone(i))
		case 8:
			id := benchID(i)
			fmt.Fprintf(&csv, "测试%d,%s,,丰乐村,到过某地\n", i, id[:6]+"********"+id[14:])
		case 9:
			fmt.Fprintf(&csv, "外来%d,%s,,不详,到过某地\n", k, benchID(n+k))
		}
	}
	return []byte(csv.String())
}

// BenchmarkMatch100kLimitBare is the limit of BenchmarkMatch100kAgainstMillion
// (run both with -bench Match100k): the unavoidable part of the same batch
// on the same ledger file. A bare CSV read, the blind index of each full
// ID and phone, one bare indexed SELECT per 500 keys (IDs, phones, and
// names for the masked IDs), and 100,000 bare INSERTs of a row with its
// person in one transaction. No checks, routing, encryption or history.
func BenchmarkMatch100kLimitBare(b *testing.B) {
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("SHEQU_BENCH_PEOPLE")); err == nil {
		n = v
	}
	s, svc, _ := million(b, n)
	file := batch100k(n)
	raw := store.RawForTest(s)
	if _, err := raw.Exec(`CREATE TABLE IF NOT EXISTS bench_bare_leads (id TEXT PRIMARY KEY, name TEXT NOT NULL, person_id TEXT)`); err != nil {
		b.Fatal(err)
	}
	lookup := func(q string, keys []string, found map[string]string) {
		for i := 0; i < len(keys); i += 500 {
			part := keys[i:min(len(keys), i+500)]
			ph := make([]string, len(part))
			args := make([]any, len(part))
			for j, k := range part {
				ph[j], args[j] = "$"+strconv.Itoa(j+1), k
			}
			rows, err := raw.Query(strings.Replace(q, "?", strings.Join(ph, ","), 1), args...)
			if err != nil {
				b.Fatal(err)
			}
			for rows.Next() {
				var id, key string
				rows.Scan(&id, &key)
				found[key] = id
			}
			rows.Close()
		}
	}
	for b.Loop() {
		b.StopTimer()
		raw.Exec(`DELETE FROM bench_bare_leads`)
		b.StartTimer()
		recs, err := csv.NewReader(bytes.NewReader(file)).ReadAll()
		if err != nil {
			b.Fatal(err)
		}
		recs = recs[1:]
		var ids, phones, names []string
		key := make([]string, len(recs))
		for i, r := range recs {
			switch {
			case r[1] != "" && !strings.Contains(r[1], "*"):
				key[i] = svc.Ledger.IDIndex(pii.DocResidentID, r[1])
				ids = append(ids, key[i])
			case r[2] != "":
				key[i] = svc.Ledger.PhoneIndex(r[2])
				phones = append(phones, key[i])
			default:
				key[i] = r[0]
				names = append(names, r[0])
			}
		}
		found := map[string]string{}
		lookup(`SELECT id, id_bidx FROM persons WHERE id_bidx IN (?)`, ids, found)
		lookup(`SELECT id, phone_bidx FROM persons WHERE phone_bidx IN (?)`, phones, found)
		lookup(`SELECT id, name FROM persons WHERE name IN (?)`, names, found)
		tx, err := raw.Begin()
		if err != nil {
			b.Fatal(err)
		}
		ins, err := tx.Prepare(`INSERT INTO bench_bare_leads (id, name, person_id) VALUES ($1, $2, $3)`)
		if err != nil {
			b.Fatal(err)
		}
		for i, r := range recs {
			var person any
			if id, ok := found[key[i]]; ok {
				person = id
			}
			if _, err := ins.Exec(strconv.Itoa(i), r[0], person); err != nil {
				b.Fatal(err)
			}
		}
		ins.Close()
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(len(found)), "matched")
	}
}
