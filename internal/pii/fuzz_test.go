package pii

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzParseID(f *testing.F) {
	for _, s := range []struct{ typ, raw string }{
		{"resident_id", "11010519491231002X"},
		{"resident_id", "11010519491231002x"},
		{"resident_id", "１１０１０５１９４９１２３１００２Ｘ"},
		{"resident_id", "130503670401001"},
		{"resident_id", "110105194902310026"},
		{"resident_id", " 4405 2418 8001 0100 14 "},
		{"resident_id", "\xff\xfe110105194912310021"},
		{"passport", "e12345678"},
		{"hkmo_permit", "H1234567890"},
		{"tw_permit", "12345678"},
		{"foreign_pr", "USA123456789012"},
		{"foreign_pr", "951840198501010017"},
		{"other", "x"},
	} {
		f.Add(s.typ, s.raw)
	}
	f.Fuzz(func(t *testing.T, typ, raw string) {
		id, err := ParseID(DocType(typ), raw, testNow)
		if err != nil {
			if reasonOf(err) == "" {
				t.Fatalf("error %v is not an *IDError", err)
			}
			return
		}
		n := id.Number
		if !utf8.ValidString(n) || strings.ToUpper(n) != n || strings.ContainsAny(n, " \t") || n != strings.TrimSpace(n) {
			t.Fatalf("accepted %q as non-normalised %q", raw, n)
		}
		for i := 0; i < len(n); i++ {
			if n[i] >= 0x80 {
				t.Fatalf("accepted %q with non-ASCII number %q", raw, n)
			}
		}
		if id.Type == DocResidentID {
			if len(n) != 18 || IDCheckChar(n[:17]) != n[17] || id.Birth.IsZero() || id.Sex == 0 || id.Region != n[:6] {
				t.Fatalf("accepted resident id %q as %+v", raw, id)
			}
		}
		again, err := ParseID(id.Type, n, testNow)
		if err != nil || again != id {
			t.Fatalf("re-parsing %q gave %+v, %v; want %+v", n, again, err, id)
		}
	})
}

var phoneForm = regexp.MustCompile(`^(1[3-9]\d{9}|010-[2-9]\d{6,7}|02\d-[2-9]\d{6,7}|0[3-9]\d{2}-[2-9]\d{6,7})$`)

func FuzzNormalizePhone(f *testing.F) {
	for _, s := range []string{
		"13912345678", "+86 139 1234 5678", "0086-139-1234-5678", "8613912345678",
		"１３９１２３４５６７８", "029-88886666", "(029) 8888 6666", "0917-3212345",
		"+86 29 8888 6666", "+", "0", "86", "", "\u30001", "12345",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		p, err := NormalizePhone(raw)
		if err != nil {
			if err != ErrPhone {
				t.Fatalf("error %v is not ErrPhone", err)
			}
			return
		}
		if !phoneForm.MatchString(p) {
			t.Fatalf("NormalizePhone(%q) = %q, not a normalised form", raw, p)
		}
		if again, err := NormalizePhone(p); err != nil || again != p {
			t.Fatalf("NormalizePhone(%q) = %q, %v; want it unchanged", p, again, err)
		}
		// The mask hides the subscriber digits: mobiles 4 to 7, landlines
		// all but the last two after the area code.
		want := p[:3] + "****" + p[7:]
		if area, num, ok := strings.Cut(p, "-"); ok {
			want = area + "-" + strings.Repeat("*", len(num)-2) + num[len(num)-2:]
		}
		if m := MaskPhone(raw); m != want {
			t.Fatalf("MaskPhone(%q) = %q, want %q", raw, m, want)
		}
	})
}

// revealed checks that masked is plain with every rune outside the first
// head and last tail replaced by '*' (all of them when head+tail exceeds
// its length), and nothing else changed.
func revealed(t *testing.T, fn, plain, masked string, head, tail int) {
	t.Helper()
	p, m := []rune(plain), []rune(masked)
	if head+tail > len(p) {
		head, tail = 0, 0
	}
	if len(m) != len(p) {
		t.Fatalf("%s(%q) = %q: %d runes, want %d", fn, plain, masked, len(m), len(p))
	}
	for i := range p {
		want := '*'
		if i < head || i >= len(p)-tail {
			want = p[i]
		}
		if m[i] != want {
			t.Fatalf("%s(%q) = %q: rune %d is %q, want %q (keep %d+%d)", fn, plain, masked, i, m[i], want, head, tail)
		}
	}
}

func FuzzMask(f *testing.F) {
	for _, s := range []string{
		"61010419900307123X", "11010519491231002X", "E12345678", "X1234", "AB", "", " 12 ",
		"张三", "张小明", "欧阳娜娜", "阿依古丽·买买提", "王", " 李\u3000四 ", "张 John", "John Smith", "José  Ángel Núñez",
		"陕西省西安市雁塔区", "雁塔", "a*c", "+44 20 7946 0958", "\xff\xfe", "a\u0301b", "１２３４５６７８９０１２３４５６７８９",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// Document numbers: 4+4 from 18 runes, 2+2 from 6, 1+1 from 3.
		id := strings.TrimSpace(s)
		switch n := utf8.RuneCountInString(id); {
		case n >= 18:
			revealed(t, "MaskID", id, MaskID(s), 4, 4)
		case n >= 6:
			revealed(t, "MaskID", id, MaskID(s), 2, 2)
		case n >= 3:
			revealed(t, "MaskID", id, MaskID(s), 1, 1)
		default:
			revealed(t, "MaskID", id, MaskID(s), 0, 0)
		}

		// Free text: first and last rune; of two runes the first; of one none.
		switch n := utf8.RuneCountInString(s); {
		case n <= 2:
			revealed(t, "MaskText", s, MaskText(s), max(n-1, 0), 0)
		default:
			revealed(t, "MaskText", s, MaskText(s), 1, 1)
		}

		// Names: Chinese keep the first character and from three on the
		// last; Latin keep each word's initial.
		name := NormalizeText(s)
		if hasHan(name) {
			name = strings.ReplaceAll(name, " ", "")
			switch n := utf8.RuneCountInString(name); {
			case n == 1:
				revealed(t, "MaskName", name, MaskName(s), 0, 0)
			case n == 2:
				revealed(t, "MaskName", name, MaskName(s), 1, 0)
			default:
				revealed(t, "MaskName", name, MaskName(s), 1, 1)
			}
		} else {
			words, masked := strings.Split(name, " "), strings.Split(MaskName(s), " ")
			if name == "" {
				words = nil
			}
			if len(masked) != len(words) && !(name == "" && MaskName(s) == "") {
				t.Fatalf("MaskName(%q) = %q: %d words, want %d", s, MaskName(s), len(masked), len(words))
			}
			for i, w := range words {
				revealed(t, "MaskName", w, masked[i], 1, 0)
			}
		}

		// Phones that are no mainland number keep only their last 2 runes.
		if _, err := NormalizePhone(s); err != nil {
			p := strings.TrimSpace(s)
			revealed(t, "MaskPhone", p, MaskPhone(s), 0, 2)
		}
	})
}
