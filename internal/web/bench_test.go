package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"shequ/internal/access"
	"shequ/internal/apptest"
	"shequ/internal/demo"
	"shequ/internal/store"
)

// tallBuilding adds a 33-floor building with 3 units of 2 flats a floor
// (6 rooms a floor), most of them lived in, to the village.
func tallBuilding(b *testing.B, e *apptest.Env) string {
	ctx := context.Background()
	comm, _ := e.App.Store.OrgNodeByCode(ctx, demo.VillageCode)
	grid, _ := e.App.Store.OrgNodeByCode(ctx, demo.VillageCode+"001")
	sites, _ := e.App.Store.PlaceSites(ctx, comm.ID)
	bld := store.Place{CommunityID: comm.ID, GridID: grid.ID, ParentID: sites[0].ID, Kind: store.PlaceBuilding, Name: "33层测试楼", Address: "33层测试楼", Floors: 33}
	err := e.App.Store.Write(ctx, func(tx *store.Tx) error {
		if err := tx.CreatePlace(ctx, &bld); err != nil {
			return err
		}
		n := 0
		for u := 1; u <= 3; u++ {
			unit := store.Place{CommunityID: comm.ID, GridID: grid.ID, ParentID: bld.ID, Kind: store.PlaceUnit, Name: fmt.Sprintf("%d单元", u), Address: "u", Seq: u}
			if err := tx.CreatePlace(ctx, &unit); err != nil {
				return err
			}
			for f := 1; f <= 33; f++ {
				for r := 1; r <= 2; r++ {
					n++
					room := store.Place{CommunityID: comm.ID, GridID: grid.ID, ParentID: unit.ID, Kind: store.PlaceRoom, Name: fmt.Sprintf("%d%02d", f, r),
						Address: "r", Floor: f, Seq: r, RoomUse: "self", Survey: "surveyed"}
					if err := tx.CreatePlace(ctx, &room); err != nil {
						return err
					}
					if n%5 == 0 {
						continue
					}
					p := store.Person{Name: "住户", Residency: "registered", IDMask: "6104**********0000"}
					if err := tx.CreatePerson(ctx, &p); err != nil {
						return err
					}
					h := &store.Household{RoomID: room.ID, HeadID: p.ID}
					if err := tx.CreateHousehold(ctx, h); err != nil {
						return err
					}
					if err := tx.AddMember(ctx, store.Member{HouseholdID: h.ID, PersonID: p.ID, Relation: "02"}); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return bld.ID
}

// BenchmarkBuildingTable renders the building table of a 33-floor, 6-room
// building through the whole HTTP stack (session, scope check, queries,
// template), next to the limit: the smallest authenticated page
// (/api/v1/whoami) through the same stack in the same run.
func BenchmarkBuildingTable(b *testing.B) {
	e := apptest.Start(b, "sqlite")
	id := tallBuilding(b, e)
	c := e.Login(b, access.Staff)
	u, _ := http.NewRequest("GET", e.Server.URL, nil)
	cookies := c.Jar.Cookies(u.URL)
	h := e.App.Web.Handler()
	serve := func(b *testing.B, path, want string) {
		for b.Loop() {
			req := httptest.NewRequest("GET", path, nil)
			for _, ck := range cookies {
				req.AddCookie(ck)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != 200 || !strings.Contains(rec.Body.String(), want) {
				b.Fatalf("%s: %d", path, rec.Code)
			}
		}
	}
	b.Run("building_33x6", func(b *testing.B) { serve(b, "/ledger/buildings/"+id, "3301") })
	b.Run("limit_whoami", func(b *testing.B) { serve(b, "/api/v1/whoami", "user_id") })
}
