package mqttbridge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"

	"shequ/internal/errs"
	"shequ/internal/gate"
)

// The request kinds, each the last level of a device → server topic.
const (
	KindDecide    = "decide"
	KindEvents    = "events"
	KindHeartbeat = "heartbeat"
	KindSync      = "sync"
)

var kinds = []string{KindDecide, KindEvents, KindHeartbeat, KindSync}

// Error codes in error replies. Besides these, a refusal by the service
// carries its own errs code (not_found, forbidden, conflict, …).
const (
	CodeInvalid     = string(errs.Invalid)     // malformed JSON, or a request the service rejects
	CodeTooLarge    = "too_large"              // payload over MaxPayload
	CodeUnavailable = string(errs.Unavailable) // busy or timed out: retry later
	CodeInternal    = string(errs.Internal)    // a server fault
)

// wireError is the "error" member of an error reply.
type wireError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type errorReply struct {
	ReqID string     `json:"req_id"`
	Error *wireError `json:"error"`
}

// SyncRequest is the payload of a sync request.
type SyncRequest struct {
	ReqID  string `json:"req_id"`
	Cursor int64  `json:"cursor"`
	Limit  int    `json:"limit"`
}

// Request envelopes: the gate message plus the device's req_id.
type (
	decideRequest struct {
		ReqID string `json:"req_id"`
		gate.DecideRequest
	}
	eventsRequest struct {
		ReqID string `json:"req_id"`
		gate.EventsRequest
	}
	heartbeatRequest struct {
		ReqID string `json:"req_id"`
		gate.Heartbeat
	}
)

// handle decodes j, calls the service and returns what to answer: a
// response or an error. It never panics.
func (b *Bridge) handle(j job) (reqID string, resp any, werr *wireError) {
	defer func() {
		if r := recover(); r != nil {
			b.log.Error("mqtt request panicked", "device", j.deviceID, "kind", j.kind, "req_id", reqID,
				"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			resp, werr = nil, &wireError{Code: CodeInternal, Message: b.pr.T("err.internal")}
		}
	}()
	if j.tooLarge > 0 {
		return scanReqID(j.payload), nil, &wireError{Code: CodeTooLarge,
			Message: fmt.Sprintf("payload is %d bytes; the limit is %d", j.tooLarge, b.cfg.MaxPayload)}
	}
	ctx, cancel := context.WithDeadline(b.base, j.received.Add(b.cfg.RequestTimeout))
	defer cancel()
	if ctx.Err() != nil {
		return scanReqID(j.payload), nil, &wireError{Code: CodeUnavailable, Message: "request timed out in the queue, retry later"}
	}

	var err error
	switch j.kind {
	case KindDecide:
		var in decideRequest
		if err := json.Unmarshal(j.payload, &in); err != nil {
			return scanReqID(j.payload), nil, badJSON(err)
		}
		reqID = in.ReqID
		var out gate.DecideResponse
		if out, err = b.svc.Decide(ctx, j.deviceID, in.DecideRequest); err == nil {
			return reqID, out, nil
		}
	case KindEvents:
		var in eventsRequest
		if err := json.Unmarshal(j.payload, &in); err != nil {
			return scanReqID(j.payload), nil, badJSON(err)
		}
		reqID = in.ReqID
		var out gate.EventsResponse
		if out, err = b.svc.Ingest(ctx, j.deviceID, in.EventsRequest); err == nil {
			if out.Accepted == nil {
				out.Accepted = []string{}
			}
			if out.Duplicates == nil {
				out.Duplicates = []string{}
			}
			return reqID, out, nil
		}
	case KindHeartbeat:
		var in heartbeatRequest
		if err := json.Unmarshal(j.payload, &in); err != nil {
			return scanReqID(j.payload), nil, badJSON(err)
		}
		reqID = in.ReqID
		var out gate.HeartbeatResponse
		if out, err = b.svc.Heartbeat(ctx, j.deviceID, in.Heartbeat); err == nil {
			return reqID, out, nil
		}
	case KindSync:
		var in SyncRequest
		if err := json.Unmarshal(j.payload, &in); err != nil {
			return scanReqID(j.payload), nil, badJSON(err)
		}
		reqID = in.ReqID
		var out gate.SyncResponse
		if out, err = b.svc.Sync(ctx, j.deviceID, in.Cursor, in.Limit); err == nil {
			if out.Changes == nil {
				out.Changes = []gate.SyncChange{}
			}
			return reqID, out, nil
		}
	default:
		return scanReqID(j.payload), nil, &wireError{Code: CodeInvalid, Message: "unknown request kind"}
	}
	return reqID, nil, b.serviceError(j, reqID, err)
}

func badJSON(err error) *wireError {
	return &wireError{Code: CodeInvalid, Message: "malformed JSON: " + err.Error()}
}

// serviceError turns an error from the service into a reply: the
// application error's code and translated message; internal faults stay
// generic (and are logged).
func (b *Bridge) serviceError(j job, reqID string, err error) *wireError {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return &wireError{Code: CodeUnavailable, Message: "request timed out, retry later"}
	}
	if e, ok := errs.As(err); ok && e.Code != errs.Internal {
		return &wireError{Code: string(e.Code), Message: b.pr.T(e.Key, e.Args...)}
	}
	b.log.Error("gate service failed", "device", j.deviceID, "kind", j.kind, "req_id", reqID, "err", err.Error())
	return &wireError{Code: CodeInternal, Message: b.pr.T("err.internal")}
}

// encodeReply is resp's JSON object with "req_id" first, or an error reply.
func encodeReply(reqID string, resp any, werr *wireError) ([]byte, error) {
	if werr != nil {
		return json.Marshal(errorReply{ReqID: reqID, Error: werr})
	}
	body, err := json.Marshal(resp)
	if err != nil {
		return nil, err
	}
	if len(body) < 2 || body[0] != '{' {
		return nil, fmt.Errorf("mqttbridge: response %T is not a JSON object", resp)
	}
	id, _ := json.Marshal(reqID)
	out := make([]byte, 0, len(body)+len(id)+12)
	out = append(out, `{"req_id":`...)
	out = append(out, id...)
	if !bytes.Equal(body, []byte("{}")) {
		out = append(out, ',')
	}
	return append(out, body[1:]...), nil
}

// scanReqID finds the top-level "req_id" string of a payload that could not
// be decoded (malformed, or too large and cut short), so the error reply can
// still be matched. It reads tokens until it finds it or the JSON breaks;
// devices should put req_id first.
func scanReqID(p []byte) string {
	dec := json.NewDecoder(bytes.NewReader(p))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return ""
	}
	for {
		t, err := dec.Token()
		if err != nil {
			return ""
		}
		key, ok := t.(string)
		if !ok {
			return "" // the closing '}'
		}
		if key == "req_id" {
			v, err := dec.Token()
			if s, ok := v.(string); ok && err == nil {
				return s
			}
			return ""
		}
		if skipValue(dec) != nil {
			return ""
		}
	}
}

// skipValue reads one JSON value, however nested.
func skipValue(dec *json.Decoder) error {
	depth := 0
	for {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		switch t {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}
