// Package mqttbridge lets gate devices that speak MQTT 3.1.1 reach the same
// gate.Device service as HTTP devices.
//
// A device publishes requests on {prefix}/dev/{deviceID}/{decide,events,
// heartbeat,sync} and gets each answer on the same topic plus "/reply",
// carrying the "req_id" it chose. The server sends commands on
// {prefix}/dev/{deviceID}/cmd (Bridge.Command). docs/mqtt.md is the
// vendor-facing description of the protocol.
//
// The bridge works with an external broker (Mosquitto: its ACL makes sure
// a device only uses its own topics, and the bridge trusts the device id in
// the topic) or runs an embedded mochi-mqtt broker, whose hooks check every
// device's credentials and confine it to its own topics.
package mqttbridge

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"shequ/internal/gate"
	"shequ/internal/locale"
)

// Defaults.
const (
	DefaultPrefix         = "shequ"
	DefaultWorkers        = 64
	DefaultRequestTimeout = 5 * time.Second
	DefaultMaxPayload     = 1 << 20 // 1 MiB

	// publishTimeout bounds the wait for the broker to take a reply or a
	// command (PUBACK).
	publishTimeout = 5 * time.Second
	// scanLimit is how much of a payload that cannot be decoded is kept to
	// look for its req_id.
	scanLimit = 64 << 10
	// maxDeviceIDLen bounds a device id taken from a topic or a username.
	maxDeviceIDLen = 128
)

// Errors returned by Command and Start.
var (
	ErrNotStarted = errors.New("mqttbridge: not started")
	ErrClosed     = errors.New("mqttbridge: closed")
)

// Config configures a Bridge. The zero value of every field but the ones
// marked required is usable.
type Config struct {
	// BrokerURL is the external broker, e.g. "tcp://127.0.0.1:1883" or
	// "ssl://mqtt.example:8883"; "" runs the embedded broker.
	BrokerURL string
	// ListenAddr is the embedded broker's listen address, e.g.
	// "127.0.0.1:1884" ("…:0" picks a free port; see Bridge.Addr).
	// Required with the embedded broker, ignored otherwise.
	ListenAddr string
	// Prefix is the first topic level, default "shequ".
	Prefix string
	// ClientID is the bridge's MQTT client id on the external broker,
	// default "shequ-bridge-<random>". Every instance needs its own.
	ClientID string
	// Username and Password log the bridge in to the external broker.
	Username, Password string
	// Authenticate checks a device's credentials on the embedded broker
	// (MQTT username = device id, password = device token). Required with
	// the embedded broker, ignored otherwise.
	Authenticate func(ctx context.Context, deviceID, token string) bool
	// SharedGroup, when not "", subscribes with $share/{SharedGroup}/… on
	// the external broker so that several shequ instances split the
	// requests between them. Ignored by the embedded broker, which serves
	// a single instance.
	SharedGroup string
	// TLSConfig secures the external broker connection (ssl:// or tls://
	// URLs) or the embedded broker's listener.
	TLSConfig *tls.Config

	// Workers bounds the requests handled at once, default 64.
	Workers int
	// RequestTimeout bounds each request from its arrival (queueing
	// included), default 5 s.
	RequestTimeout time.Duration
	// MaxPayload is the largest request accepted, default 1 MiB; larger
	// ones get a "too_large" error reply.
	MaxPayload int
	// Lang is the language of error messages in replies, default "zh".
	Lang string
}

// Bridge connects MQTT devices to a gate.Device service.
type Bridge struct {
	cfg      Config
	embedded bool
	svc      gate.Device
	log      *slog.Logger
	tr       transport
	pr       *locale.Printer
	filters  []string

	base   context.Context // parent of every request; cancelled by Close
	cancel context.CancelFunc

	mu      sync.RWMutex // guards state and sending on jobs
	state   int
	jobs    chan job
	wg      sync.WaitGroup // workers and busy replies
	pending atomic.Int64   // requests received and not yet answered
}

const (
	stateNew = iota
	stateStarted
	stateClosed
)

// transport is the broker side: the external broker through paho, or the
// embedded mochi broker through its inline client.
type transport interface {
	// start connects and subscribes to filters. deliver is called for each
	// message and must not block; origin is the authenticated device id of
	// the sender when the transport knows it (checkOrigin true).
	start(ctx context.Context, filters []string, deliver deliverFunc) error
	// publish sends payload at QoS 1, not retained.
	publish(topic string, payload []byte) error
	// unsubscribe stops the flow of requests (best effort).
	unsubscribe()
	close() error
	addr() string
}

type deliverFunc func(topic string, payload []byte, origin string, checkOrigin bool)

