package leads

import (
	"bytes"
	"encoding/csv"
	"io"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"shequ/internal/errs"
	"shequ/internal/ledgerio"
	"shequ/internal/pii"
)

// A lead file is a sheet (.xlsx) or a CSV from the sender, in the sender's
// layout: the header row names the columns, in any order, among other
// columns of theirs that are kept for the report back.

// Column keys of a lead file and the headers they are known by.
var leadHeaders = map[string][]string{
	"name":     {"姓名", "name"},
	"id":       {"身份证号", "身份证号码", "证件号码", "证件号", "公民身份号码", "id_number", "id"},
	"phone":    {"手机号", "手机号码", "联系电话", "电话", "phone"},
	"address":  {"地址", "住址", "现住址", "报告地址", "居住地址", "address"},
	"reason":   {"事由", "原因", "风险点", "线索来源", "reason"},
	"deadline": {"截止日期", "截止时间", "反馈时限", "deadline"},
	"hmac":     {"标识码", "id_hmac"},
}

// LeadRow is one lead as read from a file.
type LeadRow struct {
	Line                             int // 1-based line in the file
	Name, ID, Phone, Address, Reason string
	Deadline                         string   // YYYY-MM-DD, or "" for the batch's
	HMAC                             string   // keyed identifier instead of the number
	IDPartial, PhonePartial          bool     // masked by the sender (6104********1234)
	Cells                            []string // the row as the sender wrote it
}

// Problem is what is wrong with a cell of a lead file.
type Problem struct {
	Line   int
	Column string // the sender's header
	Err    *errs.Error
}

// LeadFile is a parsed lead file.
type LeadFile struct {
	Header   []string
	Rows     []LeadRow
	Problems []Problem
}

// MaxLeadFile bounds an uploaded file.
const MaxLeadFile = 30 << 20

// ParseLeadFile reads a lead file (.xlsx by its content, else CSV in
// UTF-8, UTF-16 or GB18030). A file in another layout is refused naming
// the columns it needs; every row's problems are reported by line and
// column, duplicates included, and the good rows are kept.
func ParseLeadFile(data []byte, now time.Time) (LeadFile, error) {
	var table [][]string
	if bytes.HasPrefix(data, []byte("PK\x03\x04")) {
		f, err := excelize.OpenReader(bytes.NewReader(data))
		if err != nil {
			return LeadFile{}, errs.Wrap(err, errs.Invalid, "err.lead.file")
		}
		defer f.Close()
		sheets := f.GetSheetList()
		if len(sheets) == 0 {
			return LeadFile{}, errs.E(errs.Invalid, "err.lead.file")
		}
		if table, err = f.GetRows(sheets[0]); err != nil {
			return LeadFile{}, errs.Wrap(err, errs.Invalid, "err.lead.file")
		}
	} else {
		text, err := ledgerio.DecodeText(data)
		if err != nil {
			return LeadFile{}, errs.Wrap(err, errs.Invalid, "err.lead.file")
		}
		r := csv.NewReader(strings.NewReader(text))
		r.Comma, r.FieldsPerRecord, r.LazyQuotes = ledgerio.SniffComma(text), -1, true
		for {
			rec, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				return LeadFile{}, errs.Wrap(err, errs.Invalid, "err.lead.file")
			}
			table = append(table, rec)
		}
	}
	return parseTable(table, now)
}

