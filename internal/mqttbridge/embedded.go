package mqttbridge

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"
)

// embeddedTransport runs a mochi-mqtt broker for the single-box profile.
// The bridge is the broker's inline client: it subscribes and publishes
// in-process, bypassing the ACL that confines devices.
type embeddedTransport struct {
	cfg      *Config
	log      *slog.Logger
	base     context.Context
	srv      *mqtt.Server
	listener *listeners.TCP
	filters  []string

	closeOnce sync.Once
}

// maxPacketSize is what the embedded broker accepts at all: well above
// MaxPayload so that the bridge can answer an oversized request with an
// error instead of the broker dropping the connection.
func maxPacketSize(maxPayload int) uint32 {
	return uint32(max(4<<20, 2*maxPayload))
}

func (t *embeddedTransport) start(_ context.Context, filters []string, deliver deliverFunc) error {
	t.filters = filters
	caps := mqtt.NewDefaultServerCapabilities()
	caps.MaximumPacketSize = maxPacketSize(t.cfg.MaxPayload)
	caps.RetainAvailable = 0 // requests are not state; nothing to replay
	t.srv = mqtt.New(&mqtt.Options{
		InlineClient: true,
		Capabilities: caps,
		Logger:       slog.New(redactHandler{t.log.Handler()}),
	})
	hook := &deviceAuthHook{prefix: t.cfg.Prefix, authenticate: t.cfg.Authenticate, base: t.base}
	if err := t.srv.AddHook(hook, nil); err != nil {
		return fmt.Errorf("mqttbridge: %w", err)
	}
	t.listener = listeners.NewTCP(listeners.Config{Type: listeners.TypeTCP, ID: "shequ-devices",
		Address: t.cfg.ListenAddr, TLSConfig: t.cfg.TLSConfig})
	if err := t.srv.AddListener(t.listener); err != nil {
		return fmt.Errorf("mqttbridge: embedded broker on %s: %w", t.cfg.ListenAddr, err)
	}
	for i, f := range filters {
		err := t.srv.Subscribe(f, i+1, func(_ *mqtt.Client, _ packets.Subscription, pk packets.Packet) {
			// The ACL hook has checked the topic; check once more that the
			// sender is the device the topic names.
			origin := ""
			if cl, ok := t.srv.Clients.Get(pk.Origin); ok && !cl.Net.Inline {
				origin = string(cl.Properties.Username)
			}
			deliver(pk.TopicName, pk.Payload, origin, true)
		})
		if err != nil {
			return fmt.Errorf("mqttbridge: inline subscribe %s: %w", f, err)
		}
	}
	if err := t.srv.Serve(); err != nil {
		return fmt.Errorf("mqttbridge: embedded broker: %w", err)
	}
	return nil
}

func (t *embeddedTransport) publish(topic string, payload []byte) error {
	return t.srv.Publish(topic, payload, false, 1)
}

func (t *embeddedTransport) unsubscribe() {
	if t.srv == nil {
		return
	}
	for i, f := range t.filters {
		_ = t.srv.Unsubscribe(f, i+1)
	}
}

// close stops the broker (once: mochi's Close panics the second time).
func (t *embeddedTransport) close() error {
	var err error
	t.closeOnce.Do(func() {
		if t.srv != nil {
			err = t.srv.Close()
		}
	})
	return err
}

func (t *embeddedTransport) addr() string {
	if t.listener == nil {
		return t.cfg.ListenAddr
	}
	return t.listener.Address()
}

// deviceAuthHook admits a device whose MQTT username is its device id and
// password its token, and confines it to {prefix}/dev/{username}/….
type deviceAuthHook struct {
	mqtt.HookBase
	prefix       string
	authenticate func(ctx context.Context, deviceID, token string) bool
	base         context.Context
}

const authTimeout = 5 * time.Second

func (h *deviceAuthHook) ID() string { return "shequ-device-auth" }

func (h *deviceAuthHook) Provides(b byte) bool {
	return bytes.Contains([]byte{mqtt.OnConnectAuthenticate, mqtt.OnACLCheck}, []byte{b})
}

// OnConnectAuthenticate checks the credentials. The client id must be the
// device id (or empty, to have one assigned) so that no device can take
// over another's session, and a will message may only go to the device's
// own topics (mochi does not run wills through the ACL).
func (h *deviceAuthHook) OnConnectAuthenticate(cl *mqtt.Client, pk packets.Packet) bool {
	c := pk.Connect
	id := string(c.Username)
	if !c.UsernameFlag || !c.PasswordFlag || validDeviceID(id) != nil {
		h.Log.Info("mqtt device refused: no valid username and password", "remote", cl.Net.Remote)
		return false
	}
	if c.ClientIdentifier != "" && c.ClientIdentifier != id {
		h.Log.Info("mqtt device refused: client id is not the device id", "device", id, "client_id", c.ClientIdentifier)
		return false
	}
	if c.WillFlag && !h.own(id, c.WillTopic) {
		h.Log.Info("mqtt device refused: will topic outside its own", "device", id)
		return false
	}
	ctx, cancel := context.WithTimeout(h.base, authTimeout)
	defer cancel()
	if !h.authenticate(ctx, id, string(c.Password)) {
		h.Log.Info("mqtt device refused: bad credentials", "device", id, "remote", cl.Net.Remote)
		return false
	}
	return true
}

// OnACLCheck lets a device publish and subscribe only under its own
// {prefix}/dev/{deviceID}/ (a filter with wildcards above that level, or a
// shared subscription, is refused).
func (h *deviceAuthHook) OnACLCheck(cl *mqtt.Client, topic string, _ bool) bool {
	return h.own(string(cl.Properties.Username), topic)
}

func (h *deviceAuthHook) own(deviceID, topic string) bool {
	return validDeviceID(deviceID) == nil && strings.HasPrefix(topic, h.prefix+"/dev/"+deviceID+"/")
}

// redactHandler keeps mochi's packet dumps out of the logs: they hold
// payloads, and so personal data (face descriptors, card numbers).
type redactHandler struct{ slog.Handler }

func redactAttr(a slog.Attr) slog.Attr {
	switch a.Key {
	case "pk", "packet", "will":
		return slog.String(a.Key, "[redacted]")
	}
	return a
}

func (h redactHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(redactAttr(a))
		return true
	})
	return h.Handler.Handle(ctx, out)
}

func (h redactHandler) WithAttrs(as []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(as))
	for i, a := range as {
		red[i] = redactAttr(a)
	}
	return redactHandler{h.Handler.WithAttrs(red)}
}

func (h redactHandler) WithGroup(name string) slog.Handler {
	return redactHandler{h.Handler.WithGroup(name)}
}
