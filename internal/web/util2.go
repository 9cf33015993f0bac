package web

import (
	"encoding/json"
	"errors"
)

func errorsAs(err error, target any) bool { return errors.As(err, target) }

// decodeResult reads an import's result JSON ("" or an error key).
func decodeResult(s string) map[string]any {
	m := map[string]any{}
	if json.Unmarshal([]byte(s), &m) != nil && s != "" {
		m["error"] = s
	}
	return m
}
