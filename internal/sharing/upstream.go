package sharing

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"shequ/internal/store"
)

// ReportUp sends the figures of every community of this instance to a
// street or district instance (POST /api/v1/upstream with its partner
// token). The idempotency key is the content's hash: a retry of the same
// figures is answered once, changed figures are a new report.
func ReportUp(ctx context.Context, s *store.Store, client *http.Client, base, token string) (int, error) {
	figs, err := s.CommunityFigures(ctx, []string{"/"})
	if err != nil {
		return 0, err
	}
	if len(figs) == 0 {
		return 0, fmt.Errorf("no community to report")
	}
	body, _ := json.Marshal(map[string]any{"communities": figs})
	sum := sha256.Sum256(body)
	req, err := http.NewRequestWithContext(ctx, "POST", strings.TrimRight(base, "/")+"/api/v1/upstream", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", "report-up-"+hex.EncodeToString(sum[:16]))
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("the upper instance answered %d: %s", resp.StatusCode, bytes.TrimSpace(msg))
	}
	return len(figs), nil
}
