package ledgerio

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"shequ/internal/pii"
)

// residentID builds a valid 18-digit number for a person born on birth
// with sequence seq (odd = male).
func residentID(region string, birth time.Time, seq int) string {
	first17 := fmt.Sprintf("%s%s%03d", region, birth.Format("20060102"), seq%1000)
	return first17 + string(pii.IDCheckChar(first17))
}

// benchRow is row i of the benchmark file: valid, distinct, every column
// filled.
func benchRow(i int) []any {
	birth := time.Date(1940, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i%25000)
	id := residentID("610104", birth, i/25000*2+1+i%2)
	sex := "男"
	if (i/25000*2+1+i%2)%2 == 0 {
		sex = "女"
	}
	return []any{
		"张" + string(rune('一'+i%200)) + "明", "居民身份证", id, sex, birth.Format("2006-01-02"),
		"汉族", fmt.Sprintf("139%08d", i), "常住", "陕西省西安市莲湖区丰乐西村" + fmt.Sprint(i%90) + "号",
		fmt.Sprintf("%d号楼", i%30+1), fmt.Sprintf("%d单元", i%4+1), fmt.Sprintf("%d%02d", i%30+1, i%4+1),
		"户主", "自住", "西安市第一中学", "独居老人、慢性病", "2015-06-01", "",
	}
}

var (
	benchOnce sync.Once
	benchDir  string
	benchPath string
	benchErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

// benchFile writes the 100,000-row workbook once per test binary run.
func benchFile(b *testing.B) string {
	benchOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ledgerio-bench-")
		if err != nil {
			benchErr = err
			return
		}
		benchDir, benchPath = dir, filepath.Join(dir, "100k.xlsx")
		f := excelize.NewFile()
		defer f.Close()
		sw, err := f.NewStreamWriter("Sheet1")
		if err != nil {
			benchErr = err
			return
		}
		head := make([]any, len(Columns))
		for i, c := range Columns {
			head[i] = c.Header
		}
		if benchErr = sw.SetRow("A1", head); benchErr != nil {
			return
		}
		for i := 0; i < 100_000; i++ {
			cell, _ := excelize.CoordinatesToCellName(1, i+2)
			if benchErr = sw.SetRow(cell, benchRow(i)); benchErr != nil {
				return
			}
		}
		if benchErr = sw.Flush(); benchErr != nil {
			return
		}
		benchErr = f.SaveAs(benchPath)
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchPath
}

func BenchmarkParse100k(b *testing.B) {
	path := benchFile(b)
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		rows, problems, err := Parse(f, "100k.xlsx", now, Limits{})
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
		if len(rows) != 100_000 || len(problems) != 0 {
			b.Fatalf("rows %d problems %d (first %+v)", len(rows), len(problems), first(problems))
		}
	}
}

// BenchmarkBareExcelizeRead100k is the floor Parse is measured against:
// open the same file with the same options and iterate its rows and cells
// with excelize's streaming reader, doing nothing with them.
func BenchmarkBareExcelizeRead100k(b *testing.B) {
	path := benchFile(b)
	b.ResetTimer()
	for b.Loop() {
		f, err := excelize.OpenFile(path, xlsxOptions)
		if err != nil {
			b.Fatal(err)
		}
		rows, err := f.Rows("Sheet1")
		if err != nil {
			b.Fatal(err)
		}
		n, cells := 0, 0
		for rows.Next() {
			cols, err := rows.Columns(excelize.Options{RawCellValue: true})
			if err != nil {
				b.Fatal(err)
			}
			n++
			cells += len(cols)
		}
		if err := rows.Close(); err != nil {
			b.Fatal(err)
		}
		f.Close()
		if n != 100_001 {
			b.Fatalf("rows %d", n)
		}
	}
}

func first(p []Problem) any {
	if len(p) == 0 {
		return nil
	}
	return p[0]
}
