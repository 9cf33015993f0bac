package mqttbridge

import (
	"bytes"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"shequ/internal/gate"
)

// These tests run against the local Mosquitto (anonymous, no ACL), each
// under its own topic prefix so that parallel runs do not collide.

func externalBridge(t testing.TB, svc gate.Device, mod func(*Config)) (*Bridge, string, string) {
	t.Helper()
	url := mosquitto(t)
	cfg := Config{BrokerURL: url, Prefix: uniqueName("shequtest")}
	if mod != nil {
		mod(&cfg)
	}
	return startBridge(t, cfg, svc), url, cfg.Prefix
}

var deviceTime = time.Date(2026, 11, 28, 7, 59, 58, 0, time.UTC)

// checkRoundTrips drives every request kind from d and checks the replies
// and what the service saw.
func checkRoundTrips(t *testing.T, d *device, svc *fakeService) {
	t.Run("decide", func(t *testing.T) {
		req := gate.DecideRequest{EventID: "ev-1", Direction: "in", TemperatureC: 36.6, DeviceTime: deviceTime,
			Credential: gate.Credential{Kind: gate.CredFace, Descriptor: make([]float32, gate.DescriptorLen), Model: "face-api-1.7.15/resnet128"}}
		req.Credential.Descriptor[5] = 0.25
		reply := d.request(KindDecide, "r-decide", payload(t, "r-decide", req))
		var got struct {
			ReqID string `json:"req_id"`
			gate.DecideResponse
		}
		decode(t, reply, &got)
		want := gate.DecideResponse{DecisionID: "dec-ev-1", Outcome: "allow", Reason: "resident", Message: "欢迎回家",
			Person: "张*", PersonID: "p-1", Distance: 0.31, PolicyVersion: 3}
		if got.ReqID != "r-decide" || got.DecideResponse != want {
			t.Errorf("reply = %+v, want req_id r-decide and %+v", got, want)
		}
		if !bytes.HasPrefix(reply, []byte(`{"req_id":"r-decide",`)) {
			t.Errorf("req_id should come first: %s", reply)
		}
		calls := svc.forDevice(d.id)
		if len(calls) != 1 || calls[0].Kind != KindDecide || !reflect.DeepEqual(calls[0].Decide, req) {
			t.Errorf("service saw %+v, want one Decide(%s, %+v)", calls, d.id, req)
		}
	})
	t.Run("events", func(t *testing.T) {
		req := gate.EventsRequest{Events: []gate.PassEvent{
			{EventID: "ev-1", Outcome: "allow", Reason: "resident", DeviceTime: deviceTime, Direction: "in",
				Credential: gate.Credential{Kind: gate.CredCard, Value: "A1B2C3D4"}, Snapshot: []byte{0xff, 0xd8, 0xff}},
			{EventID: "ev-2", Outcome: "deny", Reason: "unknown", DeviceTime: deviceTime.Add(time.Second),
				Credential: gate.Credential{Kind: gate.CredPlate, Value: "京A12345"}},
		}}
		reply := d.request(KindEvents, "r-events", payload(t, "r-events", req))
		var got struct {
			ReqID string `json:"req_id"`
			gate.EventsResponse
		}
		decode(t, reply, &got)
		if got.ReqID != "r-events" || !reflect.DeepEqual(got.Accepted, []string{"ev-1", "ev-2"}) || got.Duplicates == nil {
			t.Errorf("reply = %s", reply)
		}
		calls := svc.forDevice(d.id)
		if last := calls[len(calls)-1]; last.Kind != KindEvents || !reflect.DeepEqual(last.Events, req) {
			t.Errorf("service saw %+v, want Ingest(%+v)", last, req)
		}
	})
	t.Run("heartbeat", func(t *testing.T) {
		hb := gate.Heartbeat{DeviceTime: deviceTime, Status: map[string]string{"door": "closed", "fw": "2.3.1"}}
		reply := d.request(KindHeartbeat, "r-hb", payload(t, "r-hb", hb))
		var got struct {
			ReqID string `json:"req_id"`
			gate.HeartbeatResponse
		}
		decode(t, reply, &got)
		if got.ReqID != "r-hb" || !got.ServerTime.Equal(serverTime) || !got.OpenNow {
			t.Errorf("reply = %s", reply)
		}
		calls := svc.forDevice(d.id)
		if last := calls[len(calls)-1]; last.Kind != KindHeartbeat || !reflect.DeepEqual(last.Heartbeat, hb) {
			t.Errorf("service saw %+v, want Heartbeat(%+v)", last, hb)
		}
	})
	t.Run("sync", func(t *testing.T) {
		reply := d.request(KindSync, "r-sync", []byte(`{"req_id":"r-sync","cursor":41,"limit":500}`))
		var got struct {
			ReqID string `json:"req_id"`
			gate.SyncResponse
		}
		decode(t, reply, &got)
		if got.ReqID != "r-sync" || got.Cursor != 42 || !got.More || len(got.Changes) != 1 || got.Changes[0].Credential.Value != "A1B2C3D4" {
			t.Errorf("reply = %s", reply)
		}
		calls := svc.forDevice(d.id)
		if last := calls[len(calls)-1]; last.Kind != KindSync || last.Cursor != 41 || last.Limit != 500 {
			t.Errorf("service saw %+v, want Sync(41, 500)", last)
		}
	})
}

