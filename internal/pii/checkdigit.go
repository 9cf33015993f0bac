package pii

// idWeights are the GB 11643-1999 weights W[i] = 2^(17-i) mod 11.
var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// IDCheckChar returns the ISO 7064 MOD 11-2 check character for the first
// 17 digits of a resident identity number. It returns 0 when first17 is not
// 17 ASCII digits.
func IDCheckChar(first17 string) byte {
	if len(first17) != 17 {
		return 0
	}
	sum := 0
	for i := 0; i < 17; i++ {
		c := first17[i]
		if c < '0' || c > '9' {
			return 0
		}
		sum += int(c-'0') * idWeights[i]
	}
	return "10X98765432"[sum%11]
}
