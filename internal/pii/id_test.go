package pii

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// now is fixed so that birth-date limits do not drift with the calendar.
var testNow = time.Date(2025, 6, 15, 9, 30, 0, 0, time.FixedZone("CST", 8*3600))

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func reasonOf(err error) string {
	var ie *IDError
	if errors.As(err, &ie) {
		return ie.Reason
	}
	return ""
}

func TestParseIDResident(t *testing.T) {
	tests := []struct {
		name   string
		raw    string
		want   ID     // compared when reason == ""
		reason string // expected IDError reason
	}{
		{name: "standard sample", raw: "11010519491231002X",
			want: ID{Type: DocResidentID, Number: "11010519491231002X", Birth: date(1949, 12, 31), Sex: 2, Region: "110105"}},
		{name: "born 1880, earliest accepted", raw: "440524188001010014",
			want: ID{Type: DocResidentID, Number: "440524188001010014", Birth: date(1880, 1, 1), Sex: 1, Region: "440524"}},
		{name: "odd sequence is male", raw: "370101190102039973",
			want: ID{Type: DocResidentID, Number: "370101190102039973", Birth: date(1901, 2, 3), Sex: 1, Region: "370101"}},
		{name: "Xi'an number", raw: "610104199003071230",
			want: ID{Type: DocResidentID, Number: "610104199003071230", Birth: date(1990, 3, 7), Sex: 1, Region: "610104"}},
		{name: "lower-case x", raw: "11010519491231002x",
			want: ID{Type: DocResidentID, Number: "11010519491231002X", Birth: date(1949, 12, 31), Sex: 2, Region: "110105"}},
		{name: "full-width digits and spaces", raw: "\u3000１１０１０５ １９４９１２３１ ００２ｘ ",
			want: ID{Type: DocResidentID, Number: "11010519491231002X", Birth: date(1949, 12, 31), Sex: 2, Region: "110105"}},
		{name: "leap day 2000", raw: "110105200002290021",
			want: ID{Type: DocResidentID, Number: "110105200002290021", Birth: date(2000, 2, 29), Sex: 2, Region: "110105"}},
		{name: "born today", raw: "110105202506150013",
			want: ID{Type: DocResidentID, Number: "110105202506150013", Birth: date(2025, 6, 15), Sex: 1, Region: "110105"}},
		// 15-digit upgrade worked by hand: 130503+19+670401001, weighted sum
		// 7+27+0+25+0+12+2+9+36+21+0+36+0+5+0+0+2 = 182, 182 mod 11 = 6 -> '6'.
		{name: "15-digit upgraded", raw: "130503670401001",
			want: ID{Type: DocResidentID, Number: "130503196704010016", Birth: date(1967, 4, 1), Sex: 1, Region: "130503"}},

		{name: "wrong check digit", raw: "110105194912310021", reason: ReasonCheck},
		{name: "X where a digit belongs", raw: "110105194912310029", reason: ReasonCheck},
		{name: "31 February", raw: "110105194902310026", reason: ReasonBirth},
		{name: "1900 is not a leap year", raw: "110105190002290025", reason: ReasonBirth},
		{name: "born tomorrow", raw: "110105202506160019", reason: ReasonBirth},
		{name: "born before 1880", raw: "110105187912310016", reason: ReasonBirth},
		{name: "15-digit bad date", raw: "130503671301001", reason: ReasonBirth},
		{name: "province 99", raw: "990105194912310023", reason: ReasonRegion},
		{name: "province 91", raw: "910105194912310029", reason: ReasonRegion},
		{name: "15-digit province 00", raw: "000503670401001", reason: ReasonRegion},
		{name: "17 characters", raw: "11010519491231002", reason: ReasonLength},
		{name: "19 characters", raw: "11010519491231002X1", reason: ReasonLength},
		{name: "letter inside", raw: "1101051949123100AX", reason: ReasonChars},
		{name: "Y as check", raw: "11010519491231002Y", reason: ReasonChars},
		{name: "15-digit with X", raw: "13050367040100X", reason: ReasonChars},
		{name: "Chinese characters", raw: "一一〇一〇五一九四九一二三一〇〇二X", reason: ReasonChars},
		{name: "empty", raw: "", reason: ReasonEmpty},
		{name: "only spaces", raw: " \u3000\t", reason: ReasonEmpty},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseID(DocResidentID, tc.raw, testNow)
			if tc.reason != "" {
				if reasonOf(err) != tc.reason {
					t.Fatalf("ParseID(%q) = %+v, %v; want reason %q", tc.raw, got, err, tc.reason)
				}
				if want := "pii: invalid id: " + tc.reason; err.Error() != want {
					t.Errorf("Error() = %q, want %q", err.Error(), want)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseID(%q): %v", tc.raw, err)
			}
			if got != tc.want {
				t.Errorf("ParseID(%q) = %+v, want %+v", tc.raw, got, tc.want)
			}
		})
	}
}

