package gate

import (
	"context"
	"encoding/json"
	"time"

	"shequ/internal/errs"
	"shequ/internal/policy"
	"shequ/internal/store"
)

// MaxBatch is the most events one upload may carry.
const MaxBatch = 1000

var outcomes = map[string]bool{"allow": true, "deny": true, "review": true}

// Ingest stores a batch of pass events from a device. Every event is
// either Accepted (new), a Duplicate (sent before: a retry or a backfill
// overlap) or Rejected (malformed, with the reason); only events stored in
// a committed transaction are acknowledged.
func (s *Service) Ingest(ctx context.Context, userID string, req EventsRequest) (EventsResponse, error) {
	dev, g, err := s.DeviceFor(ctx, userID)
	if err != nil {
		return EventsResponse{}, err
	}
	if len(req.Events) > MaxBatch {
		return EventsResponse{}, errs.E(errs.Invalid, "err.gate.batch_too_large", MaxBatch)
	}
	resp := EventsResponse{Accepted: []string{}, Duplicates: []string{}}
	now := s.Store.Now()
	var recs []store.PassRecord
	seen := map[string]bool{}
	for _, e := range req.Events {
		reason := ""
		switch {
		case e.EventID == "" || len(e.EventID) > 64:
			reason = "event_id"
		case !outcomes[e.Outcome]:
			reason = "outcome"
		case e.DeviceTime.IsZero():
			reason = "device_time"
		case e.Direction != "" && e.Direction != "in" && e.Direction != "out":
			reason = "direction"
		case validTemperature(e.TemperatureC) != nil:
			reason = "temperature"
		case len(e.Snapshot) > 512<<10:
			reason = "snapshot_too_large"
		}
		if reason != "" {
			resp.Rejected = append(resp.Rejected, RejectedEvent{EventID: e.EventID, Reason: reason})
			continue
		}
		if seen[e.EventID] {
			resp.Duplicates = append(resp.Duplicates, e.EventID)
			continue
		}
		seen[e.EventID] = true
		dir := e.Direction
		if dir == "" {
			dir = "in"
		}
		rec := store.PassRecord{DeviceID: dev.ID, GateID: g.ID, EventID: e.EventID, Credential: e.Credential.Kind, Outcome: e.Outcome,
			Reason: e.Reason, Temperature: e.TemperatureC, Direction: dir, DeviceTime: e.DeviceTime, ReceivedAt: now}
		if e.Credential.Kind != CredFace && e.Credential.Value != "" {
			// Devices that decided offline name the credential; find whose.
			if who, err := s.identify(ctx, g, e.Credential); err == nil {
				rec.PersonID = who.personID
			}
		}
		if len(e.Snapshot) > 0 {
			if rec.SnapshotEnc, err = s.Keys.Encrypt(e.Snapshot, "pass_events.snapshot"); err != nil {
				return resp, err
			}
		}
		recs = append(recs, rec)
	}
	if len(recs) == 0 {
		return resp, nil
	}
	isNew, err := s.ing.store(ctx, recs)
	if err != nil {
		return EventsResponse{}, err
	}
	for i, r := range recs {
		if isNew[i] {
			resp.Accepted = append(resp.Accepted, r.EventID)
		} else {
			resp.Duplicates = append(resp.Duplicates, r.EventID)
		}
	}
	return resp, nil
}

// Heartbeat records that a device is alive and hands it a pending remote
// open; a device that was offline comes back without a new alarm, and its
// offline alarm closes itself.
func (s *Service) Heartbeat(ctx context.Context, userID string, hb Heartbeat) (HeartbeatResponse, error) {
	dev, _, err := s.DeviceFor(ctx, userID)
	if err != nil {
		return HeartbeatResponse{}, err
	}
	now := s.Store.Now()
	var asked time.Time
	err = s.Store.Write(ctx, func(tx *store.Tx) error {
		var back bool
		if back, asked, err = tx.TouchDevice(ctx, dev.ID, now); err != nil || !back {
			return err
		}
		return tx.CloseOfflineAlarms(ctx, dev.ID)
	})
	return HeartbeatResponse{ServerTime: now, OpenNow: !asked.IsZero(), OpenAt: asked}, err
}

// Commander sends commands to devices connected over MQTT.
type Commander interface {
	Command(deviceID string, payload any) error
}

// RequestOpen asks a gate's devices to open: at once over MQTT when a
// bridge runs, and with the next heartbeat reply in any case. Devices
// recognise the two as one request by its time. The caller's tx also
// carries its audit entry; push is called after the commit.
func (s *Service) RequestOpen(ctx context.Context, tx *store.Tx, devices []store.Device) (push func(), err error) {
	at := s.Store.Now().Truncate(time.Millisecond)
	for _, d := range devices {
		if err := tx.RequestOpen(ctx, d.ID, at); err != nil {
			return nil, err
		}
	}
	return func() {
		if s.Commands == nil {
			return
		}
		for _, d := range devices {
			if err := s.Commands.Command(d.UserID, map[string]any{"cmd": "open", "at": at.UTC()}); err != nil {
				s.Log.Warn("remote open over MQTT", "device", d.ID, "err", err.Error())
			}
		}
	}, nil
}

