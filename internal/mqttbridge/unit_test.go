package mqttbridge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"shequ/internal/errs"
	"shequ/internal/gate"
)

// fakeTransport stands in for the broker: tests deliver messages by hand
// and read what the bridge publishes.
type fakeTransport struct {
	deliver deliverFunc
	out     chan published
}

type published struct {
	topic   string
	payload []byte
}

func (f *fakeTransport) start(_ context.Context, _ []string, d deliverFunc) error {
	f.deliver = d
	return nil
}

func (f *fakeTransport) publish(topic string, p []byte) error {
	f.out <- published{topic, bytes.Clone(p)}
	return nil
}

func (f *fakeTransport) unsubscribe() {}
func (f *fakeTransport) close() error { return nil }
func (f *fakeTransport) addr() string { return "fake" }
func (f *fakeTransport) next(t *testing.T) published {
	t.Helper()
	select {
	case p := <-f.out:
		return p
	case <-time.After(5 * time.Second):
		t.Fatal("nothing published within 5 s")
		return published{}
	}
}

func fakeBridge(t *testing.T, cfg Config, svc gate.Device) (*Bridge, *fakeTransport) {
	t.Helper()
	cfg.BrokerURL = "tcp://fake"
	b, err := New(cfg, svc, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	ft := &fakeTransport{out: make(chan published, 256)}
	b.tr = ft
	if err := b.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b, ft
}

func decideFrom(ft *fakeTransport, device, reqID string) {
	ft.deliver("shequ/dev/"+device+"/decide", []byte(`{"req_id":"`+reqID+`","credential":{"kind":"card","value":"A1"}}`), "", false)
}

func TestServiceErrorsBecomeErrorReplies(t *testing.T) {
	cases := []struct {
		name     string
		lang     string
		decide   func(context.Context, string, gate.DecideRequest) (gate.DecideResponse, error)
		code     string
		message  string
		contains string
	}{
		{name: "application error in Chinese", decide: func(context.Context, string, gate.DecideRequest) (gate.DecideResponse, error) {
			return gate.DecideResponse{}, errs.E(errs.NotFound, "err.not_found")
		}, code: "not_found", message: "找不到该记录。"},
		{name: "application error in English", lang: "en", decide: func(context.Context, string, gate.DecideRequest) (gate.DecideResponse, error) {
			return gate.DecideResponse{}, fmt.Errorf("wrapped: %w", errs.E(errs.Forbidden, "err.forbidden"))
		}, code: "forbidden", contains: "not allowed"},
		{name: "internal error stays generic", decide: func(context.Context, string, gate.DecideRequest) (gate.DecideResponse, error) {
			return gate.DecideResponse{}, errors.New("pq: password authentication failed for user root")
		}, code: CodeInternal, contains: "系统出错"},
		{name: "panic", decide: func(context.Context, string, gate.DecideRequest) (gate.DecideResponse, error) {
			panic("boom")
		}, code: CodeInternal},
		{name: "unencodable response", decide: func(context.Context, string, gate.DecideRequest) (gate.DecideResponse, error) {
			return gate.DecideResponse{Distance: math.NaN()}, nil
		}, code: CodeInternal},
		{name: "service timeout", decide: func(ctx context.Context, _ string, _ gate.DecideRequest) (gate.DecideResponse, error) {
			<-ctx.Done()
			return gate.DecideResponse{}, ctx.Err()
		}, code: CodeUnavailable},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, ft := fakeBridge(t, Config{Lang: c.lang, RequestTimeout: 100 * time.Millisecond}, &fakeService{decide: c.decide})
			decideFrom(ft, "gate-1", "q1")
			p := ft.next(t)
			if p.topic != "shequ/dev/gate-1/decide/reply" {
				t.Errorf("topic %s", p.topic)
			}
			var e errorReply
			if err := json.Unmarshal(p.payload, &e); err != nil || e.Error == nil {
				t.Fatalf("reply %s", p.payload)
			}
			if e.ReqID != "q1" || e.Error.Code != c.code || (c.message != "" && e.Error.Message != c.message) ||
				!strings.Contains(e.Error.Message, c.contains) || e.Error.Message == "" {
				t.Errorf("reply %s", p.payload)
			}
			if strings.Contains(string(p.payload), "password") {
				t.Errorf("an internal error leaked: %s", p.payload)
			}
		})
	}
}

