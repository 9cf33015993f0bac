package ledger

import (
	"context"
	"sort"

	"shequ/internal/store"
)

// Room statuses of the building table, in the order they win when several
// apply: someone under monitoring matters most, then a flag, then a room
// nobody has surveyed yet, then what the room is used for.
const (
	StatusMonitoring = "monitoring"
	StatusFlagged    = "flagged"
	StatusPending    = "pending"
	StatusOwner      = "owner"
	StatusRented     = "rented"
	StatusVacant     = "vacant"
	StatusShop       = "shop"
)

// Statuses in legend order.
var Statuses = []string{StatusOwner, StatusRented, StatusVacant, StatusShop, StatusPending, StatusFlagged, StatusMonitoring}

// StatusOf decides a room's colour.
func StatusOf(c store.RoomCell) string {
	switch {
	case c.Monitored > 0:
		return StatusMonitoring
	case c.Survey == "flagged":
		return StatusFlagged
	case c.Survey == "pending":
		return StatusPending
	case c.RoomUse == "self":
		return StatusOwner
	case c.RoomUse == "rented" || c.RoomUse == "group_rental":
		return StatusRented
	case c.RoomUse == "shop":
		return StatusShop
	}
	return StatusVacant
}

// Cell is one room in the table.
type Cell struct {
	store.RoomCell
	Status string
}

// Floor is one row of the table: a floor's rooms per unit, left to right.
type Floor struct {
	Number int
	Units  [][]Cell // one slice of rooms per unit, in unit order
}

// Table is a building's floors × rooms grid.
type Table struct {
	Building store.Place
	Units    []string // unit names, in order ("" for a house without units)
	MaxRooms []int    // the widest floor of each unit, to align columns
	Floors   []Floor  // top floor first
	Counts   map[string]int
	Rooms    int
	People   int
	Coverage store.Coverage
}

// BuildingTable lays out a building's rooms by floor and unit.
func (s *Service) BuildingTable(ctx context.Context, building store.Place) (Table, error) {
	cells, err := s.Store.BuildingRooms(ctx, building.ID, s.Store.Today())
	if err != nil {
		return Table{}, err
	}
	t := Table{Building: building, Counts: map[string]int{}}
	unitIdx := map[string]int{}
	byFloor := map[int][][]Cell{}
	for _, c := range cells {
		ui, ok := unitIdx[c.UnitName]
		if !ok {
			ui = len(t.Units)
			unitIdx[c.UnitName] = ui
			t.Units = append(t.Units, c.UnitName)
			t.MaxRooms = append(t.MaxRooms, 0)
		}
		row := byFloor[c.Floor]
		for len(row) <= ui {
			row = append(row, nil)
		}
		cell := Cell{RoomCell: c, Status: StatusOf(c)}
		row[ui] = append(row[ui], cell)
		byFloor[c.Floor] = row
		if len(row[ui]) > t.MaxRooms[ui] {
			t.MaxRooms[ui] = len(row[ui])
		}
		t.Counts[cell.Status]++
		t.Rooms++
		t.People += c.People
		t.Coverage.Rooms++
		switch c.Survey {
		case "surveyed":
			t.Coverage.Surveyed++
		case "flagged":
			t.Coverage.Flagged++
		}
	}
	floors := make([]int, 0, len(byFloor))
	for f := range byFloor {
		floors = append(floors, f)
	}
	sort.Sort(sort.Reverse(sort.IntSlice(floors)))
	for _, f := range floors {
		row := byFloor[f]
		for len(row) < len(t.Units) {
			row = append(row, nil)
		}
		t.Floors = append(t.Floors, Floor{Number: f, Units: row})
	}
	return t, nil
}
