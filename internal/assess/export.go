package assess

import (
	"fmt"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"
)

// WriteXLSX writes a report as a workbook for payroll: the workers' sheet
// (every input, the score, the adjustment, the final figure and the rank),
// the grids' ranking, and the weights and formula used. tr translates the
// headers.
func WriteXLSX(w io.Writer, r Report, tr func(key string, args ...any) string) error {
	f := excelize.NewFile()
	defer f.Close()
	header := []any{tr("assess.col_rank"), tr("assess.col_worker"), tr("assess.col_grids")}
	for _, p := range PartNames {
		header = append(header, tr("assess.col_"+p+"_num"), tr("assess.col_"+p+"_den"), tr("assess.col_"+p+"_rate"))
	}
	header = append(header, tr("assess.col_score"), tr("assess.col_adjust"), tr("assess.col_final"))
	sheet := func(name string, scores []Score, first bool) error {
		if first {
			if err := f.SetSheetName("Sheet1", name); err != nil {
				return err
			}
		} else if _, err := f.NewSheet(name); err != nil {
			return err
		}
		sw, err := f.NewStreamWriter(name)
		if err != nil {
			return err
		}
		if err := sw.SetRow("A1", header); err != nil {
			return err
		}
		for i, sc := range scores {
			row := []any{rankCell(sc), sc.Name, strings.Join(sc.Grids, "、")}
			for _, name := range PartNames {
				p := sc.Part(name)
				if !p.HasData() {
					row = append(row, p.Num, p.Den, "—")
					continue
				}
				row = append(row, p.Num, p.Den, p.Rate())
			}
			if sc.Weighted == 0 {
				row = append(row, "—", sc.Adjust, "—")
			} else {
				row = append(row, sc.Score, sc.Adjust, sc.Final)
			}
			cellName, _ := excelize.CoordinatesToCellName(1, i+2)
			if err := sw.SetRow(cellName, row); err != nil {
				return err
			}
		}
		return sw.Flush()
	}
	if err := sheet(tr("assess.sheet_workers"), r.Workers, true); err != nil {
		return err
	}
	if err := sheet(tr("assess.sheet_grids"), r.Grids, false); err != nil {
		return err
	}
	name := tr("assess.sheet_rules")
	if _, err := f.NewSheet(name); err != nil {
		return err
	}
	rows := [][]any{
		{tr("assess.community"), r.Community.Name},
		{tr("assess.period"), r.Period.From + " — " + r.Period.To},
		{tr("assess.formula")},
	}
	for _, p := range PartNames {
		rows = append(rows, []any{tr("assess.part_" + p), weightOf(r.Settings, p)})
	}
	rows = append(rows, []any{tr("assess.patrols_per_week"), r.Settings.PatrolsPerWeek}, []any{tr("assess.rules_note")})
	for i, row := range rows {
		cellName, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow(name, cellName, &row); err != nil {
			return err
		}
	}
	_, err := f.WriteTo(w)
	return err
}

func rankCell(sc Score) any {
	if sc.Rank == 0 {
		return "—"
	}
	return sc.Rank
}

// FileName is the workbook's name for a community and period.
func FileName(r Report) string {
	return fmt.Sprintf("assessment-%s-%s.xlsx", r.Community.Code, r.Period.Key())
}
