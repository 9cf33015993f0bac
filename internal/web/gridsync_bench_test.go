package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"testing"
	"time"

	"shequ/internal/access"
	"shequ/internal/apptest"
	"shequ/internal/demo"
	"shequ/internal/store"
)

// BenchmarkGridSync is a grid worker's phone syncing a 5,000-household
// grid (15,000 people) after a day offline, each half next to its limit
// measured in the same run:
//
//   - download: the bundle (rooms with survey status, people count, last
//     visit; tasks; points) and the households (members with health facts,
//     masked) through the whole HTTP stack; the limit is a bare SELECT of
//     the same rows (the grid's rooms; its living members with their
//     person rows) scanned into strings, no HTTP, no JSON.
//   - upload: 200 queued visits sent one after another over real HTTP
//     (notes, needs, one in four with a vaccination), one transaction each;
//     the limit is 200 bare INSERTs of a visit row, one transaction (one
//     fsync) each, on the same database.
func BenchmarkGridSync(b *testing.B) {
	e := apptest.Start(b, "sqlite")
	bigGrid(b, e)
	ctx := context.Background()
	raw := store.RawForTest(e.App.Store)
	grid, _ := e.App.Store.OrgNodeByCode(ctx, demo.VillageCode+"001")
	get := getAs(b, e, access.Grid)
	b.Run("download_bundle", func(b *testing.B) {
		for b.Loop() {
			get("/api/grid/v1/bundle", "测试0号")
		}
	})
	b.Run("limit_bare_select_rooms", func(b *testing.B) {
		for b.Loop() {
			rows, err := raw.Query(`SELECT id, grid_id, address, survey, COALESCE(room_use, ''), last_visit_at, updated_at FROM places WHERE kind = 'room' AND grid_id = $1 ORDER BY address`, grid.ID)
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for rows.Next() {
				var id, g, addr, survey, use string
				var lv *int64
				var v int64
				if err := rows.Scan(&id, &g, &addr, &survey, &use, &lv, &v); err != nil {
					b.Fatal(err)
				}
				n++
			}
			rows.Close()
			if n < 5000 {
				b.Fatalf("%d rooms", n)
			}
		}
	})
	b.Run("download_households", func(b *testing.B) {
		for b.Loop() {
			get("/api/grid/v1/households", "person_id")
		}
	})
	b.Run("limit_bare_select_members", func(b *testing.B) {
		for b.Loop() {
			rows, err := raw.Query(`SELECT h.room_id, h.id, h.kind, pe.id, pe.name, m.relation, COALESCE(pe.birth_date, ''), pe.residency, pe.sex
				FROM places r JOIN households h ON h.room_id = r.id AND h.ended_at IS NULL JOIN household_members m ON m.household_id = h.id
				JOIN persons pe ON pe.id = m.person_id WHERE r.kind = 'room' AND r.grid_id = $1`, grid.ID)
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for rows.Next() {
				var room, h, kind, pid, name, rel, birth, res string
				var sex int
				if err := rows.Scan(&room, &h, &kind, &pid, &name, &rel, &birth, &res, &sex); err != nil {
					b.Fatal(err)
				}
				n++
			}
			rows.Close()
			if n < 14000 {
				b.Fatalf("%d members", n)
			}
		}
	})

	// Upload: the phone's queue of 200 visits.
	c := e.Login(b, access.Grid)
	var rooms []string
	var bundle struct {
		Rooms []struct {
			ID string `json:"id"`
		} `json:"rooms"`
	}
	var households map[string][]struct {
		Members []struct {
			PersonID string `json:"person_id"`
			Doses    int    `json:"doses"`
		} `json:"members"`
	}
	for path, out := range map[string]any{"/api/grid/v1/bundle": &bundle, "/api/grid/v1/households": &households} {
		resp, err := c.Get(e.Server.URL + path)
		if err != nil {
			b.Fatal(err)
		}
		json.NewDecoder(resp.Body).Decode(out)
		resp.Body.Close()
	}
	for _, r := range bundle.Rooms {
		if len(households[r.ID]) > 0 {
			rooms = append(rooms, r.ID)
		}
	}
	if len(rooms) < 5000 {
		b.Fatalf("%d lived-in rooms in the bundle", len(rooms))
	}
	doses := map[string]int{}
	for _, hs := range households {
		for _, h := range hs {
			for _, m := range h.Members {
				doses[m.PersonID] = m.Doses
			}
		}
	}
	round := 0
	b.Run("upload_200_visits", func(b *testing.B) {
		for b.Loop() {
			round++
			for i := 0; i < 200; i++ {
				room := rooms[(round*200+i)%len(rooms)]
				v := map[string]any{"client_id": fmt.Sprintf("sync-%d-%d", round, i), "room_id": room, "notes": "例行走访，一切正常", "needs": []string{"medicine"}}
				if p := households[room][0].Members[0].PersonID; i%4 == 0 && doses[p] < 10 {
					doses[p]++
					v["health"] = []map[string]any{{"person_id": p, "kind": "vaccination", "vaccine": "科兴", "dose": doses[p], "given_on": e.App.Store.Today()}}
				}
				body, _ := json.Marshal(v)
				resp, err := c.Post(e.Server.URL+"/api/grid/v1/visits", "application/json", bytes.NewReader(body))
				if err != nil || resp.StatusCode != 200 {
					msg, _ := io.ReadAll(resp.Body)
					b.Fatalf("visit %d: %v %v %s", i, err, resp.Status, msg)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}
	})
	var user string
	raw.QueryRow(`SELECT user_id FROM visits LIMIT 1`).Scan(&user)
	n := 0
	b.Run("limit_bare_insert_200", func(b *testing.B) {
		for b.Loop() {
			for i := 0; i < 200; i++ {
				n++
				now := time.Now().UnixMilli()
				if _, err := raw.Exec(`INSERT INTO visits (id, room_id, grid_id, user_id, client_id, at, received_at, needs, notes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
					fmt.Sprintf("bare-%d", n), rooms[n%len(rooms)], grid.ID, user, fmt.Sprintf("bare-%d", n), now, now, "medicine", "例行走访，一切正常"); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