// With every worker busy and the queue full, a request is refused at once
// with "unavailable" rather than held.
func TestBusyBridgeRefuses(t *testing.T) {
	release := make(chan struct{})
	svc := &fakeService{decide: func(ctx context.Context, _ string, req gate.DecideRequest) (gate.DecideResponse, error) {
		<-release
		return gate.DecideResponse{DecisionID: "ok"}, nil
	}}
	b, ft := fakeBridge(t, Config{Workers: 1, RequestTimeout: time.Minute}, svc)
	decideFrom(ft, "gate-1", "first")
	for len(svc.all()) == 0 { // the only worker is now in the service
		time.Sleep(time.Millisecond)
	}
	queue := cap(b.jobs)
	for i := range queue {
		decideFrom(ft, "gate-1", fmt.Sprintf("queued-%d", i))
	}
	decideFrom(ft, "gate-1", "one-too-many")
	p := ft.next(t)
	if !bytes.Contains(p.payload, []byte(`"req_id":"one-too-many","error":{"code":"unavailable"`)) {
		t.Fatalf("first reply %s, want one-too-many refused", p.payload)
	}
	close(release)
	for range queue + 1 {
		if p := ft.next(t); bytes.Contains(p.payload, []byte(`"error"`)) {
			t.Errorf("unexpected error reply %s", p.payload)
		}
	}
	waitIdle(t, b)
}

// A request that waited in the queue past its timeout is answered without
// calling the service.
func TestExpiredInQueue(t *testing.T) {
	svc := &fakeService{decide: func(context.Context, string, gate.DecideRequest) (gate.DecideResponse, error) {
		time.Sleep(200 * time.Millisecond)
		return gate.DecideResponse{}, nil
	}}
	_, ft := fakeBridge(t, Config{Workers: 1, RequestTimeout: 100 * time.Millisecond}, svc)
	decideFrom(ft, "gate-1", "slow")
	decideFrom(ft, "gate-1", "late")
	ft.next(t)
	p := ft.next(t)
	if !bytes.Contains(p.payload, []byte(`"req_id":"late","error":{"code":"unavailable"`)) {
		t.Errorf("reply %s", p.payload)
	}
	if n := len(svc.all()); n != 1 {
		t.Errorf("service called %d times, want 1", n)
	}
}

func TestOriginMustMatchTopic(t *testing.T) {
	svc := &fakeService{}
	b, ft := fakeBridge(t, Config{}, svc)
	raw := []byte(`{"req_id":"o1","device_time":"2026-11-28T08:00:00Z"}`)
	ft.deliver("shequ/dev/gate-2/heartbeat", raw, "gate-1", true)
	ft.deliver("shequ/dev/gate-2/heartbeat", raw, "", true)
	ft.deliver("shequ/dev/gate-1/heartbeat", raw, "gate-1", true)
	if p := ft.next(t); p.topic != "shequ/dev/gate-1/heartbeat/reply" {
		t.Errorf("reply on %s", p.topic)
	}
	waitIdle(t, b)
	if calls := svc.all(); len(calls) != 1 || calls[0].DeviceID != "gate-1" {
		t.Errorf("service saw %+v", calls)
	}
}

