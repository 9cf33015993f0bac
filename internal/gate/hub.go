package gate

import (
	"sync"
	"time"
)

// AlarmEvent is what live pages receive when an alarm is raised or changes.
type AlarmEvent struct {
	ID          string    `json:"id"`
	Kind        string    `json:"kind"`
	GateID      string    `json:"gate_id"`
	Gate        string    `json:"gate"`
	CommunityID string    `json:"community_id"`
	Person      string    `json:"person,omitempty"`
	Detail      string    `json:"detail,omitempty"`
	Status      string    `json:"status"`
	At          time.Time `json:"at"`
}

// Hub fans alarms out to subscribers (server-sent-event pages) in this
// process, and through its forward function to the other processes that
// share the database (internal/fanout), whose hubs Deliver them.
type Hub struct {
	mu      sync.Mutex
	subs    map[chan AlarmEvent]func(AlarmEvent) bool
	forward func(AlarmEvent)
}

// NewHub makes an empty hub.
func NewHub() *Hub { return &Hub{subs: map[chan AlarmEvent]func(AlarmEvent) bool{}} }

// Subscribe returns a channel of the alarms keep accepts; call the
// returned function to stop.
func (h *Hub) Subscribe(keep func(AlarmEvent) bool) (<-chan AlarmEvent, func()) {
	ch := make(chan AlarmEvent, 64)
	h.mu.Lock()
	h.subs[ch] = keep
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		delete(h.subs, ch)
		h.mu.Unlock()
	}
}

// Forward makes Publish also hand every alarm to f (which must not
// block), for the other processes; nil stops forwarding.
func (h *Hub) Forward(f func(AlarmEvent)) {
	h.mu.Lock()
	h.forward = f
	h.mu.Unlock()
}

// Publish delivers an alarm raised or changed in this process to its
// subscribers, then forwards it to the other processes.
func (h *Hub) Publish(e AlarmEvent) {
	h.Deliver(e)
	h.mu.Lock()
	f := h.forward
	h.mu.Unlock()
	if f != nil {
		f(e)
	}
}

// Deliver hands an alarm to this process's interested subscribers only
// (Publish, and alarms that another process published); a subscriber that
// is not keeping up loses the event rather than slowing the gate.
func (h *Hub) Deliver(e AlarmEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch, keep := range h.subs {
		if keep == nil || keep(e) {
			select {
			case ch <- e:
			default:
			}
		}
	}
}
