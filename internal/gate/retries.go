package gate

import (
	"sync"
	"time"
)

// answers remembers recent decisions by device and event id, so that a
// device retrying a request (a lost reply, an MQTT redelivery) gets the
// same answer and the attempt is logged and alarmed once. It keeps two
// generations: answers live between answerAge and twice that, or less
// when a generation fills up at a peak (retries come within seconds).
type answers struct {
	mu        sync.Mutex
	cur, prev map[string]DecideResponse
	since     time.Time
}

const (
	answerAge     = 5 * time.Minute
	answersPerGen = 50_000
)

func (a *answers) get(key string) (DecideResponse, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if r, ok := a.cur[key]; ok {
		return r, true
	}
	r, ok := a.prev[key]
	return r, ok
}

func (a *answers) put(key string, r DecideResponse, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cur == nil || len(a.cur) >= answersPerGen || now.Sub(a.since) >= answerAge || now.Before(a.since) {
		a.prev, a.cur, a.since = a.cur, map[string]DecideResponse{}, now
	}
	a.cur[key] = r
}