func parseTable(table [][]string, now time.Time) (LeadFile, error) {
	var lf LeadFile
	col, head := map[string]int{}, -1
	for i, row := range table {
		if i > 20 {
			break
		}
		found := map[string]int{}
		for j, cell := range row {
			h := strings.ToLower(strings.TrimSpace(pii.NormalizeText(cell)))
			for key, names := range leadHeaders {
				for _, n := range names {
					if h == n {
						found[key] = j
					}
				}
			}
		}
		if _, ok := found["name"]; ok && (has(found, "id") || has(found, "phone") || has(found, "hmac")) {
			col, head = found, i
			break
		}
	}
	if head < 0 {
		return lf, errs.E(errs.Invalid, "err.lead.layout")
	}
	lf.Header = table[head]
	cell := func(row []string, key string) string {
		if j, ok := col[key]; ok && j < len(row) {
			return strings.TrimSpace(pii.NormalizeText(row[j]))
		}
		return ""
	}
	byID, byPhone := map[string]int{}, map[string]int{}
	problem := func(line int, key string, e *errs.Error) {
		name := leadHeaders[key][0]
		if j, ok := col[key]; ok {
			name = lf.Header[j]
		}
		lf.Problems = append(lf.Problems, Problem{Line: line, Column: name, Err: e})
	}
	for i := head + 1; i < len(table); i++ {
		row, line := table[i], i+1
		r := LeadRow{Line: line, Name: cell(row, "name"), Address: cell(row, "address"), Reason: cell(row, "reason"), HMAC: cell(row, "hmac"), Cells: row}
		id, phone := strings.ToUpper(strings.ReplaceAll(cell(row, "id"), " ", "")), strings.ReplaceAll(cell(row, "phone"), " ", "")
		if r.Name == "" && id == "" && phone == "" && r.HMAC == "" {
			continue // a blank line
		}
		ok := true
		switch {
		case id == "":
		case strings.Contains(id, "*"):
			if len(id) != 18 || strings.Trim(id, "0123456789X*") != "" || strings.Count(id, "*") > 12 {
				problem(line, "id", errs.E(errs.Invalid, "err.lead.id_partial"))
				ok = false
			}
			r.ID, r.IDPartial = id, true
		default:
			n, err := pii.ParseID(pii.DocResidentID, id, now)
			if err != nil {
				problem(line, "id", errs.E(errs.Invalid, "err.person.id_check"))
				ok = false
			}
			r.ID = n.Number
		}
		switch {
		case phone == "":
		case strings.Contains(phone, "*"):
			r.Phone, r.PhonePartial = phone, true
		default:
			p, err := pii.NormalizePhone(phone)
			if err != nil {
				problem(line, "phone", errs.E(errs.Invalid, "err.phone_invalid"))
				ok = false
			}
			r.Phone = p
		}
		if r.Name == "" && r.HMAC == "" {
			problem(line, "name", errs.E(errs.Invalid, "err.lead.name"))
			ok = false
		}
		if r.HMAC != "" && (len(r.HMAC) != 43 || strings.Trim(r.HMAC, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "") {
			problem(line, "hmac", errs.E(errs.Invalid, "err.lead.hmac"))
			ok = false
		}
		if id == "" && phone == "" && r.HMAC == "" {
			problem(line, "id", errs.E(errs.Invalid, "err.lead.no_id"))
			ok = false
		}
		if d := cell(row, "deadline"); d != "" {
			t, err := time.Parse("2006-01-02", strings.ReplaceAll(strings.ReplaceAll(d, "/", "-"), ".", "-"))
			if err != nil {
				problem(line, "deadline", errs.E(errs.Invalid, "err.date"))
				ok = false
			}
			r.Deadline = t.Format("2006-01-02")
		}
		if ok && r.ID != "" && !r.IDPartial {
			if first, dup := byID[r.ID]; dup {
				problem(line, "id", errs.E(errs.Invalid, "err.lead.duplicate", first))
				ok = false
			} else {
				byID[r.ID] = line
			}
		} else if ok && r.HMAC != "" {
			if first, dup := byID["#"+r.HMAC]; dup {
				problem(line, "hmac", errs.E(errs.Invalid, "err.lead.duplicate", first))
				ok = false
			} else {
				byID["#"+r.HMAC] = line
			}
		} else if ok && r.ID == "" && r.Phone != "" && !r.PhonePartial {
			key := r.Name + "|" + r.Phone
			if first, dup := byPhone[key]; dup {
				problem(line, "phone", errs.E(errs.Invalid, "err.lead.duplicate", first))
				ok = false
			} else {
				byPhone[key] = line
			}
		}
		if ok {
			lf.Rows = append(lf.Rows, r)
		}
	}
	if len(lf.Rows) == 0 && len(lf.Problems) == 0 {
		return lf, errs.E(errs.Invalid, "err.lead.empty")
	}
	return lf, nil
}

func has(m map[string]int, k string) bool {
	_, ok := m[k]
	return ok
}
