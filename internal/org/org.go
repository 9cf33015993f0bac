// Package org keeps the organisation tree: province → city → district →
// street → community → grid, identified by 12-digit statistical division
// codes (GB/T 2260 county + GB/T 10114 township + community) and 3-digit
// grid numbers inside a community.
package org

import (
	"context"
	"strings"

	"shequ/internal/errs"
	"shequ/internal/store"
)

// LevelOf derives the level a division code denotes: trailing zero groups
// mark the higher levels. A 15-digit code is a grid.
func LevelOf(code string) (store.Level, bool) {
	if !digits(code) {
		return "", false
	}
	switch len(code) {
	case 15:
		if code[12:] == "000" || code[9:12] == "000" {
			return "", false
		}
		return store.LevelGrid, true
	case 12:
	default:
		return "", false
	}
	switch {
	case code[2:] == "0000000000":
		return store.LevelProvince, code[:2] != "00"
	case code[4:] == "00000000":
		return store.LevelCity, true
	case code[6:] == "000000":
		return store.LevelDistrict, true
	case code[9:] == "000":
		return store.LevelStreet, code[6:9] != "000"
	default:
		return store.LevelCommunity, code[6:9] != "000"
	}
}

// prefixLen is how many leading digits of a code name its own level.
func prefixLen(l store.Level) int {
	return map[store.Level]int{store.LevelProvince: 2, store.LevelCity: 4, store.LevelDistrict: 6,
		store.LevelStreet: 9, store.LevelCommunity: 12, store.LevelGrid: 15}[l]
}

// ValidateChild checks that code is a valid code for a child of parent.
func ValidateChild(parent *store.OrgNode, code, name string) (store.Level, error) {
	code = strings.TrimSpace(code)
	if strings.TrimSpace(name) == "" {
		return "", errs.E(errs.Invalid, "err.org_name_required").OnField("name")
	}
	l, ok := LevelOf(code)
	if !ok {
		return "", errs.E(errs.Invalid, "err.org_code_invalid", code).OnField("code")
	}
	if parent == nil {
		if l != store.LevelProvince {
			return "", errs.E(errs.Invalid, "err.org_root_province").OnField("code")
		}
		return l, nil
	}
	// A city may sit directly under a province, a district under a city,
	// and so on; municipalities' districts may skip the city level.
	if l.Depth() <= parent.Level.Depth() || (l.Depth() != parent.Level.Depth()+1 && !(parent.Level == store.LevelProvince && l == store.LevelDistrict)) {
		return "", errs.E(errs.Invalid, "err.org_level_mismatch", code).OnField("code")
	}
	if pl := prefixLen(parent.Level); !strings.HasPrefix(code, parent.Code[:pl]) {
		return "", errs.E(errs.Invalid, "err.org_code_not_under_parent", code, parent.Code).OnField("code")
	}
	return l, nil
}

// Create adds a node under parentID ("" for a province) after validating
// its code.
func Create(ctx context.Context, tx *store.Tx, parentID, code, name, actorID string) (store.OrgNode, error) {
	var parent *store.OrgNode
	if parentID != "" {
		p, err := tx.OrgNode(ctx, parentID)
		if err != nil {
			return store.OrgNode{}, err
		}
		parent = &p
	}
	l, err := ValidateChild(parent, code, name)
	if err != nil {
		return store.OrgNode{}, err
	}
	n := store.OrgNode{ParentID: parentID, Level: l, Code: strings.TrimSpace(code), Name: strings.TrimSpace(name)}
	return n, tx.CreateOrgNode(ctx, &n, actorID)
}

// Rename changes a node's name and, within its parent's code range, its code.
func Rename(ctx context.Context, tx *store.Tx, id, name, code, actorID string) error {
	n, err := tx.OrgNode(ctx, id)
	if err != nil {
		return err
	}
	var parent *store.OrgNode
	if n.ParentID != "" {
		p, err := tx.OrgNode(ctx, n.ParentID)
		if err != nil {
			return err
		}
		parent = &p
	}
	if code == "" {
		code = n.Code
	}
	l, err := ValidateChild(parent, code, name)
	if err != nil {
		return err
	}
	if l != n.Level {
		return errs.E(errs.Invalid, "err.org_level_mismatch", code).OnField("code")
	}
	return tx.RenameOrgNode(ctx, id, strings.TrimSpace(name), strings.TrimSpace(code), actorID)
}

// MoveGrid moves a grid to another community. It keeps its id, so every
// household and record that points at it moves along, and its history
// records where it came from; it gets the next free number in its new
// community.
func MoveGrid(ctx context.Context, tx *store.Tx, gridID, communityID, actorID string) (string, error) {
	g, err := tx.OrgNode(ctx, gridID)
	if err != nil {
		return "", err
	}
	if g.Level != store.LevelGrid {
		return "", errs.E(errs.Invalid, "err.org_only_grids_move")
	}
	c, err := tx.OrgNode(ctx, communityID)
	if err != nil {
		return "", err
	}
	if c.Level != store.LevelCommunity {
		return "", errs.E(errs.Invalid, "err.org_move_target_community")
	}
	if g.ParentID == c.ID {
		return g.Code, nil
	}
	code, err := tx.NextGridCode(ctx, c.ID)
	if err != nil {
		return "", err
	}
	return code, tx.MoveOrgNode(ctx, g.ID, c.ID, code, actorID)
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
