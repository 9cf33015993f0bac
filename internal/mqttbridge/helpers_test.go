package mqttbridge

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"shequ/internal/gate"
)

// call is one call the fake service received.
type call struct {
	Kind      string
	DeviceID  string
	Decide    gate.DecideRequest
	Events    gate.EventsRequest
	Heartbeat gate.Heartbeat
	Cursor    int64
	Limit     int
}

// fakeService is a test double of gate.Device: it records every call and
// returns canned answers derived from the request. decide, when set,
// replaces the canned Decide.
type fakeService struct {
	mu     sync.Mutex
	calls  []call
	decide func(ctx context.Context, deviceID string, req gate.DecideRequest) (gate.DecideResponse, error)
}

var serverTime = time.Date(2026, 11, 28, 8, 0, 0, 0, time.UTC)

func (f *fakeService) record(c call) {
	f.mu.Lock()
	f.calls = append(f.calls, c)
	f.mu.Unlock()
}

func (f *fakeService) Decide(ctx context.Context, deviceID string, req gate.DecideRequest) (gate.DecideResponse, error) {
	f.record(call{Kind: KindDecide, DeviceID: deviceID, Decide: req})
	if f.decide != nil {
		return f.decide(ctx, deviceID, req)
	}
	return gate.DecideResponse{DecisionID: "dec-" + req.EventID, Outcome: "allow", Reason: "resident",
		Message: "欢迎回家", Person: "张*", PersonID: "p-1", Distance: 0.31, PolicyVersion: 3}, nil
}

func (f *fakeService) Ingest(_ context.Context, deviceID string, req gate.EventsRequest) (gate.EventsResponse, error) {
	f.record(call{Kind: KindEvents, DeviceID: deviceID, Events: req})
	var resp gate.EventsResponse
	for _, e := range req.Events {
		resp.Accepted = append(resp.Accepted, e.EventID)
	}
	return resp, nil
}

func (f *fakeService) Heartbeat(_ context.Context, deviceID string, hb gate.Heartbeat) (gate.HeartbeatResponse, error) {
	f.record(call{Kind: KindHeartbeat, DeviceID: deviceID, Heartbeat: hb})
	return gate.HeartbeatResponse{ServerTime: serverTime, OpenNow: true}, nil
}

func (f *fakeService) Sync(_ context.Context, deviceID string, cursor int64, limit int) (gate.SyncResponse, error) {
	f.record(call{Kind: KindSync, DeviceID: deviceID, Cursor: cursor, Limit: limit})
	return gate.SyncResponse{Cursor: cursor + 1, More: true, Changes: []gate.SyncChange{{Seq: cursor + 1, Op: "put",
		PersonID: "p-1", Credential: gate.Credential{Kind: gate.CredCard, Value: "A1B2C3D4"}}}}, nil
}

func (f *fakeService) all() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

func (f *fakeService) forDevice(id string) []call {
	var out []call
	for _, c := range f.all() {
		if c.DeviceID == id {
			out = append(out, c)
		}
	}
	return out
}

// testLogger shows the bridge's warnings with -v only.
func testLogger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return slog.New(slog.DiscardHandler)
}

func uniqueName(base string) string {
	return base + "-" + strings.ToLower(rand.Text()[:10])
}

const mosquittoAddr = "127.0.0.1:1883"

// mosquitto returns the local Mosquitto's URL. When it is not listening
// the test is skipped, unless CI=true, where it fails.
func mosquitto(t testing.TB) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", mosquittoAddr, 2*time.Second)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Mosquitto is not listening on %s (CI=true, so this is a failure): %v", mosquittoAddr, err)
		}
		t.Skipf("SKIP: Mosquitto is not listening on %s (%v); start it with `mosquitto -d -c /etc/mosquitto/mosquitto.conf` (with CI=true this test fails instead)", mosquittoAddr, err)
	}
	c.Close()
	return "tcp://" + mosquittoAddr
}

