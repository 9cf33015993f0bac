package mqttbridge

import (
	"context"
	"crypto/subtle"
	"errors"
	"testing"
	"time"

	"shequ/internal/gate"
)

// tokens are the devices the embedded broker's Authenticate knows.
var tokens = map[string]string{
	"gate-a": "token-a-8f3k2",
	"gate-b": "token-b-77qpz",
}

func authenticate(_ context.Context, deviceID, token string) bool {
	want, ok := tokens[deviceID]
	return ok && subtle.ConstantTimeCompare([]byte(want), []byte(token)) == 1
}

// embeddedBridge starts a bridge with its own broker on a free port.
func embeddedBridge(t testing.TB, svc gate.Device) (b *Bridge, broker, prefix string) {
	t.Helper()
	cfg := Config{ListenAddr: "127.0.0.1:0", Prefix: uniqueName("shequtest"), Authenticate: authenticate}
	b = startBridge(t, cfg, svc)
	if b.Addr() == cfg.ListenAddr {
		t.Fatalf("Addr() = %s: no port picked", b.Addr())
	}
	return b, "tcp://" + b.Addr(), cfg.Prefix
}

func embeddedDevice(t testing.TB, broker, prefix, id string) *device {
	t.Helper()
	d, err := dialDevice(t, broker, prefix, id, deviceOpts{username: id, password: tokens[id]})
	if err != nil {
		t.Fatalf("device %s with the right token: %v", id, err)
	}
	return d
}

func TestEmbeddedAnswersAuthenticatedDevice(t *testing.T) {
	svc := &fakeService{}
	b, broker, prefix := embeddedBridge(t, svc)
	d := embeddedDevice(t, broker, prefix, "gate-a")
	checkRoundTrips(t, d, svc)
	checkBadRequests(t, d, svc)

	if err := b.Command("gate-a", map[string]any{"cmd": "open", "at": "2026-11-28T08:00:05Z"}); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-d.other:
		if m.Topic() != prefix+"/dev/gate-a/cmd" || string(m.Payload()) != `{"at":"2026-11-28T08:00:05Z","cmd":"open"}` {
			t.Errorf("got %s %s", m.Topic(), m.Payload())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the command did not reach the device")
	}
}

func TestEmbeddedRefusesBadCredentials(t *testing.T) {
	_, broker, prefix := embeddedBridge(t, &fakeService{})
	cases := []struct {
		name string
		id   string
		o    deviceOpts
	}{
		{"wrong token", "gate-a", deviceOpts{username: "gate-a", password: "token-b-77qpz"}},
		{"unknown device", "gate-z", deviceOpts{username: "gate-z", password: "anything"}},
		{"no credentials", "gate-a", deviceOpts{}},
		{"no password", "gate-a", deviceOpts{username: "gate-a"}},
		{"client id of another device", "gate-a", deviceOpts{username: "gate-a", password: tokens["gate-a"], clientID: "gate-b"}},
		{"client id of the bridge", "gate-a", deviceOpts{username: "gate-a", password: tokens["gate-a"], clientID: "inline"}},
		{"will on another device's topic", "gate-a", deviceOpts{username: "gate-a", password: tokens["gate-a"],
			willTopic: prefix + "/dev/gate-b/decide"}},
		{"wildcard in username", "gate-a", deviceOpts{username: "gate-+", password: tokens["gate-a"], clientID: "x"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := dialDevice(t, broker, prefix, c.id, c.o); err == nil {
				t.Fatal("connected")
			}
		})
	}
	// The right credentials, an assigned client id and a will on its own
	// topic are fine.
	d, err := dialDevice(t, broker, prefix, "gate-b", deviceOpts{username: "gate-b", password: tokens["gate-b"],
		willTopic: prefix + "/dev/gate-b/status", noSubscribe: true})
	if err != nil {
		t.Fatalf("gate-b: %v", err)
	}
	_ = d
}

