package fanout

import (
	"context"
	"time"

	"shequ/internal/gate"
)

// Gates joins a gate service to the relay: a policy saved, a face enrolled
// or revoked, or a one-time pass code used at one instance is applied to the
// memory of every other (gate.Service.FromPeer). A nil relay leaves the
// service alone.
func Gates(r *Relay, svc *gate.Service) {
	if r == nil {
		return
	}
	for _, topic := range []string{gate.TopicPolicies, gate.TopicFace, gate.TopicPass} {
		r.Handle(topic, func(data []byte) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := svc.FromPeer(ctx, topic, data); err != nil {
				r.log.Error("fanout: a change from another instance not applied", "topic", topic, "err", err.Error())
			}
		})
	}
	svc.Peers = r.Send
}
