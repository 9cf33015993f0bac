package web

import (
	"encoding/json"
	"fmt"
	"net/http"

	"shequ/internal/errs"
	"shequ/internal/gate"
	"shequ/internal/locale"
)

// eventStream is an open server-sent-event answer (the alarm duty page,
// the big screen).
type eventStream struct {
	w  http.ResponseWriter
	fl http.Flusher
}

// openStream starts a server-sent-event answer; false (and an error page
// sent) when the connection cannot stream.
func (s *Server) openStream(w http.ResponseWriter, r *http.Request) (*eventStream, bool) {
	fl, ok := w.(http.Flusher)
	if !ok {
		s.fail(w, r, errs.E(errs.Internal, "err.internal"))
		return nil, false
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	fmt.Fprint(w, "retry: 2000\n\n")
	fl.Flush()
	return &eventStream{w: w, fl: fl}, true
}

// send writes one event with v as its JSON data.
func (es *eventStream) send(event string, v any) {
	b, _ := json.Marshal(v)
	fmt.Fprintf(es.w, "event: %s\ndata: %s\n\n", event, b)
	es.fl.Flush()
}

// ping keeps an idle connection open through proxies.
func (es *eventStream) ping() {
	fmt.Fprint(es.w, ": ping\n\n")
	es.fl.Flush()
}

// alarmData is an alarm as the live pages receive it.
func alarmData(pr *locale.Printer, e gate.AlarmEvent) map[string]any {
	return map[string]any{"id": e.ID, "kind": e.Kind, "kind_text": pr.T("alarm." + e.Kind), "gate": e.Gate, "person": e.Person,
		"at": e.At.In(shanghai).Format("15:04:05"), "status": e.Status}
}
