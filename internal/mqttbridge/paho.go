package mqttbridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// pahoTransport talks MQTT 3.1.1 to an external broker. The session is
// clean, so after every (re)connection the subscriptions are made again in
// the OnConnect handler.
type pahoTransport struct {
	cfg     *Config
	log     *slog.Logger
	client  paho.Client
	filters []string
	deliver deliverFunc

	ready     chan error // the first subscription's outcome
	readyOnce sync.Once
	stopping  atomic.Bool
	connects  atomic.Int64 // connections made, for tests
}

const subscribeTimeout = 10 * time.Second

func (t *pahoTransport) start(ctx context.Context, filters []string, deliver deliverFunc) error {
	t.filters, t.deliver = filters, deliver
	t.ready = make(chan error, 1)
	opts := paho.NewClientOptions().
		AddBroker(t.cfg.BrokerURL).
		SetClientID(t.cfg.ClientID).
		SetProtocolVersion(4). // MQTT 3.1.1
		SetCleanSession(true).
		SetResumeSubs(false).
		SetOrderMatters(true). // deliver never blocks
		SetAutoReconnect(true).
		SetMaxReconnectInterval(10 * time.Second).
		SetConnectTimeout(10 * time.Second).
		SetKeepAlive(30 * time.Second).
		SetPingTimeout(10 * time.Second).
		SetWriteTimeout(publishTimeout).
		SetOnConnectHandler(t.onConnect).
		SetConnectionLostHandler(func(_ paho.Client, err error) {
			t.log.Warn("mqtt connection lost, reconnecting", "err", err.Error())
		}).
		SetReconnectingHandler(func(paho.Client, *paho.ClientOptions) {
			t.log.Info("mqtt reconnecting")
		})
	if t.cfg.Username != "" {
		opts.SetUsername(t.cfg.Username)
	}
	if t.cfg.Password != "" {
		opts.SetPassword(t.cfg.Password)
	}
	if t.cfg.TLSConfig != nil {
		opts.SetTLSConfig(t.cfg.TLSConfig)
	}
	t.client = paho.NewClient(opts)

	tok := t.client.Connect()
	select {
	case <-tok.Done():
	case <-ctx.Done():
		t.stopping.Store(true)
		t.client.Disconnect(0)
		return fmt.Errorf("mqttbridge: connecting to %s: %w", redactURL(t.cfg.BrokerURL), ctx.Err())
	}
	if err := tok.Error(); err != nil {
		return fmt.Errorf("mqttbridge: connecting to %s: %w", redactURL(t.cfg.BrokerURL), err)
	}
	select {
	case err := <-t.ready:
		if err != nil {
			t.stopping.Store(true)
			t.client.Disconnect(0)
			return err
		}
		return nil
	case <-ctx.Done():
		t.stopping.Store(true)
		t.client.Disconnect(0)
		return fmt.Errorf("mqttbridge: subscribing: %w", ctx.Err())
	}
}

// onConnect runs (in its own goroutine) after every connection and
// subscribes; after a reconnection it retries until it succeeds or the
// connection drops again (the next connection retries then).
func (t *pahoTransport) onConnect(c paho.Client) {
	n := t.connects.Add(1)
	for attempt := 0; ; attempt++ {
		if t.stopping.Load() {
			return
		}
		err := t.subscribe(c)
		if err == nil {
			t.log.Info("mqtt subscribed", "filters", t.filters, "connection", n)
		} else {
			t.log.Error("mqtt subscribe failed", "err", err.Error(), "connection", n, "attempt", attempt)
		}
		first := false
		t.readyOnce.Do(func() { first = true; t.ready <- err })
		if err == nil || first || !c.IsConnectionOpen() {
			return
		}
		time.Sleep(2 * time.Second)
	}
}

func (t *pahoTransport) subscribe(c paho.Client) error {
	fs := make(map[string]byte, len(t.filters))
	for _, f := range t.filters {
		fs[f] = 1
	}
	tok := c.SubscribeMultiple(fs, t.onMessage)
	if !tok.WaitTimeout(subscribeTimeout) {
		return errors.New("mqttbridge: subscribe timed out")
	}
	if err := tok.Error(); err != nil {
		return fmt.Errorf("mqttbridge: subscribe: %w", err)
	}
	if st, ok := tok.(*paho.SubscribeToken); ok {
		for f, code := range st.Result() {
			if code > 2 {
				return fmt.Errorf("mqttbridge: the broker refused the subscription to %s (code %#x): check its ACL", f, code)
			}
		}
	}
	return nil
}

func (t *pahoTransport) onMessage(_ paho.Client, m paho.Message) {
	if m.Retained() {
		// A stored request replayed on subscription is stale: skip it.
		t.log.Debug("retained message ignored", "topic", m.Topic())
		return
	}
	t.deliver(m.Topic(), m.Payload(), "", false)
}

func (t *pahoTransport) publish(topic string, payload []byte) error {
	tok := t.client.Publish(topic, 1, false, payload)
	if !tok.WaitTimeout(publishTimeout) {
		return errors.New("publish timed out")
	}
	return tok.Error()
}

func (t *pahoTransport) unsubscribe() {
	t.stopping.Store(true)
	if t.client == nil || !t.client.IsConnectionOpen() {
		return
	}
	tok := t.client.Unsubscribe(t.filters...)
	if !tok.WaitTimeout(2 * time.Second) {
		t.log.Warn("mqtt unsubscribe timed out")
	}
}

func (t *pahoTransport) close() error {
	t.stopping.Store(true)
	if t.client != nil {
		t.client.Disconnect(250)
	}
	return nil
}

func (t *pahoTransport) addr() string { return redactURL(t.cfg.BrokerURL) }
