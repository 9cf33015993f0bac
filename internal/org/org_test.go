package org

import (
	"testing"

	"shequ/internal/errs"
	"shequ/internal/store"
)

func TestLevelOf(t *testing.T) {
	cases := map[string]store.Level{
		"610000000000":    store.LevelProvince,
		"610400000000":    store.LevelCity,
		"610402000000":    store.LevelDistrict,
		"610402011000":    store.LevelStreet,
		"610402011002":    store.LevelCommunity,
		"610402011002001": store.LevelGrid,
	}
	for code, want := range cases {
		if got, ok := LevelOf(code); !ok || got != want {
			t.Errorf("LevelOf(%s) = %s %v, want %s", code, got, ok, want)
		}
	}
	for _, bad := range []string{"", "61", "6100000000000", "000000000000", "61040200000a", "610402000001", "610402011002000", "610402000000001"} {
		if l, ok := LevelOf(bad); ok {
			t.Errorf("LevelOf(%q) accepted as %s", bad, l)
		}
	}
}

func TestValidateChild(t *testing.T) {
	province := &store.OrgNode{Code: "610000000000", Level: store.LevelProvince}
	street := &store.OrgNode{Code: "610402011000", Level: store.LevelStreet}
	community := &store.OrgNode{Code: "610402011002", Level: store.LevelCommunity}
	ok := []struct {
		parent *store.OrgNode
		code   string
		want   store.Level
	}{
		{nil, "610000000000", store.LevelProvince},
		{province, "610400000000", store.LevelCity},
		{province, "610402000000", store.LevelDistrict}, // municipal districts may hang under a province
		{street, "610402011005", store.LevelCommunity},
		{community, "610402011002007", store.LevelGrid},
	}
	for _, c := range ok {
		if l, err := ValidateChild(c.parent, c.code, "名"); err != nil || l != c.want {
			t.Errorf("%s under %v: %s %v", c.code, c.parent, l, err)
		}
	}
	bad := []struct {
		parent *store.OrgNode
		code   string
		key    string
	}{
		{nil, "610400000000", "err.org_root_province"},
		{province, "620100000000", "err.org_code_not_under_parent"},
		{street, "610402012001", "err.org_code_not_under_parent"},
		{street, "610402011002001", "err.org_level_mismatch"},
		{community, "610402011001001", "err.org_code_not_under_parent"},
		{community, "12", "err.org_code_invalid"},
	}
	for _, c := range bad {
		_, err := ValidateChild(c.parent, c.code, "名")
		e, isApp := errs.As(err)
		if !isApp || e.Key != c.key {
			t.Errorf("%s: got %v, want %s", c.code, err, c.key)
		}
	}
	if _, err := ValidateChild(street, "610402011003", " "); err == nil {
		t.Error("empty name accepted")
	}
}
