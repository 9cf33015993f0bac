package ledger_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"

	"github.com/xuri/excelize/v2"

	"shequ/internal/ledger"
	"shequ/internal/ledgerio"
	"shequ/internal/pii"
	"shequ/internal/store"
	"shequ/internal/testutil"
)

// formFile writes an n-row collection form (.xlsx) of valid, distinct
// people living two to a room.
func formFile(b *testing.B, n int) []byte {
	b.Helper()
	f := excelize.NewFile()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		b.Fatal(err)
	}
	header := make([]any, len(ledgerio.Columns))
	for i, c := range ledgerio.Columns {
		header[i] = c.Header
	}
	sw.SetRow("A1", header)
	col := map[string]int{}
	for i, c := range ledgerio.Columns {
		col[c.Key] = i
	}
	for i := 0; i < n; i++ {
		first := fmt.Sprintf("6104%02d%04d%02d%02d%03d", i%99+1, 1940+i%70, 1+i%12, 1+i%28, (i/1000)%1000)
		row := make([]any, len(ledgerio.Columns))
		for j := range row {
			row[j] = ""
		}
		row[col["name"]] = fmt.Sprintf("王%d", i)
		row[col["id_number"]] = first + string(pii.IDCheckChar(first))
		row[col["residency"]] = "户籍"
		row[col["building"]] = fmt.Sprintf("%d号楼", 1+i/2000)
		row[col["unit"]] = fmt.Sprintf("%d单元", 1+(i/400)%5)
		row[col["room"]] = fmt.Sprintf("%d%02d", 1+(i/8)%50, 1+(i/2)%4)
		row[col["relation"]] = []string{"户主", "配偶"}[i%2]
		row[col["phone"]] = fmt.Sprintf("139%08d", i)
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := sw.SetRow(cell, row); err != nil {
			b.Fatal(err)
		}
	}
	sw.Flush()
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkImport100k imports a 100,000-row .xlsx into an empty SQLite
// ledger: parse, validate every row, check the ledger for duplicates,
// encrypt, write. The limit, measured in the same run, is a bare excelize
// streaming read of the same file.
func BenchmarkImport100k(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("SHEQU_BENCH_ROWS")); err == nil {
		n = v
	}
	data := formFile(b, n)
	b.Logf("file: %.1f MB", float64(len(data))/1e6)
	b.Run("import", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			s := testutil.OpenDB(b, "sqlite", nil)
			f := setup(b, s, nil)
			b.StartTimer()
			rows, problems, err := ledgerio.Parse(bytes.NewReader(data), "form.xlsx", s.Now(), ledgerio.Limits{})
			if err != nil || len(problems) > 0 {
				b.Fatalf("parse: %v %v", err, first(problems))
			}
			more, err := f.svc.CheckImport(context.Background(), rows)
			if err != nil || len(more) > 0 {
				b.Fatalf("check: %v", err)
			}
			res, err := f.svc.CommitImport(context.Background(), ledger.Actor{Source: store.SourceImport}, f.comm.ID, rows, nil)
			if err != nil || res.People != n {
				b.Fatalf("commit: %+v %v", res, err)
			}
		}
	})
	b.Run("limit_bare_read", func(b *testing.B) {
		for b.Loop() {
			x, err := excelize.OpenReader(bytes.NewReader(data))
			if err != nil {
				b.Fatal(err)
			}
			rows, err := x.Rows(x.GetSheetName(0))
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for rows.Next() {
				cells, _ := rows.Columns()
				n += len(cells)
			}
			rows.Close()
			x.Close()
		}
	})
}

func first(ps []ledgerio.Problem) any {
	if len(ps) == 0 {
		return nil
	}
	return ps[0]
}
