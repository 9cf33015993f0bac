package pii

import "testing"

func TestMasks(t *testing.T) {
	tests := []struct {
		fn       func(string) string
		name     string
		in, want string
	}{
		{MaskID, "MaskID", "61010419900307123X", "6101**********123X"},
		{MaskID, "MaskID", "11010519491231002X", "1101**********002X"},
		{MaskID, "MaskID", "E12345678", "E1*****78"},
		{MaskID, "MaskID", "H12345678", "H1*****78"},
		{MaskID, "MaskID", "X1234", "X***4"},
		{MaskID, "MaskID", "AB", "**"},
		{MaskID, "MaskID", "", ""},

		{MaskPhone, "MaskPhone", "13912345678", "139****5678"},
		{MaskPhone, "MaskPhone", "+86 139 1234 5678", "139****5678"},
		{MaskPhone, "MaskPhone", "029-88886666", "029-******66"},
		{MaskPhone, "MaskPhone", "0917-3212345", "0917-*****45"},
		{MaskPhone, "MaskPhone", "+44 20 7946 0958", "**************58"},
		{MaskPhone, "MaskPhone", "", ""},

		{MaskName, "MaskName", "张三", "张*"},
		{MaskName, "MaskName", "张小明", "张*明"},
		{MaskName, "MaskName", "欧阳娜娜", "欧**娜"},
		{MaskName, "MaskName", "阿依古丽·买买提", "阿******提"},
		{MaskName, "MaskName", "王", "*"},
		{MaskName, "MaskName", " 李\u3000四 ", "李*"},
		{MaskName, "MaskName", "John Smith", "J*** S****"},
		{MaskName, "MaskName", "José  Ángel Núñez", "J*** Á**** N****"},
		{MaskName, "MaskName", "Li", "L*"},
		{MaskName, "MaskName", "", ""},

		{MaskText, "MaskText", "陕西省西安市雁塔区", "陕*******区"},
		{MaskText, "MaskText", "雁塔", "雁*"},
		{MaskText, "MaskText", "塔", "*"},
		{MaskText, "MaskText", "abc", "a*c"},
		{MaskText, "MaskText", "", ""},
	}
	for _, tc := range tests {
		if got := tc.fn(tc.in); got != tc.want {
			t.Errorf("%s(%q) = %q, want %q", tc.name, tc.in, got, tc.want)
		}
	}
}