// startBridge starts a bridge and closes it when the test ends.
func startBridge(t testing.TB, cfg Config, svc gate.Device) *Bridge {
	t.Helper()
	b, err := New(cfg, svc, testLogger())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := b.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// waitIdle waits until the bridge has answered everything it received.
func waitIdle(t testing.TB, b *Bridge) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for b.pending.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("bridge still has %d requests in hand", b.pending.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// device is a paho client playing a gate device: it subscribes to all of
// its own topics, routes replies by req_id and keeps everything else
// (commands) in other.
type device struct {
	t      testing.TB
	c      paho.Client
	prefix string
	id     string

	mu      sync.Mutex
	waiters map[string]chan []byte // req_id → replies
	other   chan paho.Message
	lost    chan error
}

type deviceOpts struct {
	username, password string
	clientID           string // default: the device id
	willTopic          string
	noSubscribe        bool
}

// dialDevice connects a device; it returns the connect error instead of
// failing so that refusals can be tested.
func dialDevice(t testing.TB, broker, prefix, id string, o deviceOpts) (*device, error) {
	t.Helper()
	d := &device{t: t, prefix: prefix, id: id, waiters: map[string]chan []byte{},
		other: make(chan paho.Message, 64), lost: make(chan error, 1)}
	if o.clientID == "" {
		o.clientID = id
	}
	opts := paho.NewClientOptions().AddBroker(broker).SetClientID(o.clientID).
		SetProtocolVersion(4).SetCleanSession(true).SetAutoReconnect(false).
		SetConnectTimeout(5 * time.Second).SetOrderMatters(false).
		SetConnectionLostHandler(func(_ paho.Client, err error) {
			select {
			case d.lost <- err:
			default:
			}
		})
	if o.username != "" {
		opts.SetUsername(o.username)
	}
	if o.password != "" {
		opts.SetPassword(o.password)
	}
	if o.willTopic != "" {
		opts.SetWill(o.willTopic, `{"req_id":"will"}`, 1, false)
	}
	d.c = paho.NewClient(opts)
	tok := d.c.Connect()
	if !tok.WaitTimeout(10 * time.Second) {
		return nil, fmt.Errorf("connect timed out")
	}
	if err := tok.Error(); err != nil {
		return nil, err
	}
	t.Cleanup(func() { d.c.Disconnect(50) })
	if o.noSubscribe {
		return d, nil
	}
	// What a device subscribes to: its replies and its commands.
	for _, f := range []string{prefix + "/dev/" + id + "/+/reply", prefix + "/dev/" + id + "/cmd"} {
		if code, err := d.subscribe(f); err != nil || code > 2 {
			t.Fatalf("device %s: subscribe %s: code %#x, %v", id, f, code, err)
		}
	}
	return d, nil
}

// newDevice connects a device to an anonymous broker (Mosquitto).
func newDevice(t testing.TB, broker, prefix, id string) *device {
	t.Helper()
	d, err := dialDevice(t, broker, prefix, id, deviceOpts{})
	if err != nil {
		t.Fatalf("device %s: connect: %v", id, err)
	}
	return d
}

// subscribe subscribes to filter and returns the broker's return code.
func (d *device) subscribe(filter string) (byte, error) {
	tok := d.c.Subscribe(filter, 1, d.onMessage)
	if !tok.WaitTimeout(10 * time.Second) {
		return 0, fmt.Errorf("subscribe timed out")
	}
	if err := tok.Error(); err != nil {
		return 0, err
	}
	// paho keys the result by the filter without any $share/{group}/.
	res := tok.(*paho.SubscribeToken).Result()
	if len(res) != 1 {
		return 0, fmt.Errorf("subscribe %s: results %v", filter, res)
	}
	for _, code := range res {
		return code, nil
	}
	return 0, nil
}

func (d *device) onMessage(_ paho.Client, m paho.Message) {
	if strings.HasSuffix(m.Topic(), "/reply") {
		var r struct {
			ReqID string `json:"req_id"`
		}
		if err := json.Unmarshal(m.Payload(), &r); err != nil {
			d.t.Errorf("reply on %s is not JSON: %v: %s", m.Topic(), err, m.Payload())
			return
		}
		d.mu.Lock()
		ch := d.waiters[r.ReqID]
		d.mu.Unlock()
		if ch == nil {
			d.t.Errorf("unexpected reply on %s: %s", m.Topic(), m.Payload())
			return
		}
		select {
		case ch <- append([]byte(nil), m.Payload()...):
		default:
			d.t.Errorf("too many replies for req_id %q", r.ReqID)
		}
		return
	}
	select {
	case d.other <- m:
	default:
	}
}

// expect registers for replies with reqID before the request goes out.
func (d *device) expect(reqID string) chan []byte {
	ch := make(chan []byte, 8)
	d.mu.Lock()
	d.waiters[reqID] = ch
	d.mu.Unlock()
	return ch
}

// payload is body's JSON object with req_id added.
func payload(t testing.TB, reqID string, body any) []byte {
	t.Helper()
	m := map[string]any{}
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
	}
	m["req_id"] = reqID
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// publish sends raw to the device's own {kind} topic at QoS 1.
func (d *device) publish(kind string, raw []byte) {
	d.t.Helper()
	d.publishTo(d.prefix+"/dev/"+d.id+"/"+kind, 1, raw)
}

func (d *device) publishTo(topic string, qos byte, raw []byte) {
	d.t.Helper()
	tok := d.c.Publish(topic, qos, false, raw)
	if !tok.WaitTimeout(10 * time.Second) {
		d.t.Fatalf("publish to %s timed out", topic)
	}
	if err := tok.Error(); err != nil {
		d.t.Fatalf("publish to %s: %v", topic, err)
	}
}

// wait returns the next reply on ch.
func (d *device) wait(ch chan []byte, what string) []byte {
	d.t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(10 * time.Second):
		d.t.Fatalf("device %s: no reply to %s within 10 s", d.id, what)
		return nil
	}
}

// request publishes raw on kind with reqID and returns the reply.
func (d *device) request(kind, reqID string, raw []byte) []byte {
	d.t.Helper()
	ch := d.expect(reqID)
	d.publish(kind, raw)
	return d.wait(ch, kind+" "+reqID)
}

// decode unmarshals a reply into v, failing on an error reply.
func decode(t testing.TB, reply []byte, v any) {
	t.Helper()
	var e errorReply
	if err := json.Unmarshal(reply, &e); err == nil && e.Error != nil {
		t.Fatalf("unexpected error reply: %s", reply)
	}
	if err := json.Unmarshal(reply, v); err != nil {
		t.Fatalf("reply %s: %v", reply, err)
	}
}

// decodeError unmarshals an error reply, failing on anything else.
func decodeError(t testing.TB, reply []byte) errorReply {
	t.Helper()
	var e errorReply
	if err := json.Unmarshal(reply, &e); err != nil || e.Error == nil {
		t.Fatalf("want an error reply, got %s (%v)", reply, err)
	}
	return e
}
