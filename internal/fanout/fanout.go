// Package fanout carries news between the shequ processes that share one
// PostgreSQL database, over LISTEN/NOTIFY: an alarm raised through one
// instance reaches the live pages (server-sent events) of every other.
//
// A Relay holds two connections of its own: one LISTENs and reconnects,
// with a growing pause, whenever it is cut (a database restart); the other
// sends. Sending never blocks the caller: messages queue in memory and are
// dropped, with a warning, when the queue is full. Each message carries the
// sending relay's origin, and a relay ignores its own messages, so the
// process that raised an alarm (which delivered it to its own pages at once)
// does not deliver it twice. Messages sent while a listener is cut off are
// not replayed: the pages show those alarms from the database when loaded.
//
// The channel is named after the connection's schema, so databases that
// share a server through schemas (the tests) do not hear each other.
// On SQLite there is one process and New returns nil; a nil *Relay does
// nothing.
package fanout

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"shequ/internal/config"
)

// MaxPayload is the largest message PostgreSQL accepts (8000 bytes) less
// room for the envelope.
const MaxPayload = 7900

// Application names of the relay's connections (pg_stat_activity).
const (
	listenApp = "shequ fanout listen"
	sendApp   = "shequ fanout send"
)

// Relay sends and receives messages on one channel of one database.
type Relay struct {
	dsn     string
	log     *slog.Logger
	origin  string
	channel string

	mu       sync.RWMutex
	handlers map[string]func([]byte)

	out     chan []byte
	dropped atomic.Int64
	started atomic.Bool
}

// envelope is what travels in a notification.
type envelope struct {
	Origin string          `json:"o"`
	Topic  string          `json:"t"`
	Data   json.RawMessage `json:"d"`
}

// New makes a relay for the database named by dsn (a SHEQU_DB value);
// nil on SQLite, where there is one process. Register handlers, then Start.
func New(dsn string, log *slog.Logger) (*Relay, error) {
	d, err := config.DialectOf(dsn)
	if err != nil {
		return nil, err
	}
	if d != "postgres" {
		return nil, nil
	}
	var b [8]byte
	rand.Read(b[:])
	return &Relay{dsn: dsn, log: log, origin: hex.EncodeToString(b[:]), handlers: map[string]func([]byte){}, out: make(chan []byte, 1024)}, nil
}

// Handle sets what is done with messages of topic from other processes;
// fn runs on the listener's goroutine and must not block for long.
func (r *Relay) Handle(topic string, fn func(data []byte)) {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.handlers[topic] = fn
	r.mu.Unlock()
}

// Channel is the notification channel (empty before Start).
func (r *Relay) Channel() string {
	if r == nil {
		return ""
	}
	return r.channel
}

// Start connects the listener, and returns once it listens (so nothing
// sent after Start returns is missed), then keeps listening and sending
// until ctx ends.
func (r *Relay) Start(ctx context.Context) error {
	if r == nil {
		return nil
	}
	if !r.started.CompareAndSwap(false, true) {
		return errors.New("fanout: relay already started")
	}
	conn, err := r.listen(ctx)
	if err != nil {
		return err
	}
	go r.receive(ctx, conn)
	go r.send(ctx)
	return nil
}

// Send queues a message of topic for the other processes; it never blocks.
func (r *Relay) Send(topic string, v any) {
	if r == nil {
		return
	}
	data, err := json.Marshal(v)
	if err != nil {
		r.log.Error("fanout: message not encoded", "topic", topic, "err", err.Error())
		return
	}
	b, _ := json.Marshal(envelope{Origin: r.origin, Topic: topic, Data: data})
	if len(b) > MaxPayload {
		r.log.Error("fanout: message too large, not sent", "topic", topic, "bytes", len(b))
		return
	}
	select {
	case r.out <- b:
	default:
		if n := r.dropped.Add(1); n == 1 || n%1000 == 0 {
			r.log.Warn("fanout: send queue full, messages dropped", "dropped", n)
		}
	}
}

func (r *Relay) connect(ctx context.Context, app string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(r.dsn)
	if err != nil {
		return nil, err
	}
	cfg.RuntimeParams["application_name"] = app
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return pgx.ConnectConfig(cctx, cfg)
}

// listen opens the listening connection; the first one also names the
// channel after the schema.
func (r *Relay) listen(ctx context.Context) (*pgx.Conn, error) {
	conn, err := r.connect(ctx, listenApp)
	if err != nil {
		return nil, fmt.Errorf("fanout: %w", err)
	}
	if r.channel == "" {
		var schema string
		if err := conn.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
			conn.Close(ctx)
			return nil, fmt.Errorf("fanout: %w", err)
		}
		r.channel = channelFor(schema)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{r.channel}.Sanitize()); err != nil {
		conn.Close(ctx)
		return nil, fmt.Errorf("fanout: %w", err)
	}
	return conn, nil
}

// channelFor names the channel of a schema (at most 63 bytes, PostgreSQL's
// limit on identifiers).
func channelFor(schema string) string {
	c := "shequ:" + schema
	if len(c) > 63 {
		c = c[:63]
	}
	return c
}

// receive hands each message from another process to its topic's handler,
// reconnecting when the connection is lost.
func (r *Relay) receive(ctx context.Context, conn *pgx.Conn) {
	pause := 100 * time.Millisecond
	for {
		for conn == nil {
			select {
			case <-ctx.Done():
				return
			case <-time.After(pause):
			}
			var err error
			if conn, err = r.listen(ctx); err != nil {
				if ctx.Err() != nil {
					return
				}
				pause = min(pause*2, 5*time.Second)
				r.log.Warn("fanout: listener not connected, retrying", "in", pause.String(), "err", err.Error())
				continue
			}
			r.log.Info("fanout: listener reconnected", "channel", r.channel)
			pause = 100 * time.Millisecond
		}
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			conn.Close(context.Background())
			conn = nil
			if ctx.Err() != nil {
				return
			}
			r.log.Warn("fanout: listener connection lost, reconnecting", "err", err.Error())
			continue
		}
		var e envelope
		if err := json.Unmarshal([]byte(n.Payload), &e); err != nil {
			r.log.Warn("fanout: unreadable message ignored", "err", err.Error())
			continue
		}
		if e.Origin == r.origin {
			continue // this process delivered it already
		}
		r.mu.RLock()
		h := r.handlers[e.Topic]
		r.mu.RUnlock()
		if h != nil {
			h(e.Data)
		}
	}
}

// send writes queued messages with pg_notify, reconnecting when needed; a
// message that fails twice is dropped with a warning.
func (r *Relay) send(ctx context.Context) {
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			conn.Close(context.Background())
		}
	}()
	for {
		var b []byte
		select {
		case <-ctx.Done():
			return
		case b = <-r.out:
		}
		var err error
		for try := 0; try < 2; try++ {
			if conn == nil {
				if conn, err = r.connect(ctx, sendApp); err != nil {
					conn = nil
					continue
				}
			}
			if _, err = conn.Exec(ctx, `SELECT pg_notify($1, $2)`, r.channel, string(b)); err == nil {
				break
			}
			conn.Close(context.Background())
			conn = nil
		}
		if err != nil && ctx.Err() == nil {
			r.log.Warn("fanout: message not sent", "err", err.Error())
		}
	}
}