// checkBadRequests sends requests the bridge must refuse without calling
// the service.
func checkBadRequests(t *testing.T, d *device, svc *fakeService) {
	before := len(svc.forDevice(d.id))
	cases := []struct {
		name, kind, reqID string
		raw               []byte
		code              string
	}{
		{"truncated JSON", KindDecide, "bad-1", []byte(`{"req_id":"bad-1","credential":{"kind":"card",`), CodeInvalid},
		{"not JSON", KindEvents, "", []byte(`hello`), CodeInvalid},
		{"wrong type", KindSync, "bad-3", []byte(`{"req_id":"bad-3","cursor":"forty"}`), CodeInvalid},
		{"bad time", KindHeartbeat, "bad-4", []byte(`{"req_id":"bad-4","device_time":"yesterday"}`), CodeInvalid},
		{"empty", KindDecide, "", nil, CodeInvalid},
		{"over 1 MiB", KindEvents, "big-1", append([]byte(`{"req_id":"big-1","events":[{"event_id":"`),
			append(bytes.Repeat([]byte("x"), 1<<20), `"}]}`...)...), CodeTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := decodeError(t, d.request(c.kind, c.reqID, c.raw))
			if e.ReqID != c.reqID || e.Error.Code != c.code || e.Error.Message == "" {
				t.Errorf("reply = %+v %+v, want req_id %q code %q", e, e.Error, c.reqID, c.code)
			}
		})
	}
	if after := len(svc.forDevice(d.id)); after != before {
		t.Errorf("the service was called %d times for bad requests", after-before)
	}
}

func TestMosquittoRoundTrips(t *testing.T) {
	svc := &fakeService{}
	_, url, prefix := externalBridge(t, svc, nil)
	d := newDevice(t, url, prefix, "gate-7")
	checkRoundTrips(t, d, svc)
}

func TestMosquittoBadRequests(t *testing.T) {
	svc := &fakeService{}
	_, url, prefix := externalBridge(t, svc, nil)
	d := newDevice(t, url, prefix, "gate-8")
	checkBadRequests(t, d, svc)
}

func TestMosquittoCommand(t *testing.T) {
	b, url, prefix := externalBridge(t, &fakeService{}, nil)
	d := newDevice(t, url, prefix, "gate-9")
	at := time.Date(2026, 11, 28, 8, 0, 5, 0, time.UTC)
	if err := b.Command("gate-9", map[string]any{"cmd": "open", "at": at}); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-d.other:
		if m.Topic() != prefix+"/dev/gate-9/cmd" || string(m.Payload()) != `{"at":"2026-11-28T08:00:05Z","cmd":"open"}` || m.Qos() != 1 {
			t.Errorf("got %s %s qos %d", m.Topic(), m.Payload(), m.Qos())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the command did not reach the device")
	}
	if err := b.Command("gate/9", []byte(`{}`)); err == nil {
		t.Error("a device id with '/' was accepted")
	}
	if err := b.Command("gate-9", []byte(`{oops`)); err == nil {
		t.Error("invalid JSON was accepted")
	}
}

// The service deduplicates events, not the bridge: a batch sent twice (a
// device retry) is passed on and answered twice.
func TestMosquittoEventsRetried(t *testing.T) {
	svc := &fakeService{}
	_, url, prefix := externalBridge(t, svc, nil)
	d := newDevice(t, url, prefix, "gate-10")
	raw := payload(t, "r-retry", gate.EventsRequest{Events: []gate.PassEvent{{EventID: "ev-9", Outcome: "allow", DeviceTime: deviceTime,
		Credential: gate.Credential{Kind: gate.CredQR, Value: "QR1"}}}})
	ch := d.expect("r-retry")
	d.publish(KindEvents, raw)
	d.publish(KindEvents, raw)
	for i := range 2 {
		var got struct {
			ReqID string `json:"req_id"`
			gate.EventsResponse
		}
		decode(t, d.wait(ch, fmt.Sprintf("events copy %d", i+1)), &got)
		if !reflect.DeepEqual(got.Accepted, []string{"ev-9"}) {
			t.Errorf("reply %d: %+v", i+1, got)
		}
	}
	calls := svc.forDevice("gate-10")
	if len(calls) != 2 || calls[0].Events.Events[0].EventID != "ev-9" || calls[1].Events.Events[0].EventID != "ev-9" {
		t.Errorf("service saw %+v, want the batch twice", calls)
	}
}

