package web

import (
	"shequ/internal/ledger"
	"shequ/internal/pii"
	"sort"
	"strconv"
	"strings"
	"time"

	"shequ/internal/store"
)

func parseDate(s string) (time.Time, bool) {
	t, err := time.ParseInLocation("2006-01-02", s, shanghai)
	return t, err == nil
}

// parseLocal reads a datetime-local field (Beijing time); the zero time
// when empty or malformed.
func parseLocal(s string) time.Time {
	t, _ := time.ParseInLocation("2006-01-02T15:04", s, shanghai)
	return t
}

func atoiDefault(s string, d int) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return d
	}
	return n
}

func sortAuditDesc(es []store.AuditEntry) {
	sort.Slice(es, func(i, j int) bool { return es[i].Seq > es[j].Seq })
}

// isRootPath reports whether a node path names a top node of the tree: a
// scope there covers everything, records without a node too.
func isRootPath(path string) bool { return strings.Count(path, "/") == 2 }

func maskedName(n string) string {
	if n == "" {
		return ""
	}
	return pii.MaskName(n)
}

func ledgerQuery(text string) ledger.Query { return ledger.Query{Text: text, PageSize: 5} }