// New checks cfg and returns a bridge to svc; Start connects it. log may
// be nil.
func New(cfg Config, svc gate.Device, log *slog.Logger) (*Bridge, error) {
	if svc == nil {
		return nil, errors.New("mqttbridge: no gate.Device service")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	if err := validPrefix(cfg.Prefix); err != nil {
		return nil, err
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.MaxPayload <= 0 {
		cfg.MaxPayload = DefaultMaxPayload
	}
	if cfg.Lang == "" {
		cfg.Lang = "zh"
	}
	cat, err := locale.Load()
	if err != nil {
		return nil, fmt.Errorf("mqttbridge: %w", err)
	}
	b := &Bridge{cfg: cfg, svc: svc, pr: cat.Printer(cfg.Lang), embedded: cfg.BrokerURL == ""}
	if b.embedded {
		if cfg.ListenAddr == "" {
			return nil, errors.New("mqttbridge: the embedded broker needs ListenAddr")
		}
		if cfg.Authenticate == nil {
			return nil, errors.New("mqttbridge: the embedded broker needs Authenticate")
		}
		b.log = log.With("component", "mqttbridge", "broker", "embedded")
	} else {
		if cfg.SharedGroup != "" && strings.ContainsAny(cfg.SharedGroup, "/+#") {
			return nil, fmt.Errorf("mqttbridge: shared group %q must not contain '/', '+' or '#'", cfg.SharedGroup)
		}
		if b.cfg.ClientID == "" {
			b.cfg.ClientID = "shequ-bridge-" + strings.ToLower(rand.Text()[:10])
		}
		b.log = log.With("component", "mqttbridge", "broker", redactURL(cfg.BrokerURL))
	}
	for _, k := range kinds {
		f := cfg.Prefix + "/dev/+/" + k
		if !b.embedded && cfg.SharedGroup != "" {
			f = "$share/" + cfg.SharedGroup + "/" + f
		}
		b.filters = append(b.filters, f)
	}
	b.base, b.cancel = context.WithCancel(context.Background())
	if b.embedded {
		b.tr = &embeddedTransport{cfg: &b.cfg, log: b.log, base: b.base}
	} else {
		b.tr = &pahoTransport{cfg: &b.cfg, log: b.log}
	}
	return b, nil
}

// Start starts the workers and connects to the broker (or starts the
// embedded one) and subscribes. ctx bounds the start-up only; Close stops
// the bridge. After a lost connection the bridge reconnects and subscribes
// again by itself.
func (b *Bridge) Start(ctx context.Context) error {
	b.mu.Lock()
	switch b.state {
	case stateStarted:
		b.mu.Unlock()
		return errors.New("mqttbridge: already started")
	case stateClosed:
		b.mu.Unlock()
		return ErrClosed
	}
	b.state = stateStarted
	b.jobs = make(chan job, b.cfg.Workers*16)
	for range b.cfg.Workers {
		b.wg.Add(1)
		go b.worker()
	}
	b.mu.Unlock()

	if err := b.tr.start(ctx, b.filters, b.deliver); err != nil {
		b.Close()
		return err
	}
	b.log.Info("mqtt bridge started", "prefix", b.cfg.Prefix, "filters", b.filters, "addr", b.tr.addr())
	return nil
}

// Addr is the embedded broker's listen address once started ("" with an
// external broker).
func (b *Bridge) Addr() string {
	if !b.embedded {
		return ""
	}
	return b.tr.addr()
}

// Command publishes payload to {prefix}/dev/{deviceID}/cmd at QoS 1.
// payload is raw JSON when it is a []byte or json.RawMessage, and is
// marshalled to JSON otherwise, e.g. map[string]any{"cmd": "open", "at":
// time.Now()}.
func (b *Bridge) Command(deviceID string, payload any) error {
	if err := validDeviceID(deviceID); err != nil {
		return err
	}
	var data []byte
	switch p := payload.(type) {
	case []byte:
		data = p
	case json.RawMessage:
		data = p
	default:
		var err error
		if data, err = json.Marshal(payload); err != nil {
			return fmt.Errorf("mqttbridge: command payload: %w", err)
		}
	}
	if !json.Valid(data) || !bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) {
		return errors.New("mqttbridge: command payload is not a JSON object")
	}
	if len(data) > b.cfg.MaxPayload {
		return fmt.Errorf("mqttbridge: command payload is %d bytes, more than %d", len(data), b.cfg.MaxPayload)
	}
	b.mu.RLock()
	state := b.state
	b.mu.RUnlock()
	switch state {
	case stateNew:
		return ErrNotStarted
	case stateClosed:
		return ErrClosed
	}
	if err := b.tr.publish(b.topic(deviceID, "cmd"), data); err != nil {
		return fmt.Errorf("mqttbridge: command to %s: %w", deviceID, err)
	}
	return nil
}

// Close stops taking requests, lets the ones in hand finish (up to the
// request timeout), then disconnects (or stops the embedded broker).
func (b *Bridge) Close() error {
	b.mu.Lock()
	if b.state == stateClosed {
		b.mu.Unlock()
		return nil
	}
	started := b.state == stateStarted
	b.state = stateClosed
	if started {
		close(b.jobs) // the workers finish what is queued, then stop
	}
	b.mu.Unlock()
	if !started {
		b.cancel()
		return nil
	}

	// With a shared subscription the broker now sends new requests to the
	// other instances.
	b.tr.unsubscribe()

	done := make(chan struct{})
	go func() { b.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(b.cfg.RequestTimeout + publishTimeout):
		b.log.Warn("mqtt bridge closing with requests still in hand", "pending", b.pending.Load())
	}
	b.cancel()
	err := b.tr.close()
	b.log.Info("mqtt bridge stopped")
	return err
}

// job is one request taken from the broker.
type job struct {
	deviceID string
	kind     string
	payload  []byte // a copy; only the head when tooLarge
	tooLarge int    // the payload's size when over MaxPayload
	received time.Time
}

// deliver is called by the transport for every message; it never blocks.
func (b *Bridge) deliver(topic string, payload []byte, origin string, checkOrigin bool) {
	deviceID, kind, ok := b.parseTopic(topic)
	if !ok {
		b.log.Debug("message on an unknown topic ignored", "topic", topic)
		return
	}
	if checkOrigin && origin != deviceID {
		// The embedded broker's ACL should have stopped it already; a
		// reply would go to the other device, so drop it silently.
		b.log.Warn("message on another device's topic dropped", "device", deviceID, "sender", origin)
		return
	}
	j := job{deviceID: deviceID, kind: kind, received: time.Now()}
	if len(payload) > b.cfg.MaxPayload {
		j.tooLarge = len(payload)
		j.payload = bytes.Clone(payload[:min(len(payload), scanLimit)])
	} else {
		j.payload = bytes.Clone(payload)
	}

	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.state != stateStarted {
		return
	}
	b.pending.Add(1)
	select {
	case b.jobs <- j:
	default:
		// Every worker is busy and the queue is full: tell the device to
		// come back later instead of holding the broker's delivery.
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			defer b.pending.Add(-1)
			b.log.Warn("mqtt bridge busy, request refused", "device", j.deviceID, "kind", j.kind)
			b.answer(j, scanReqID(j.payload), nil, &wireError{Code: CodeUnavailable, Message: "server busy, retry later"}, time.Now())
		}()
	}
}