func TestCloseAnswersWhatIsInHand(t *testing.T) {
	svc := &fakeService{decide: func(context.Context, string, gate.DecideRequest) (gate.DecideResponse, error) {
		time.Sleep(50 * time.Millisecond)
		return gate.DecideResponse{DecisionID: "d"}, nil
	}}
	b, ft := fakeBridge(t, Config{Workers: 2}, svc)
	for i := range 5 {
		decideFrom(ft, "gate-1", fmt.Sprint(i))
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if len(ft.out) != 5 {
		t.Errorf("%d replies before Close returned, want 5", len(ft.out))
	}
	decideFrom(ft, "gate-1", "after") // ignored
	if b.pending.Load() != 0 || len(ft.out) != 5 {
		t.Error("a request after Close was taken")
	}
}

func TestEmptyListsAreArrays(t *testing.T) {
	_, ft := fakeBridge(t, Config{}, &fakeService{})
	ft.deliver("shequ/dev/gate-1/events", []byte(`{"req_id":"e","events":[]}`), "", false)
	if p := ft.next(t); string(p.payload) != `{"req_id":"e","accepted":[],"duplicates":[]}` {
		t.Errorf("reply %s", p.payload)
	}
}

func TestCommandPayloads(t *testing.T) {
	b, ft := fakeBridge(t, Config{MaxPayload: 100}, &fakeService{})
	for _, c := range []struct {
		in   any
		want string
	}{
		{[]byte(`{"cmd":"open"}`), `{"cmd":"open"}`},
		{json.RawMessage(`{"cmd":"reboot"}`), `{"cmd":"reboot"}`},
		{struct {
			Cmd string    `json:"cmd"`
			At  time.Time `json:"at"`
		}{"open", time.Date(2026, 11, 28, 8, 0, 0, 0, time.UTC)}, `{"cmd":"open","at":"2026-11-28T08:00:00Z"}`},
	} {
		if err := b.Command("gate-1", c.in); err != nil {
			t.Fatal(err)
		}
		if p := ft.next(t); p.topic != "shequ/dev/gate-1/cmd" || string(p.payload) != c.want {
			t.Errorf("published %s %s, want %s", p.topic, p.payload, c.want)
		}
	}
	if err := b.Command("gate-1", map[string]string{"x": strings.Repeat("y", 100)}); err == nil {
		t.Error("an oversized command was sent")
	}
	if err := b.Command("", []byte(`{}`)); err == nil {
		t.Error("a command without a device id was sent")
	}
	if err := b.Command("gate-1", func() {}); err == nil {
		t.Error("an unmarshalable command was sent")
	}
	if err := b.Command("gate-1", "open"); err == nil {
		t.Error("a command that is not a JSON object was sent")
	}
	if got := redactURL("tcp://bridge:s3cret@10.0.0.5:1883"); strings.Contains(got, "s3cret") {
		t.Errorf("redactURL kept the password: %s", got)
	}
}

func TestParseTopic(t *testing.T) {
	b, err := New(Config{BrokerURL: "tcp://x", Prefix: "acme/shequ"}, &fakeService{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for topic, want := range map[string]string{
		"acme/shequ/dev/gate-1/decide":       "gate-1 decide",
		"acme/shequ/dev/门岗-东/events":         "门岗-东 events",
		"acme/shequ/dev/gate-1/sync":         "gate-1 sync",
		"acme/shequ/dev/gate-1/heartbeat":    "gate-1 heartbeat",
		"acme/shequ/dev/gate-1/decide/reply": "",
		"acme/shequ/dev/gate-1/cmd":          "",
		"acme/shequ/dev//decide":             "",
		"shequ/dev/gate-1/decide":            "",
		"acme/shequ/devx/gate-1/decide":      "",
	} {
		id, kind, ok := b.parseTopic(topic)
		got := ""
		if ok {
			got = id + " " + kind
		}
		if got != want {
			t.Errorf("parseTopic(%q) = %q, want %q", topic, got, want)
		}
	}
}

func TestNewChecksConfig(t *testing.T) {
	svc := &fakeService{}
	if _, err := New(Config{BrokerURL: "tcp://x"}, nil, nil); err == nil {
		t.Error("nil service accepted")
	}
	for _, p := range []string{"a/#", "a/+/b", "$SYS", "/a", "a/", "a//b"} {
		if _, err := New(Config{BrokerURL: "tcp://x", Prefix: p}, svc, nil); err == nil {
			t.Errorf("prefix %q accepted", p)
		}
	}
	if _, err := New(Config{BrokerURL: "tcp://x", SharedGroup: "a/b"}, svc, nil); err == nil {
		t.Error("shared group with '/' accepted")
	}
	b, err := New(Config{BrokerURL: "tcp://x", SharedGroup: "shequ"}, svc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if b.cfg.Prefix != "shequ" || !strings.HasPrefix(b.cfg.ClientID, "shequ-bridge-") || len(b.cfg.ClientID) != len("shequ-bridge-")+10 ||
		b.cfg.Workers != 64 || b.cfg.RequestTimeout != 5*time.Second || b.cfg.MaxPayload != 1<<20 {
		t.Errorf("defaults: %+v", b.cfg)
	}
	want := []string{"$share/shequ/shequ/dev/+/decide", "$share/shequ/shequ/dev/+/events",
		"$share/shequ/shequ/dev/+/heartbeat", "$share/shequ/shequ/dev/+/sync"}
	if fmt.Sprint(b.filters) != fmt.Sprint(want) {
		t.Errorf("filters %v, want %v", b.filters, want)
	}
	b2, _ := New(Config{BrokerURL: "tcp://x"}, svc, nil)
	if b2.cfg.ClientID == b.cfg.ClientID || b2.filters[0] != "shequ/dev/+/decide" {
		t.Errorf("second bridge: id %s, filters %v", b2.cfg.ClientID, b2.filters)
	}
}

func TestScanReqID(t *testing.T) {
	for in, want := range map[string]string{
		`{"req_id":"a1","x":`: "a1",
		`{"credential":{"kind":"card","v":[1,{"req_id":"inner"}]},"req_id":"a2"`: "a2",
		`{"events":[{"event_id":"e"}],"req_id":"a3"}`:                            "a3",
		`{"req_id":7}`:     "",
		`{"x":1,"req_id"`:  "",
		`["req_id","a"]`:   "",
		`not json`:         "",
		``:                 "",
		`{"x":"y"}`:        "",
		`{"req_id":"中文-1"`: "中文-1",
	} {
		if got := scanReqID([]byte(in)); got != want {
			t.Errorf("scanReqID(%s) = %q, want %q", in, got, want)
		}
	}
}

func TestEncodeReply(t *testing.T) {
	for _, c := range []struct {
		resp any
		err  *wireError
		want string
	}{
		{gate.HeartbeatResponse{ServerTime: serverTime}, nil, `{"req_id":"r","server_time":"2026-11-28T08:00:00Z"}`},
		{struct{}{}, nil, `{"req_id":"r"}`},
		{nil, &wireError{Code: "invalid", Message: "m"}, `{"req_id":"r","error":{"code":"invalid","message":"m"}}`},
	} {
		got, err := encodeReply("r", c.resp, c.err)
		if err != nil || string(got) != c.want {
			t.Errorf("encodeReply(%v) = %s, %v; want %s", c.resp, got, err, c.want)
		}
	}
	if _, err := encodeReply("r", []int{1}, nil); err == nil {
		t.Error("a non-object response was encoded")
	}
}

func TestDeviceAuthHook(t *testing.T) {
	var seen []string
	h := &deviceAuthHook{prefix: "shequ", base: context.Background(),
		authenticate: func(_ context.Context, id, token string) bool {
			seen = append(seen, id)
			return id == "gate-a" && token == "tok"
		}}
	h.SetOpts(slog.New(slog.DiscardHandler), nil)
	cl := &mqtt.Client{}
	connect := func(user, pass, clientID, will string) bool {
		var pk packets.Packet
		pk.Connect.UsernameFlag, pk.Connect.Username = user != "", []byte(user)
		pk.Connect.PasswordFlag, pk.Connect.Password = pass != "", []byte(pass)
		pk.Connect.ClientIdentifier = clientID
		pk.Connect.WillFlag, pk.Connect.WillTopic = will != "", will
		return h.OnConnectAuthenticate(cl, pk)
	}
	if !connect("gate-a", "tok", "gate-a", "") || !connect("gate-a", "tok", "", "shequ/dev/gate-a/status") {
		t.Error("good credentials refused")
	}
	for _, c := range [][4]string{
		{"gate-a", "bad", "gate-a", ""}, {"gate-a", "", "gate-a", ""}, {"", "tok", "", ""},
		{"gate-a", "tok", "gate-b", ""}, {"gate-a", "tok", "gate-a", "shequ/dev/gate-b/decide"},
		{"gate/a", "tok", "", ""}, {"gate-#", "tok", "", ""},
	} {
		if connect(c[0], c[1], c[2], c[3]) {
			t.Errorf("connect %q accepted", c)
		}
	}
	if fmt.Sprint(seen) != "[gate-a gate-a gate-a]" {
		t.Errorf("Authenticate was asked about %v: refusals before it should not reach it", seen)
	}

	cl.Properties.Username = []byte("gate-a")
	for topic, want := range map[string]bool{
		"shequ/dev/gate-a/decide":       true,
		"shequ/dev/gate-a/decide/reply": true,
		"shequ/dev/gate-a/#":            true,
		"shequ/dev/gate-a/+/reply":      true,
		"shequ/dev/gate-ab/decide":      false,
		"shequ/dev/gate-a":              false,
		"shequ/dev/gate-b/decide":       false,
		"shequ/dev/+/decide":            false,
		"shequ/#":                       false,
		"#":                             false,
		"other/dev/gate-a/decide":       false,
		"$SYS/broker/clients":           false,
	} {
		for _, write := range []bool{false, true} {
			if got := h.OnACLCheck(cl, topic, write); got != want {
				t.Errorf("ACL(gate-a, %s, write=%v) = %v", topic, write, got)
			}
		}
	}
	cl.Properties.Username = nil
	if h.OnACLCheck(cl, "shequ/dev//decide", true) {
		t.Error("a client without a username passed the ACL")
	}
}

func TestRedactHandler(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(redactHandler{slog.NewTextHandler(&buf, nil)})
	log.With("packet", "secret-1").Warn("x", "pk", "secret-2", "client", "gate-a")
	if s := buf.String(); strings.Contains(s, "secret") || !strings.Contains(s, "client=gate-a") {
		t.Errorf("log: %s", s)
	}
}