func TestParseIDOtherDocuments(t *testing.T) {
	tests := []struct {
		typ    DocType
		raw    string
		want   string // normalised number when valid
		reason string
	}{
		{DocPassport, "E12345678", "E12345678", ""},
		{DocPassport, " e1234 5678 ", "E12345678", ""},
		{DocPassport, "X1234", "X1234", ""},
		{DocPassport, "AB1234567890123CD", "AB1234567890123CD", ""},
		{DocPassport, "AB12", "", ReasonLength},
		{DocPassport, "AB1234567890123CDE", "", ReasonLength},
		{DocPassport, "E1234-5678", "", ReasonChars},

		{DocHKMacaoPermit, "H12345678", "H12345678", ""},
		{DocHKMacaoPermit, "m1234567890", "M1234567890", ""},
		{DocHKMacaoPermit, "Ｈ１２３４５６７８", "H12345678", ""},
		{DocHKMacaoPermit, "H1234567", "", ReasonLength},
		{DocHKMacaoPermit, "H123456789", "", ReasonLength},
		{DocHKMacaoPermit, "X12345678", "", ReasonChars},
		{DocHKMacaoPermit, "H1234567A", "", ReasonChars},

		{DocTaiwanPermit, "12345678", "12345678", ""},
		{DocTaiwanPermit, "1234567890", "1234567890", ""},
		{DocTaiwanPermit, "12345678ab", "12345678AB", ""},
		{DocTaiwanPermit, "1234567", "", ReasonLength},
		{DocTaiwanPermit, "1234567A", "", ReasonChars},

		{DocForeignPR, "USA123456789012", "USA123456789012", ""},
		{DocForeignPR, "can 110 123 456 789", "CAN110123456789", ""},
		{DocForeignPR, "951840198501010017", "951840198501010017", ""},
		{DocForeignPR, "951840198501010018", "", ReasonCheck},
		{DocForeignPR, "US1123456789012", "", ReasonChars},
		{DocForeignPR, "110105194912310021", "", ReasonChars}, // 18 chars must start with 9
		{DocForeignPR, "USA12345678901", "", ReasonLength},
		{DocForeignPR, "", "", ReasonEmpty},

		{DocType("driving_licence"), "E12345678", "", ReasonType},
		{DocType(""), "11010519491231002X", "", ReasonType},
	}
	for _, tc := range tests {
		got, err := ParseID(tc.typ, tc.raw, testNow)
		if tc.reason != "" {
			if reasonOf(err) != tc.reason {
				t.Errorf("ParseID(%s, %q) = %+v, %v; want reason %q", tc.typ, tc.raw, got, err, tc.reason)
			}
			continue
		}
		want := ID{Type: tc.typ, Number: tc.want}
		if err != nil || got != want {
			t.Errorf("ParseID(%s, %q) = %+v, %v; want %+v", tc.typ, tc.raw, got, err, want)
		}
	}
}

func TestIDCheckCharRejectsBadInput(t *testing.T) {
	for _, s := range []string{"", "1101051949123100", "1101051949123100A", "110105194912310021"} {
		if c := IDCheckChar(s); c != 0 {
			t.Errorf("IDCheckChar(%q) = %q, want 0", s, c)
		}
	}
}

var testProvinces = []string{
	"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
	"41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65",
	"71", "81", "82", "83",
}

// TestParseIDProperties builds random valid numbers and checks that every
// single-character substitution and every adjacent transposition is
// rejected, which is what the MOD 11-2 check character promises.
func TestParseIDProperties(t *testing.T) {
	n := 10000
	if testing.Short() {
		n = 1000
	}
	rng := rand.New(rand.NewPCG(2260, 11643))
	lo := date(1880, 1, 1).Unix() / 86400
	hi := date(2025, 6, 15).Unix() / 86400
	const alphabet = "0123456789X"
	for i := 0; i < n; i++ {
		region := testProvinces[rng.IntN(len(testProvinces))] + pad(rng.IntN(10000), 4)
		birth := time.Unix((lo+rng.Int64N(hi-lo+1))*86400, 0).UTC()
		seq := rng.IntN(1000)
		first17 := region + birth.Format("20060102") + pad(seq, 3)
		num := first17 + string(IDCheckChar(first17))

		id, err := ParseID(DocResidentID, num, testNow)
		if err != nil {
			t.Fatalf("valid %s rejected: %v", num, err)
		}
		wantSex := 2 - seq%2
		if id.Number != num || !id.Birth.Equal(birth) || id.Sex != wantSex || id.Region != region {
			t.Fatalf("ParseID(%s) = %+v; want birth %s sex %d", num, id, birth.Format(time.DateOnly), wantSex)
		}

		for pos := 0; pos < 18; pos++ {
			for _, c := range []byte(alphabet) {
				if c == num[pos] || (pos < 17 && c == 'X') {
					continue
				}
				bad := num[:pos] + string(c) + num[pos+1:]
				if pos < 17 && IDCheckChar(bad[:17]) == bad[17] {
					t.Fatalf("check character misses substitution %s -> %s", num, bad)
				}
				if _, err := ParseID(DocResidentID, bad, testNow); err == nil {
					t.Fatalf("substitution %s -> %s accepted", num, bad)
				}
			}
		}
		for pos := 0; pos < 17; pos++ {
			if num[pos] == num[pos+1] {
				continue
			}
			b := []byte(num)
			b[pos], b[pos+1] = b[pos+1], b[pos]
			if _, err := ParseID(DocResidentID, string(b), testNow); err == nil {
				t.Fatalf("transposition %s -> %s accepted", num, b)
			}
		}
	}
}

func pad(v, width int) string { return fmt.Sprintf("%0*d", width, v) }
