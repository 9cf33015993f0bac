// Package pinyin derives Mandarin pinyin initials from Chinese text and
// orders strings by pinyin.
//
// Staff search residents by name in Chinese or by the pinyin initials of the
// name (张三丰 → "zsf"), and lists of names are sorted by pinyin.
//
// # How initials are found
//
// GB2312 level-1 characters (the 3,755 most common, codes 0xB0A1–0xD7F9) are
// ordered by pinyin, so the initial of such a character follows from its
// GB2312 code and the first code of each initial letter. At init the package
// decodes the whole level-1 block once with the GBK decoder of
// golang.org/x/text and writes the initial of every decoded character into a
// table indexed by rune over the CJK Unified Ideographs block U+4E00–U+9FFF.
// Level-2 characters (ordered by radical, not pinyin) and characters outside
// GB2312 are only known when they are listed in the package's own table of
// characters common in names (see table.go). Initial is therefore an array
// lookup; characters that are not covered yield 0.
//
// # Surname readings
//
// Initials is meant for personal names, so when the first character that
// yields a letter is a polyphonic surname character, its surname reading is
// used: 曾 z, 单/單 s (shàn), 仇 q (qiú), 区/區 o (ōu), 解 x (xiè), 查 z (zhā),
// 朴 p (piáo), 乐/樂 y (yuè), 覃 q (qín), and the compound surnames 尉迟/尉遲
// (yc), 万俟/萬俟 (mq) and 澹台/澹臺 (tt). Elsewhere in the string the common
// reading is used (王单 → "wd"). Initial, which sees a single rune, always
// uses the common reading.
//
// # Ordering
//
// Less and Sort use golang.org/x/text/collate with language.SimplifiedChinese
// (CLDR pinyin order; Latin letters sort before Han characters). Strings the
// collator considers equal are ordered by their bytes so the order is total.
// The collator works on whole strings and does not apply surname readings.
package pinyin

import (
	"bytes"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/text/collate"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/language"
)

const (
	hanFirst = 0x4E00 // first rune of the CJK Unified Ideographs block
	hanLast  = 0x9FFF // last rune covered by the lookup table

	level1First = 0xB0A1 // first GB2312 level-1 code (啊)
	level1Last  = 0xD7F9 // last GB2312 level-1 code (座)
)

// level1Bounds holds the first GB2312 level-1 code of each initial letter.
// There are no syllables starting with i, u or v.
var level1Bounds = [...]struct {
	code   uint16
	letter byte
}{
	{0xB0A1, 'a'}, // 啊
	{0xB0C5, 'b'}, // 芭
	{0xB2C1, 'c'}, // 擦
	{0xB4EE, 'd'}, // 搭
	{0xB6EA, 'e'}, // 蛾
	{0xB7A2, 'f'}, // 发
	{0xB8C1, 'g'}, // 噶
	{0xB9FE, 'h'}, // 哈
	{0xBBF7, 'j'}, // 击
	{0xBFA6, 'k'}, // 喀
	{0xC0AC, 'l'}, // 垃
	{0xC2E8, 'm'}, // 妈
	{0xC4C3, 'n'}, // 拿
	{0xC5B6, 'o'}, // 哦
	{0xC5BE, 'p'}, // 啪
	{0xC6DA, 'q'}, // 期
	{0xC8BB, 'r'}, // 然
	{0xC8F6, 's'}, // 撒
	{0xCBFA, 't'}, // 塌
	{0xCDDA, 'w'}, // 挖
	{0xCEF4, 'x'}, // 昔
	{0xD1B9, 'y'}, // 压
	{0xD4D1, 'z'}, // 匝
}

// level1Initial returns the initial of a GB2312 level-1 code, or 0 when code
// is not in the level-1 block.
func level1Initial(code uint16) byte {
	if code < level1First || code > level1Last || code&0xFF < 0xA1 || code&0xFF > 0xFE {
		return 0
	}
	var letter byte
	for _, b := range level1Bounds {
		if code < b.code {
			break
		}
		letter = b.letter
	}
	return letter
}

var (
	// hanInitials maps rune-hanFirst to its initial (0 when unknown).
	hanInitials *[hanLast - hanFirst + 1]byte
	// otherInitials holds listed characters outside hanFirst..hanLast.
	otherInitials map[rune]byte
)

func init() {
	hanInitials, otherInitials = buildTables()
}

// buildTables computes the lookup tables: the GB2312 level-1 block decoded
// with the GBK decoder, then the explicit table of extraInitials, which takes
// precedence (it corrects, for example, 翟, filed under dí in GB2312).
func buildTables() (*[hanLast - hanFirst + 1]byte, map[rune]byte) {
	han := new([hanLast - hanFirst + 1]byte)
	others := map[rune]byte{
		'〇': 'l', // líng, U+3007
	}

	codes := make([]byte, 0, 2*94*(0xD7-0xB0+1))
	for hi := 0xB0; hi <= 0xD7; hi++ {
		for lo := 0xA1; lo <= 0xFE; lo++ {
			if hi<<8|lo > level1Last {
				break
			}
			codes = append(codes, byte(hi), byte(lo))
		}
	}
	text, err := simplifiedchinese.GBK.NewDecoder().Bytes(codes)
	if err != nil {
		panic("pinyin: decoding GB2312 level 1: " + err.Error())
	}
	next, bound := 0, 0
	for _, r := range string(text) {
		if next >= len(codes) {
			panic("pinyin: GB2312 level 1 decoded to too many runes")
		}
		code := uint16(codes[next])<<8 | uint16(codes[next+1])
		next += 2
		for bound+1 < len(level1Bounds) && code >= level1Bounds[bound+1].code {
			bound++
		}
		if r < hanFirst || r > hanLast {
			panic("pinyin: GB2312 level-1 character outside the Han block")
		}
		han[r-hanFirst] = level1Bounds[bound].letter
	}
	if next != len(codes) {
		panic("pinyin: GB2312 level 1 decoded to too few runes")
	}

	for _, e := range extraInitials {
		for _, r := range e.chars {
			if r >= hanFirst && r <= hanLast {
				han[r-hanFirst] = e.letter
			} else {
				others[r] = e.letter
			}
		}
	}
	return han, others
}

