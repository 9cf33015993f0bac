package pii

import (
	"testing"
	"time"
)

func TestFindPersonal(t *testing.T) {
	now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	valid := "11010519491231002X" // the standard's example: check digit X
	cases := []struct {
		text string
		want []Found
	}{
		{`{"msg":"x","id":"` + valid + `"}`, []Found{{"id", MaskID(valid)}}},
		{"id=" + "11010519491231002x" + " phone=13812345678", []Found{{"id", MaskID(valid)}, {"phone", MaskPhone("13812345678")}}},
		{"tel +8613912345678,", []Found{{"phone", MaskPhone("13912345678")}}},
		{"13812345678 and 15912345678", []Found{{"phone", MaskPhone("13812345678")}, {"phone", MaskPhone("15912345678")}}},
		// Not personal data: a wrong check digit, an impossible date, a
		// longer digit run, digits inside a token, a landline-like number.
		{"110105194912310021", nil},
		{"110105194913310028", nil},
		{"ms=138123456789", nil},
		{"ref 01JDX13812345678QW", nil},
		{"sq_a13812345678b", nil},
		{"12812345678", nil},
		{`"phone":"138****5678"`, nil},
	}
	for _, c := range cases {
		got := FindPersonal(c.text, now)
		if len(got) != len(c.want) {
			t.Errorf("%q: found %v, want %v", c.text, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%q: found %v, want %v", c.text, got, c.want)
			}
		}
	}
}
