package gate

import (
	"context"
	"encoding/json"
	"time"
)

// Several instances of the program on one PostgreSQL database each keep
// some gate state in memory. What one instance changes there, it tells the
// others through Service.Peers (internal/fanout carries it), and they apply
// it with FromPeer. The notes carry identifiers only: a face's descriptor
// is read from the database, never sent.
const (
	TopicPolicies = "gate.policies" // a policy was saved: reload them all
	TopicFace     = "gate.face"     // a face was enrolled or revoked: reload that one
	TopicPass     = "gate.pass"     // a resident's one-time code opened a gate
)

type faceNote struct {
	ID string `json:"id"`
}

type passNote struct {
	Nonce   string `json:"n"`
	Expires int64  `json:"e"` // Unix seconds
}

// tell passes a change to the other instances, when there are any.
func (s *Service) tell(topic string, v any) {
	if s.Peers != nil {
		s.Peers(topic, v)
	}
}

// FromPeer applies a change that another instance made to what this one
// keeps in memory.
func (s *Service) FromPeer(ctx context.Context, topic string, data []byte) error {
	switch topic {
	case TopicPolicies:
		return s.ReloadPolicies(ctx)
	case TopicFace:
		var n faceNote
		if err := json.Unmarshal(data, &n); err != nil {
			return err
		}
		return s.reloadFace(ctx, n.ID)
	case TopicPass:
		var n passNote
		if err := json.Unmarshal(data, &n); err != nil {
			return err
		}
		s.spent.mark(n.Nonce, time.Unix(n.Expires, 0))
	}
	return nil
}

// reloadFace puts one face credential back in the matching index as the
// database has it, or takes it out when it is revoked.
func (s *Service) reloadFace(ctx context.Context, id string) error {
	c, ok, err := s.Store.FaceCredential(ctx, id)
	if err != nil {
		return err
	}
	if !ok || c.CommunityID == "" {
		s.Faces.Forget(id)
		return nil
	}
	d, err := s.decodeDescriptor(c.ValueEnc)
	if err != nil {
		return err
	}
	return s.Faces.Put(c.CommunityID, c.PersonID, c.ID, d, c.Model)
}
