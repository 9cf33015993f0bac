package sharing_test

import (
	"reflect"
	"strings"
	"testing"

	"shequ/internal/sharing"
	"shequ/internal/store"
)

// The standard and the SQL that serves it name the same fields in the
// same order, so the published dictionary cannot drift from the API.
func TestDictionaryMatchesTheStore(t *testing.T) {
	for _, d := range sharing.Dictionary {
		var got []string
		if d.Name == "aggregates" {
			ft := reflect.TypeFor[store.Figures]()
			for i := range ft.NumField() {
				if tag, _, _ := strings.Cut(ft.Field(i).Tag.Get("json"), ","); tag != "-" {
					got = append(got, tag)
				}
			}
		} else {
			spec, ok := store.ShareSpecs[d.Name]
			if !ok {
				t.Errorf("dataset %s has no SQL", d.Name)
				continue
			}
			for _, c := range spec.Columns {
				got = append(got, c.Name)
				f := field(d, c.Name)
				if (c.Plain != "") != f.Masked {
					t.Errorf("%s.%s: masked in one place only", d.Name, c.Name)
				}
			}
		}
		var want []string
		for _, f := range d.Fields {
			want = append(want, f.Name)
			if f.CodeTable != "" && sharing.CodeTables[f.CodeTable] == "" {
				t.Errorf("%s.%s: code table %q is not published", d.Name, f.Name, f.CodeTable)
			}
			if f.Level < 1 || f.Level > 4 {
				t.Errorf("%s.%s: sensitivity %d", d.Name, f.Name, f.Level)
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: the store serves %v, the dictionary lists %v", d.Name, got, want)
		}
	}
	if len(store.ShareSpecs) != len(sharing.Dictionary)-1 {
		t.Errorf("the store has %d datasets, the dictionary %d (and aggregates)", len(store.ShareSpecs), len(sharing.Dictionary)-1)
	}
}

func field(d sharing.Dataset, name string) sharing.Field {
	for _, f := range d.Fields {
		if f.Name == name {
			return f
		}
	}
	return sharing.Field{}
}