// Initial returns the lower-case initial of the Mandarin pinyin of r, or 0
// when it is unknown. ASCII letters are returned lower-cased and ASCII digits
// unchanged; full-width letters and digits (Ａ, ｂ, １) are treated like their
// ASCII counterparts. Polyphonic characters get their common reading (see the
// package documentation for surname readings in Initials).
func Initial(r rune) byte {
	switch {
	case r < utf8.RuneSelf:
		switch {
		case 'a' <= r && r <= 'z', '0' <= r && r <= '9':
			return byte(r)
		case 'A' <= r && r <= 'Z':
			return byte(r) + 'a' - 'A'
		}
		return 0
	case r >= hanFirst && r <= hanLast:
		return hanInitials[r-hanFirst]
	case r >= '０' && r <= 'ｚ': // full-width forms U+FF10–U+FF5A
		return Initial(r - '０' + '0')
	}
	return otherInitials[r]
}

// surnameInitials reports the surname reading of a polyphonic surname at the
// start of s: the letters and the number of bytes of s they stand for
// (0 when s does not start with such a surname). r is the first rune of s.
func surnameInitials(s string, r rune) (letters string, n int) {
	switch r {
	case '尉':
		if strings.HasPrefix(s, "尉迟") || strings.HasPrefix(s, "尉遲") {
			return "yc", len("尉迟")
		}
	case '万', '萬':
		if strings.HasPrefix(s[utf8.RuneLen(r):], "俟") {
			return "mq", utf8.RuneLen(r) + len("俟")
		}
	case '澹':
		if strings.HasPrefix(s, "澹台") || strings.HasPrefix(s, "澹臺") {
			return "tt", len("澹台")
		}
	case '曾', '查':
		return "z", utf8.RuneLen(r)
	case '单', '單':
		return "s", utf8.RuneLen(r)
	case '仇', '覃':
		return "q", utf8.RuneLen(r)
	case '区', '區':
		return "o", utf8.RuneLen(r)
	case '解':
		return "x", utf8.RuneLen(r)
	case '朴':
		return "p", utf8.RuneLen(r)
	case '乐', '樂':
		return "y", utf8.RuneLen(r)
	}
	return "", 0
}

// Initials returns the lower-case first letter of the Mandarin pinyin of each
// Han character of s, and keeps ASCII letters and digits (lower-cased;
// full-width ones are folded to ASCII). Other runes, including Han characters
// whose initial is unknown, are dropped: 张三丰 → "zsf", "李A明" → "lam".
//
// Because Initials is mainly used for names, a polyphonic surname at the
// start of s (the first rune that yields a letter) is read as a surname:
// 单田芳 → "stf", 尉迟恭 → "ycg". See the package documentation for the list.
func Initials(s string) string {
	var buf [32]byte
	out := buf[:0]
	first := true
	for i := 0; i < len(s); {
		r, size := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
			if first {
				if letters, n := surnameInitials(s[i:], r); n > 0 {
					out = append(out, letters...)
					first = false
					i += n
					continue
				}
			}
		}
		if c := Initial(r); c != 0 {
			out = append(out, c)
			first = false
		}
		i += size
	}
	return string(out)
}

// collators holds *collate.Collator values; a Collator is not safe for
// concurrent use, so each call takes its own.
var collators = sync.Pool{
	New: func() any { return collate.New(language.SimplifiedChinese) },
}

// Compare compares a and b in pinyin order and returns -1, 0 or +1. Strings
// that collate equally are compared by their bytes, so 0 means a == b.
func Compare(a, b string) int {
	c := collators.Get().(*collate.Collator)
	r := c.CompareString(a, b)
	collators.Put(c)
	if r != 0 {
		return r
	}
	return strings.Compare(a, b)
}

// Less reports whether a sorts before b in pinyin order
// (golang.org/x/text/collate, language.SimplifiedChinese). It is safe for
// concurrent use.
func Less(a, b string) bool {
	return Compare(a, b) < 0
}

// Sort sorts names in place by pinyin, in the order defined by Less. It
// computes each name's collation key once, so it is cheaper than sorting
// with Less.
func Sort(names []string) {
	if len(names) < 2 {
		return
	}
	type keyed struct {
		key  []byte
		name string
	}
	keys := make([]keyed, len(names))
	buf := new(collate.Buffer)
	c := collators.Get().(*collate.Collator)
	for i, name := range names {
		keys[i] = keyed{c.KeyFromString(buf, name), name}
	}
	collators.Put(c)
	slices.SortFunc(keys, func(x, y keyed) int {
		if r := bytes.Compare(x.key, y.key); r != 0 {
			return r
		}
		return strings.Compare(x.name, y.name)
	})
	for i := range keys {
		names[i] = keys[i].name
	}
}
