// Package gate decides who may pass a gate or checkpoint and records every
// pass: devices, credentials (face, card, QR pass, plate, ID card), who is
// authorised from the ledger and time-boxed lists, the entry policy, pass
// events, visitors and alarms. This file holds the device protocol's
// messages, shared by the HTTP device API and the MQTT bridge.
package gate

import (
	"context"
	"time"
)

// Credential kinds a device can present.
const (
	CredFace   = "face"   // a 128-d descriptor computed on the device or kiosk
	CredCard   = "card"   // IC card number
	CredQR     = "qr"     // signed, short-lived pass code shown on a phone
	CredPlate  = "plate"  // vehicle licence plate
	CredIDCard = "idcard" // resident ID card read by the device
)

// DescriptorLen is the length of a face descriptor (face-api ResNet-34).
const DescriptorLen = 128

// Credential is what a person presented at the gate.
type Credential struct {
	Kind       string    `json:"kind"`
	Value      string    `json:"value,omitempty"`      // card, qr, plate, idcard
	Descriptor []float32 `json:"descriptor,omitempty"` // face
	Model      string    `json:"model,omitempty"`      // face model id, e.g. "face-api-1.7.15/resnet128"
}

// DecideRequest asks whether someone may pass now.
type DecideRequest struct {
	EventID      string     `json:"event_id,omitempty"` // the device's id for this attempt (optional)
	Credential   Credential `json:"credential"`
	TemperatureC float64    `json:"temperature,omitempty"` // 0: not measured
	Direction    string     `json:"direction,omitempty"`   // "in" (default) or "out"
	DeviceTime   time.Time  `json:"device_time,omitempty"`
}

// DecideResponse is the answer, in milliseconds.
type DecideResponse struct {
	DecisionID    string  `json:"decision_id"`
	Outcome       string  `json:"outcome"`             // allow, deny, review
	Reason        string  `json:"reason"`              // policy reason code
	Message       string  `json:"message"`             // what the gate's screen shows (Chinese)
	Person        string  `json:"person,omitempty"`    // masked name
	PersonID      string  `json:"person_id,omitempty"` // lets a kiosk require two consecutive matching frames
	Distance      float64 `json:"distance,omitempty"`  // face match distance
	PolicyVersion int     `json:"policy_version"`
}

// PassEvent is one pass (or refusal) as the device recorded it. Devices
// buffer events while offline and upload them later; EventID (unique per
// device) makes uploads idempotent.
type PassEvent struct {
	EventID      string     `json:"event_id"`
	Credential   Credential `json:"credential"`
	Outcome      string     `json:"outcome"` // what the device did: allow, deny, review
	Reason       string     `json:"reason,omitempty"`
	TemperatureC float64    `json:"temperature,omitempty"`
	Direction    string     `json:"direction,omitempty"`
	DeviceTime   time.Time  `json:"device_time"`
	Snapshot     []byte     `json:"snapshot,omitempty"` // JPEG, optional, stored encrypted
}

// EventsRequest uploads a batch of events (live or backfill).
type EventsRequest struct {
	Events []PassEvent `json:"events"`
}

// EventsResponse says which events are now stored: Accepted were new,
// Duplicates had been stored before (a retry). Both are safe to delete on
// the device.
type EventsResponse struct {
	Accepted   []string        `json:"accepted"`
	Duplicates []string        `json:"duplicates"`
	Rejected   []RejectedEvent `json:"rejected,omitempty"`
}

// RejectedEvent is an event the server will never accept (malformed).
type RejectedEvent struct {
	EventID string `json:"event_id"`
	Reason  string `json:"reason"`
}

// Heartbeat is a device's periodic sign of life.
type Heartbeat struct {
	DeviceTime time.Time         `json:"device_time"`
	Status     map[string]string `json:"status,omitempty"`
}

// HeartbeatResponse carries the server clock so devices can notice drift.
type HeartbeatResponse struct {
	ServerTime time.Time `json:"server_time"`
	OpenNow    bool      `json:"open_now,omitempty"` // a remote open is pending
	// OpenAt is when that open was asked for; the same time is in the MQTT
	// "open" command, so a device that got both opens once.
	OpenAt time.Time `json:"open_at,omitzero"`
}

// SyncChange is one credential added or removed since a cursor, so a
// device can decide offline.
type SyncChange struct {
	Seq        int64      `json:"seq"`
	Op         string     `json:"op"` // "put" or "delete"
	PersonID   string     `json:"person_id"`
	Credential Credential `json:"credential"`
	ValidFrom  time.Time  `json:"valid_from,omitzero"`  // put: not before (absent: now)
	ValidUntil time.Time  `json:"valid_until,omitzero"` // put: not from then on (absent: no end)
}

// SyncResponse is a page of changes after a cursor.
type SyncResponse struct {
	Cursor  int64        `json:"cursor"`
	Changes []SyncChange `json:"changes"`
	More    bool         `json:"more"`
}

// Device is the device protocol as a Go interface: the HTTP device API and
// the MQTT bridge both call it. deviceID identifies the authenticated
// device.
type Device interface {
	Decide(ctx context.Context, deviceID string, req DecideRequest) (DecideResponse, error)
	Ingest(ctx context.Context, deviceID string, req EventsRequest) (EventsResponse, error)
	Heartbeat(ctx context.Context, deviceID string, hb Heartbeat) (HeartbeatResponse, error)
	Sync(ctx context.Context, deviceID string, cursor int64, limit int) (SyncResponse, error)
}
