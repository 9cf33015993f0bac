package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"

	"shequ/internal/errs"
	"shequ/internal/store"
)

// idempotent runs an API write under the client's Idempotency-Key: the
// write and its answer commit together, so a retry with the same key (a
// lost response, a client that crashed) gets the first answer and changes
// nothing; the same key for a different request (method, path, body) is a
// conflict.
func (s *Server) idempotent(w http.ResponseWriter, r *http.Request, body []byte, fn func(tx *store.Tx) (int, any, error)) {
	if !s.replayed(w, r, body) {
		s.save(w, r, body, fn)
	}
}

// keep stores the answer to a write that was applied in its own
// transaction (after replayed said it was new) and sends it.
func (s *Server) keep(w http.ResponseWriter, r *http.Request, body []byte, status int, v any) {
	s.save(w, r, body, func(*store.Tx) (int, any, error) { return status, v, nil })
}

func (s *Server) save(w http.ResponseWriter, r *http.Request, body []byte, fn func(tx *store.Tx) (int, any, error)) {
	p, key, request := reqOf(r).p, r.Header.Get("Idempotency-Key"), idemRequest(r, body)
	var a store.Idempotent
	err := s.Store.Write(r.Context(), func(tx *store.Tx) error {
		status, out, err := fn(tx)
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		enc.Encode(out)
		a = store.Idempotent{Request: request, Status: status, Body: buf.String()}
		return tx.SaveIdempotent(r.Context(), p.UserID, key, a)
	})
	if errs.Is(err, errs.Conflict) && s.replayed(w, r, body) {
		return // the same key committed meanwhile by a concurrent retry
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeIdempotent(w, a, false)
}

// replayed answers a write whose Idempotency-Key is missing (400), already
// answered (the stored answer again) or used for another request (409);
// false means the write is new and the caller goes on.
func (s *Server) replayed(w http.ResponseWriter, r *http.Request, body []byte) bool {
	key := r.Header.Get("Idempotency-Key")
	if len(key) < 8 || len(key) > 100 {
		s.fail(w, r, errs.E(errs.Invalid, "err.api.idempotency").OnField("Idempotency-Key"))
		return true
	}
	a, found, err := s.Store.IdempotentAnswer(r.Context(), reqOf(r).p.UserID, key)
	switch {
	case err != nil:
		s.fail(w, r, err)
	case !found:
		return false
	case a.Request != idemRequest(r, body):
		s.fail(w, r, errs.E(errs.Conflict, "err.api.idempotency_reused").OnField("Idempotency-Key"))
	default:
		writeIdempotent(w, a, true)
	}
	return true
}

func idemRequest(r *http.Request, body []byte) string {
	sum := sha256.Sum256(body)
	return r.Method + " " + r.URL.Path + " " + hex.EncodeToString(sum[:])
}

func writeIdempotent(w http.ResponseWriter, a store.Idempotent, replay bool) {
	if replay {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(a.Status)
	io.WriteString(w, a.Body)
}