func (b *Bridge) worker() {
	defer b.wg.Done()
	for j := range b.jobs {
		start := time.Now()
		reqID, resp, werr := b.handle(j)
		b.answer(j, reqID, resp, werr, start)
		b.pending.Add(-1)
	}
}

// answer publishes the reply to j and logs the request (never its payload,
// which can hold personal data).
func (b *Bridge) answer(j job, reqID string, resp any, werr *wireError, start time.Time) {
	out, err := encodeReply(reqID, resp, werr)
	if err != nil {
		b.log.Error("mqtt reply not encodable", "device", j.deviceID, "kind", j.kind, "req_id", reqID, "err", err.Error())
		werr = &wireError{Code: CodeInternal, Message: b.pr.T("err.internal")}
		out, _ = encodeReply(reqID, nil, werr)
	}
	perr := b.tr.publish(b.topic(j.deviceID, j.kind+"/reply"), out)
	attrs := []any{"device", j.deviceID, "kind", j.kind, "req_id", reqID,
		"ms", time.Since(start).Milliseconds(), "queued_ms", start.Sub(j.received).Milliseconds()}
	if werr != nil {
		attrs = append(attrs, "code", werr.Code)
	}
	switch {
	case perr != nil:
		b.log.Warn("mqtt reply not sent", append(attrs, "err", perr.Error())...)
	case werr != nil:
		b.log.Info("mqtt request failed", attrs...)
	default:
		b.log.Debug("mqtt request", attrs...)
	}
}

func (b *Bridge) topic(deviceID, rest string) string {
	return b.cfg.Prefix + "/dev/" + deviceID + "/" + rest
}

// parseTopic splits {prefix}/dev/{deviceID}/{kind}.
func (b *Bridge) parseTopic(topic string) (deviceID, kind string, ok bool) {
	rest, ok := strings.CutPrefix(topic, b.cfg.Prefix+"/dev/")
	if !ok {
		return "", "", false
	}
	deviceID, kind, ok = strings.Cut(rest, "/")
	if !ok || validDeviceID(deviceID) != nil {
		return "", "", false
	}
	for _, k := range kinds {
		if kind == k {
			return deviceID, kind, true
		}
	}
	return "", "", false
}

// redactURL hides a password in a broker URL (paho accepts
// tcp://user:pass@host).
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable broker URL)"
	}
	return u.Redacted()
}

func validDeviceID(id string) error {
	if id == "" || len(id) > maxDeviceIDLen || !utf8.ValidString(id) || strings.ContainsAny(id, "/+#\x00") {
		return fmt.Errorf("mqttbridge: invalid device id %q", id)
	}
	return nil
}

func validPrefix(p string) error {
	if !utf8.ValidString(p) || strings.ContainsAny(p, "+#\x00") || strings.HasPrefix(p, "$") ||
		strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || strings.Contains(p, "//") {
		return fmt.Errorf("mqttbridge: invalid topic prefix %q", p)
	}
	return nil
}