// A device cannot publish to or subscribe to another device's topics.
func TestEmbeddedACL(t *testing.T) {
	svc := &fakeService{}
	b, broker, prefix := embeddedBridge(t, svc)
	a := embeddedDevice(t, broker, prefix, "gate-a")
	bDev := embeddedDevice(t, broker, prefix, "gate-b")

	// gate-a may not listen to gate-b's commands or everyone's replies.
	for _, f := range []string{prefix + "/dev/gate-b/cmd", prefix + "/dev/+/cmd", prefix + "/#", "#", "$share/g/" + prefix + "/dev/gate-b/cmd"} {
		if code, err := a.subscribe(f); err != nil || code != 0x80 {
			t.Errorf("subscribe %s: code %#x, %v; want refused (0x80)", f, code, err)
		}
	}

	// A forbidden publish (QoS 0, so the connection stays up), then a good
	// one as the positive control: once its answer is in and the bridge is
	// idle, the forbidden one would have been seen.
	forbidden := payload(t, "forged", gate.DecideRequest{EventID: "forged", Credential: gate.Credential{Kind: gate.CredCard, Value: "X"}})
	bReplies := bDev.expect("forged")
	a.publishTo(prefix+"/dev/gate-b/decide", 0, forbidden)
	a.request(KindDecide, "good", payload(t, "good", gate.DecideRequest{EventID: "good", Credential: gate.Credential{Kind: gate.CredCard, Value: "Y"}}))
	waitIdle(t, b)
	if calls := svc.forDevice("gate-b"); len(calls) != 0 {
		t.Errorf("the service saw %+v for gate-b", calls)
	}
	if calls := svc.forDevice("gate-a"); len(calls) != 1 || calls[0].Decide.EventID != "good" {
		t.Errorf("the service saw %+v for gate-a, want only the good request", calls)
	}
	if len(bReplies) != 0 {
		t.Errorf("gate-b got a reply to a request it did not make")
	}

	// At QoS 1 an MQTT 3.1.1 broker cannot refuse one message, so it
	// drops the connection.
	a.c.Publish(prefix+"/dev/gate-b/events", 1, false, []byte(`{"req_id":"forged-2","events":[]}`))
	select {
	case <-a.lost:
	case <-time.After(10 * time.Second):
		t.Error("a QoS 1 publish to another device's topic did not end the connection")
	}
	// gate-b is unaffected and still served.
	bDev.request(KindHeartbeat, "hb-b", payload(t, "hb-b", gate.Heartbeat{DeviceTime: deviceTime}))
	waitIdle(t, b)
	if calls := svc.forDevice("gate-b"); len(calls) != 1 || calls[0].Kind != KindHeartbeat {
		t.Errorf("the service saw %+v for gate-b, want only its heartbeat", calls)
	}
}

func TestEmbeddedNeedsAuthenticateAndAddr(t *testing.T) {
	if _, err := New(Config{ListenAddr: "127.0.0.1:0"}, &fakeService{}, nil); err == nil {
		t.Error("embedded broker without Authenticate accepted")
	}
	if _, err := New(Config{Authenticate: authenticate}, &fakeService{}, nil); err == nil {
		t.Error("embedded broker without ListenAddr accepted")
	}
	b, err := New(Config{ListenAddr: "256.0.0.1:1", Authenticate: authenticate}, &fakeService{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(t.Context()); err == nil {
		b.Close()
		t.Error("Start on an impossible address succeeded")
	}
}

func TestEmbeddedServiceErrorsReachDevice(t *testing.T) {
	svc := &fakeService{decide: func(context.Context, string, gate.DecideRequest) (gate.DecideResponse, error) {
		return gate.DecideResponse{}, errors.New("database is on fire")
	}}
	_, broker, prefix := embeddedBridge(t, svc)
	d := embeddedDevice(t, broker, prefix, "gate-a")
	e := decodeError(t, d.request(KindDecide, "x1", payload(t, "x1", gate.DecideRequest{})))
	if e.ReqID != "x1" || e.Error.Code != CodeInternal || e.Error.Message == "" {
		t.Errorf("got %+v %+v", e, e.Error)
	}
}

func BenchmarkDecideRoundTripEmbedded(b *testing.B) {
	_, broker, prefix := embeddedBridge(b, &fakeService{})
	d := embeddedDevice(b, broker, prefix, "gate-a")
	raw := payload(b, "bench", gate.DecideRequest{EventID: "ev-b", Credential: gate.Credential{Kind: gate.CredCard, Value: "A1B2C3D4"}})
	ch := d.expect("bench")
	for b.Loop() {
		d.publish(KindDecide, raw)
		d.wait(ch, "decide")
	}
}
