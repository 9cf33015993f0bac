package fanout

import (
	"encoding/json"

	"shequ/internal/gate"
)

// TopicAlarm carries gate alarms raised or changed in another process.
const TopicAlarm = "alarm"

// Alarms joins a hub to the relay: alarms published on this hub are sent
// to the other processes, and theirs are delivered to this hub's
// subscribers. A message carries what the pages show and no more: the id,
// kind, gate, community, the masked name the page already shows, status
// and time; the detail stays in the database. A nil relay leaves the hub
// to this process alone.
func Alarms(r *Relay, hub *gate.Hub) {
	if r == nil {
		return
	}
	r.Handle(TopicAlarm, func(data []byte) {
		var e gate.AlarmEvent
		if err := json.Unmarshal(data, &e); err != nil {
			r.log.Warn("fanout: unreadable alarm ignored", "err", err.Error())
			return
		}
		hub.Deliver(e)
	})
	hub.Forward(func(e gate.AlarmEvent) {
		e.Detail = ""
		r.Send(TopicAlarm, e)
	})
}
