package gate

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"shequ/internal/errs"
	"shequ/internal/store"
)

// recorder writes decisions in batches: a decision is answered at once and
// logged within a fraction of a second, so a burst of thousands a second
// costs one transaction per batch, not one per decision.
type recorder struct {
	s        *store.Store
	log      *slog.Logger
	mu       sync.Mutex
	writing  sync.Mutex // held while a batch is written, so Flush waits for one in flight
	buf      []store.Decision
	alarms   []store.Alarm
	kick     chan struct{}
	done     chan struct{}
	finished chan struct{}
	failures int // batches in a row kept for a retry (written under writing)
	dropped  int // decisions dropped during this outage
}

func newRecorder(s *store.Store, log *slog.Logger) *recorder {
	r := &recorder{s: s, log: log, kick: make(chan struct{}, 1), done: make(chan struct{}), finished: make(chan struct{})}
	go r.loop()
	return r
}

func (r *recorder) add(d store.Decision) {
	r.mu.Lock()
	r.buf = append(r.buf, d)
	full := len(r.buf) >= 500
	r.mu.Unlock()
	if full {
		select {
		case r.kick <- struct{}{}:
		default:
		}
	}
}

// addAlarm queues an alarm; it is written with the next batch.
func (r *recorder) addAlarm(a store.Alarm) {
	r.mu.Lock()
	r.alarms = append(r.alarms, a)
	r.mu.Unlock()
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Flush writes what is queued now (tests, shutdown); when it returns,
// everything queued before the call is written, also a batch the
// background loop had already taken.
func (r *recorder) Flush() { r.flush() }

func (r *recorder) loop() {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	defer close(r.finished)
	for {
		select {
		case <-t.C:
		case <-r.kick:
		case <-r.done:
			r.flush()
			return
		}
		r.flush()
	}
}

func (r *recorder) flush() {
	r.writing.Lock()
	defer r.writing.Unlock()
	r.mu.Lock()
	batch, alarms := r.buf, r.alarms
	r.buf, r.alarms = nil, nil
	r.mu.Unlock()
	if len(batch) == 0 && len(alarms) == 0 {
		return
	}
	ctx := context.Background()
	err := r.s.Write(ctx, func(tx *store.Tx) error {
		for i := range alarms {
			if err := tx.CreateAlarm(ctx, &alarms[i]); err != nil {
				return err
			}
			if err := tx.EmitAlarm(ctx, &alarms[i]); err != nil {
				return err
			}
		}
		return tx.InsertDecisions(ctx, batch)
	})
	if err == nil {
		if r.failures > 0 {
			r.log.Info("decisions kept during the outage are written", "decisions", len(batch), "alarms", len(alarms), "retries", r.failures, "dropped", r.dropped)
			r.failures, r.dropped = 0, 0
		}
		return
	}
	if errs.Is(err, errs.Unavailable) {
		// The database is down or its disk full: keep the batch in front of
		// what came since and try again with the next one, so decisions
		// answered during an outage are logged when it ends. Beyond
		// maxPending the oldest decisions are dropped (and said so).
		r.mu.Lock()
		r.buf = append(batch, r.buf...)
		r.alarms = append(alarms, r.alarms...)
		dropped := 0
		if len(r.buf) > maxPending {
			dropped = len(r.buf) - maxPending
			r.buf = append([]store.Decision(nil), r.buf[dropped:]...)
		}
		pending := len(r.buf)
		r.mu.Unlock()
		// The loop retries every 200 ms: say so on the first failure and
		// then about every 30 s, not five times a second.
		r.dropped += dropped
		if r.failures%warnEvery == 0 {
			r.log.Warn("decisions kept for a retry: the database is unavailable", "pending", pending, "dropped", r.dropped, "retries", r.failures, "err", err.Error())
		}
		r.failures++
		return
	}
	r.log.Error("recording decisions and alarms", "decisions", len(batch), "alarms", len(alarms), "err", err.Error())
}

// maxPending bounds the decisions kept in memory while the database is
// unavailable (about 20 minutes of a busy gate's peak).
const maxPending = 100_000

// warnEvery is how many failed retries in a row go by between warnings.
const warnEvery = 150

// close writes what is buffered and stops.
func (r *recorder) close() {
	close(r.done)
	<-r.finished
}

// committer stores pass events with group commit: concurrent uploads are
// written in one transaction and each is acknowledged only after that
// transaction committed, so an acknowledged event is never lost and a
// retried one is never stored twice.
type committer struct {
	s    *store.Store
	reqs chan *commitReq
}

type commitReq struct {
	events []store.PassRecord
	isNew  []bool
	err    error
	done   chan struct{}
}

func newCommitter(s *store.Store) *committer {
	c := &committer{s: s, reqs: make(chan *commitReq, 256)}
	go c.loop()
	return c
}

func (c *committer) loop() {
	for first := range c.reqs {
		batch := []*commitReq{first}
		n := len(first.events)
	gather:
		for n < 5000 {
			select {
			case r := <-c.reqs:
				batch = append(batch, r)
				n += len(r.events)
			default:
				break gather
			}
		}
		ctx := context.Background()
		all := make([]store.PassRecord, 0, n)
		for _, r := range batch {
			all = append(all, r.events...)
		}
		err := c.s.Write(ctx, func(tx *store.Tx) error {
			isNew, err := tx.InsertPasses(ctx, all)
			if err != nil {
				return err
			}
			for _, r := range batch {
				r.isNew, isNew = isNew[:len(r.events)], isNew[len(r.events):]
			}
			return nil
		})
		for _, r := range batch {
			r.err = err
			close(r.done)
		}
	}
}

// store writes events and reports which were new.
func (c *committer) store(ctx context.Context, events []store.PassRecord) ([]bool, error) {
	r := &commitReq{events: events, done: make(chan struct{})}
	select {
	case c.reqs <- r:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	<-r.done
	return r.isNew, r.err
}