// Two instances in one shared group answer each request exactly once.
func TestMosquittoSharedGroup(t *testing.T) {
	url := mosquitto(t)
	prefix := uniqueName("shequtest")
	svc1, svc2 := &fakeService{}, &fakeService{}
	cfg := Config{BrokerURL: url, Prefix: prefix, SharedGroup: "shequ"}
	startBridge(t, cfg, svc1)
	startBridge(t, cfg, svc2)
	d := newDevice(t, url, prefix, "gate-11")
	const n = 20
	chans := make([]chan []byte, n)
	for i := range n {
		id := fmt.Sprintf("s-%d", i)
		chans[i] = d.expect(id)
		d.publish(KindHeartbeat, payload(t, id, gate.Heartbeat{DeviceTime: deviceTime}))
	}
	for i := range n {
		d.wait(chans[i], fmt.Sprintf("heartbeat %d", i))
	}
	n1, n2 := len(svc1.all()), len(svc2.all())
	if n1+n2 != n {
		t.Fatalf("instances handled %d + %d requests, want %d in all", n1, n2, n)
	}
	t.Logf("split: %d / %d", n1, n2)
	// No second reply to any request.
	time.Sleep(200 * time.Millisecond)
	for i := range n {
		if len(chans[i]) != 0 {
			t.Errorf("request %d was answered twice", i)
		}
	}
}

// After the broker drops the bridge's connection, it reconnects and
// subscribes again by itself.
func TestMosquittoReconnects(t *testing.T) {
	svc := &fakeService{}
	b, url, prefix := externalBridge(t, svc, nil)
	d := newDevice(t, url, prefix, "gate-12")
	d.request(KindHeartbeat, "before", payload(t, "before", gate.Heartbeat{DeviceTime: deviceTime}))

	// A client with the bridge's id takes its session over: Mosquitto
	// disconnects the bridge.
	thief := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID(b.cfg.ClientID).SetAutoReconnect(false))
	if tok := thief.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("thief connect: %v", tok.Error())
	}
	thief.Disconnect(0)

	tr := b.tr.(*pahoTransport)
	deadline := time.Now().Add(30 * time.Second)
	for tr.connects.Load() < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the bridge did not reconnect within 30 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Requests may be lost while the subscription is being made again: a
	// device retries until answered.
	for i := 0; ; i++ {
		id := fmt.Sprintf("after-%d", i)
		ch := d.expect(id)
		d.publish(KindHeartbeat, payload(t, id, gate.Heartbeat{DeviceTime: deviceTime}))
		select {
		case <-ch:
			return
		case <-time.After(500 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("no answer after reconnecting")
		}
	}
}

func TestStartFailsWithoutBroker(t *testing.T) {
	b, err := New(Config{BrokerURL: "tcp://127.0.0.1:1", ClientID: uniqueName("x")}, &fakeService{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(t.Context()); err == nil {
		b.Close()
		t.Fatal("Start succeeded with no broker")
	}
	if err := b.Command("gate-1", []byte(`{}`)); err != ErrClosed {
		t.Errorf("Command after a failed Start: %v", err)
	}
}

func BenchmarkDecideRoundTrip(b *testing.B) {
	svc := &fakeService{}
	_, url, prefix := externalBridge(b, svc, nil)
	d := newDevice(b, url, prefix, "gate-bench")
	req := gate.DecideRequest{EventID: "ev-b", Credential: gate.Credential{Kind: gate.CredFace,
		Descriptor: make([]float32, gate.DescriptorLen), Model: "face-api-1.7.15/resnet128"}, DeviceTime: deviceTime}
	for i := range req.Credential.Descriptor {
		req.Credential.Descriptor[i] = float32(i) / 1000
	}
	raw := payload(b, "bench", req)
	ch := d.expect("bench")
	for b.Loop() {
		d.publish(KindDecide, raw)
		d.wait(ch, "decide")
	}
}

// BenchmarkDecideRoundTripParallel measures throughput with several
// devices in flight at once.
func BenchmarkDecideRoundTripParallel(b *testing.B) {
	svc := &fakeService{}
	_, url, prefix := externalBridge(b, svc, nil)
	req := gate.DecideRequest{EventID: "ev-b", Credential: gate.Credential{Kind: gate.CredCard, Value: "A1B2C3D4"}}
	var n atomic.Int64
	var mu sync.Mutex
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		mu.Lock()
		d := newDevice(b, url, prefix, fmt.Sprintf("gate-p%d", n.Add(1)))
		mu.Unlock()
		raw := payload(b, "bench", req)
		ch := d.expect("bench")
		for pb.Next() {
			d.publish(KindDecide, raw)
			d.wait(ch, "decide")
		}
	})
}

func TestMosquittoCommandBeforeStartAndAfterClose(t *testing.T) {
	url := mosquitto(t)
	b, err := New(Config{BrokerURL: url, Prefix: uniqueName("shequtest")}, &fakeService{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Command("gate-1", map[string]string{"cmd": "open"}); err != ErrNotStarted {
		t.Errorf("before Start: %v", err)
	}
	if err := b.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Command("gate-1", map[string]string{"cmd": "open"}); err != ErrClosed {
		t.Errorf("after Close: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