// Sync pages credential changes after a cursor, for offline decisions:
// cards and plates carry their value, faces their descriptor, and each
// the window in which its holder may pass this gate's community. A
// credential whose holder no longer may (moved out, contract or list entry
// ended) is a delete.
func (s *Service) Sync(ctx context.Context, userID string, cursor int64, limit int) (SyncResponse, error) {
	_, g, err := s.DeviceFor(ctx, userID)
	if err != nil {
		return SyncResponse{}, err
	}
	if limit <= 0 || limit > 1000 {
		limit = 500
	}
	cs, more, err := s.Store.CredentialChanges(ctx, g.CommunityID, cursor, limit)
	if err != nil {
		return SyncResponse{}, err
	}
	now := s.Store.Now()
	resp := SyncResponse{Cursor: cursor, Changes: []SyncChange{}, More: more}
	for _, c := range cs {
		ch := SyncChange{Seq: c.Seq, Op: "delete", PersonID: c.PersonID, Credential: Credential{Kind: c.Kind, Model: c.Model}}
		if from, until, ok := accessWindow(c, now); ok && c.RevokedAt.IsZero() {
			ch.Op, ch.ValidFrom, ch.ValidUntil = "put", from, until
			if c.Kind == CredFace {
				ch.Credential.Descriptor, err = s.decodeDescriptor(c.ValueEnc)
			} else {
				ch.Credential.Value, err = s.Keys.DecryptString(c.ValueEnc, "credentials.value")
			}
			if err != nil {
				return SyncResponse{}, err
			}
		}
		resp.Changes = append(resp.Changes, ch)
		resp.Cursor = c.Seq
	}
	return resp, nil
}

// accessWindow is when a credential lets its holder through the community:
// the union of their residence and list entries there, cut by the
// credential's own expiry. A zero from means now, a zero until never; ok
// is false when the window is over or there is none.
func accessWindow(c store.CredentialChange, now time.Time) (from, until time.Time, ok bool) {
	type span struct{ from, until time.Time } // zero until: open
	var spans []span
	if c.ResFrom != "" {
		var sp span
		if d, err := time.ParseInLocation(time.DateOnly, c.ResFrom, policy.CST()); err == nil {
			sp.from = d
		}
		if d, err := time.ParseInLocation(time.DateOnly, c.ResUntil, policy.CST()); err == nil && c.ResUntil != "9999-12-31" {
			sp.until = d.AddDate(0, 0, 1) // the last day counts
		}
		spans = append(spans, sp)
	}
	if !c.ListUntil.IsZero() {
		spans = append(spans, span{c.ListFrom, c.ListUntil})
	}
	if len(spans) == 0 {
		return time.Time{}, time.Time{}, false
	}
	from, until = spans[0].from, spans[0].until
	for _, sp := range spans[1:] {
		if sp.from.Before(from) {
			from = sp.from
		}
		if until.IsZero() || sp.until.IsZero() {
			until = time.Time{}
		} else if sp.until.After(until) {
			until = sp.until
		}
	}
	if !c.ValidUntil.IsZero() && (until.IsZero() || c.ValidUntil.Before(until)) {
		until = c.ValidUntil
	}
	if !until.IsZero() && !until.After(now) {
		return time.Time{}, time.Time{}, false
	}
	if !from.After(now) {
		from = time.Time{}
	}
	return from.UTC(), until.UTC(), true
}

// WatchDevices raises a device_offline alarm for each device silent longer
// than silence, checking every interval until ctx ends.
func (s *Service) WatchDevices(ctx context.Context, silence, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.CheckSilentDevices(ctx, silence); err != nil && ctx.Err() == nil {
				s.Log.Error("device watch", "err", err.Error())
			}
		}
	}
}

// CheckSilentDevices marks devices silent longer than silence offline and
// raises an alarm for each.
func (s *Service) CheckSilentDevices(ctx context.Context, silence time.Duration) error {
	var silent []store.Device
	err := s.Store.Write(ctx, func(tx *store.Tx) error {
		var err error
		silent, err = tx.SilentDevices(ctx, s.Store.Now().Add(-silence))
		return err
	})
	if err != nil {
		return err
	}
	for _, d := range silent {
		g, err := s.Store.Gate(ctx, d.GateID)
		if err != nil {
			return err
		}
		detail, _ := json.Marshal(map[string]string{"device": d.Name, "last_seen": d.LastSeen.Format(time.RFC3339)})
		s.raise(ctx, g, d.ID, "device_offline", identified{}, string(detail))
	}
	return nil
}
