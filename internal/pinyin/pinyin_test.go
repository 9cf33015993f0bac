package pinyin

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
)

func TestInitials(t *testing.T) {
	tests := []struct{ in, want string }{
		// Level-1 characters.
		{"张三丰", "zsf"},
		{"王小明", "wxm"},
		{"刘德华", "ldh"},
		{"周杰伦", "zjl"},
		{"赵丽颖", "zly"},
		{"欧阳娜娜", "oynn"},
		{"司马懿", "smy"},
		{"诸葛亮", "zgl"},
		{"上官婉儿", "sgwe"},
		{"啊座", "az"}, // first and last level-1 characters
		{"澳芭", "ab"}, // last 'a', first 'b'
		// Level-2 and GBK-only characters from the explicit table.
		{"王彧", "wy"},
		{"李昊然", "lhr"},
		{"张琰", "zy"},
		{"陈玥", "cy"},
		{"林婕", "lj"},
		{"黄炜", "hw"},
		{"吴钰涵", "wyh"},
		{"郭珺", "gj"},
		{"孙萱", "sx"},
		{"何蓓蓓", "hbb"},
		{"马璐", "ml"},
		{"朱瑜", "zy"},
		{"胡琪", "hq"},
		{"高晗", "gh"},
		{"罗婧", "lj"},
		{"梁芊芊", "lqq"},
		{"宋妍", "sy"},
		{"唐翊", "ty"},
		{"韩煜", "hy"},
		{"冯骁", "fx"},
		{"于隽", "yj"},
		{"邝美云", "kmy"},
		{"翟志刚", "zzg"}, // level 1 files 翟 under dí
		{"亓官", "qg"},
		{"阙小燕", "qxy"},
		{"陈奕迅", "cyx"},
		{"王喆", "wz"},
		{"李堃", "lk"},
		{"张燊", "zs"},
		// Polyphonic surnames at the start use the surname reading.
		{"曾国藩", "zgf"},
		{"单田芳", "stf"},
		{"仇英", "qy"},
		{"区小明", "oxm"},
		{"解缙", "xj"},
		{"查良镛", "zly"},
		{"朴树", "ps"},
		{"乐嘉", "yj"},
		{"覃雪", "qx"},
		{"尉迟恭", "ycg"},
		{"万俟卨", "mq"}, // 卨 is not in the tables
		{"澹台明", "ttm"},
		{" 单田芳", "stf"}, // leading space does not yield a letter
		// ... but only there, and only for the listed compounds.
		{"王单", "wd"},
		{"李乐", "ll"},
		{"张查", "zc"},
		{"刘解放", "ljf"},
		{"尉缭", "wl"},
		{"万达", "wd"},
		{"A单", "ad"},
		// Traditional characters.
		{"張學友", "zxy"},
		{"陳大文", "cdw"},
		{"區", "o"},
		// Mixed ASCII, digits, punctuation and spaces.
		{"李A明", "lam"},
		{"Tom张", "tomz"},
		{"张3", "z3"},
		{"  张 三 ", "zs"},
		{"张-三·丰", "zsf"},
		{"3号楼2单元", "3hl2dy"},
		{"", ""},
		// Full-width letters and digits.
		{"ＡＢ张", "abz"},
		{"张１２３", "z123"},
		{"ｊｏｈｎ", "john"},
		// Rare or unknown characters give no letter.
		{"𠀀", ""},
		{"王𠮷", "w"},
		{"龘", ""},
		{"张😀三", "zs"},
		{"〇", "l"},
		// Long input (beyond the stack buffer).
		{"张三丰张三丰张三丰张三丰张三丰张三丰张三丰张三丰张三丰张三丰张三丰张三丰", "zsfzsfzsfzsfzsfzsfzsfzsfzsfzsfzsfzsf"},
	}
	for _, tt := range tests {
		if got := Initials(tt.in); got != tt.want {
			t.Errorf("Initials(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestInitial(t *testing.T) {
	tests := []struct {
		r    rune
		want byte
	}{
		{'张', 'z'}, {'阿', 'a'}, {'区', 'q'}, {'单', 'd'}, {'乐', 'l'},
		{'彧', 'y'}, {'翟', 'z'}, {'䶮', 'y'},
		{'A', 'a'}, {'z', 'z'}, {'7', '7'}, {'Ｑ', 'q'}, {'ｑ', 'q'}, {'９', '9'},
		{' ', 0}, {'-', 0}, {'＠', 0}, {'😀', 0}, {'龘', 0}, {0x20000, 0}, {utf8.RuneError, 0},
	}
	for _, tt := range tests {
		if got := Initial(tt.r); got != tt.want {
			t.Errorf("Initial(%q) = %q, want %q", tt.r, got, tt.want)
		}
	}
}

// gbkCode returns the GBK code of r (0 when r has no two-byte code).
func gbkCode(r rune) uint16 {
	b, err := simplifiedchinese.GBK.NewEncoder().String(string(r))
	if err != nil || len(b) != 2 {
		return 0
	}
	return uint16(b[0])<<8 | uint16(b[1])
}

// TestLevel1AgainstEncoder checks the decoder-built table against the
// definition: encode each rune with the GBK encoder and look up the boundary.
func TestLevel1AgainstEncoder(t *testing.T) {
	listed := map[rune]byte{}
	for _, e := range extraInitials {
		for _, r := range e.chars {
			listed[r] = e.letter
		}
	}
	level1 := 0
	for r := rune(hanFirst); r <= hanLast; r++ {
		want := level1Initial(gbkCode(r))
		if want != 0 {
			level1++
		}
		if l, ok := listed[r]; ok {
			want = l
		}
		if got := Initial(r); got != want {
			t.Errorf("Initial(%q) = %q, want %q", r, got, want)
		}
	}
	if level1 != 3755 {
		t.Errorf("found %d GB2312 level-1 characters, want 3755", level1)
	}
}

func TestExtraTable(t *testing.T) {
	seen := map[rune]byte{}
	for _, e := range extraInitials {
		if e.letter < 'a' || e.letter > 'z' || e.letter == 'i' || e.letter == 'u' || e.letter == 'v' {
			t.Errorf("invalid letter %q", e.letter)
		}
		for _, r := range e.chars {
			if l, ok := seen[r]; ok {
				t.Errorf("%q listed twice (%c, %c)", r, l, e.letter)
			}
			seen[r] = e.letter
			if l1 := level1Initial(gbkCode(r)); l1 != 0 && r != '翟' {
				t.Errorf("%q is a level-1 character (%c) and need not be listed", r, l1)
			}
		}
	}
	if len(seen) < 300 {
		t.Errorf("explicit table has %d characters, want at least 300", len(seen))
	}
	t.Logf("explicit table: %d characters", len(seen))
}

func TestBuildTablesFast(t *testing.T) {
	start := time.Now()
	han, others := buildTables()
	d := time.Since(start)
	if *han != *hanInitials || len(others) != len(otherInitials) {
		t.Fatal("rebuilt tables differ")
	}
	if d > 50*time.Millisecond {
		t.Errorf("buildTables took %v, want < 50ms", d)
	}
	t.Logf("buildTables: %v", d)
}

func TestInitialsAllocs(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() { _ = Initials("张三丰") })
	if allocs > 1 {
		t.Errorf("Initials allocates %v times, want <= 1", allocs)
	}
}

func TestLess(t *testing.T) {
	pairs := [][2]string{
		{"张", "赵"},
		{"阿", "白"},
		{"李", "刘"},
		{"刘", "王"},
		{"王", "张"},
		{"李", "张"},
		{"张三", "张三丰"},
		{"张三", "张四"},
		{"Alice", "阿明"},
		{"陈", "程"},
	}
	for _, p := range pairs {
		if !Less(p[0], p[1]) {
			t.Errorf("Less(%q, %q) = false, want true", p[0], p[1])
		}
		if Less(p[1], p[0]) {
			t.Errorf("Less(%q, %q) = true, want false", p[1], p[0])
		}
	}
	if Less("张三", "张三") {
		t.Error("Less(x, x) = true")
	}
}

func TestSort(t *testing.T) {
	names := []string{"赵六", "张三", "王五", "阿明", "刘备", "李四", "白雪", "陈皓", "Alice", "张三丰", "李"}
	want := []string{"Alice", "阿明", "白雪", "陈皓", "李", "李四", "刘备", "王五", "张三", "张三丰", "赵六"}
	Sort(names)
	if !slices.Equal(names, want) {
		t.Errorf("Sort = %q,\nwant   %q", names, want)
	}
	if !slices.IsSortedFunc(names, Compare) {
		t.Error("Sort result is not ordered by Compare")
	}
	Sort(nil)
	one := []string{"张"}
	Sort(one)
	if one[0] != "张" {
		t.Error("Sort changed a one-element slice")
	}
}

func TestLessConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				if !Less("李", "张") || Less("赵", "张") {
					t.Error("wrong order under concurrency")
					return
				}
				names := []string{"王", "李", "张", fmt.Sprint(i)}
				Sort(names)
				if names[1] != "李" || names[3] != "张" {
					t.Errorf("Sort = %q", names)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func BenchmarkInitials(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = Initials("张三丰")
	}
}

func BenchmarkInitialsLevel2(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = Initials("曾彧琰")
	}
}

func BenchmarkBuildTables(b *testing.B) {
	for b.Loop() {
		buildTables()
	}
}

func BenchmarkLess(b *testing.B) {
	for b.Loop() {
		_ = Less("李四", "张三")
	}
}
