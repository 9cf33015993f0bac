package loadgen

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"time"

	"shequ/internal/gate"
	"shequ/internal/synth"
)

// step is one request a client makes.
type step struct {
	kind, method, path string
	body               []byte
	ctype              string
	bearer, cookie     string
	xff                string
	want               int // the status that means success
	// read, when set, gets the answer's body on success and returns an
	// error kind ("" for none).
	read func([]byte) string
}

// client is one simulated device, resident, phone or screen.
type client interface {
	next(rng *rand.Rand) step
}

// streamer is a client that holds a stream open for the whole run.
type streamer interface {
	stream() step
}

// Shares of a gate's attempts (as `shequ gate-sim`): strangers with an
// unknown card, residents with a fever, cars.
const (
	strangerShare = 0.06
	feverShare    = 0.03
	plateShare    = 0.10
	eventBatch    = 20 // a device uploads its pass events 20 at a time
)

// gateClient is a gate device at the morning peak: a decision for each
// person at the gate, and the pass events uploaded in batches.
type gateClient struct {
	d       device
	id      string
	n       int
	offset  time.Duration
	pending []gate.PassEvent
}

func (c *gateClient) next(rng *rand.Rand) step {
	if len(c.pending) >= eventBatch {
		body, _ := json.Marshal(gate.EventsRequest{Events: c.pending})
		c.pending = nil
		return step{kind: "gate-events", method: "POST", path: "/api/device/v1/events", body: body, ctype: "application/json", bearer: c.d.token, want: 200,
			read: func(b []byte) string {
				var r gate.EventsResponse
				if json.Unmarshal(b, &r) == nil && len(r.Rejected) > 0 {
					return "rejected events"
				}
				return ""
			}}
	}
	c.n++
	req := gate.DecideRequest{EventID: fmt.Sprintf("%s-%d", c.id, c.n), TemperatureC: 36.0 + rng.Float64()*0.9, Direction: "in",
		DeviceTime: time.Now().Add(c.offset).UTC()}
	switch r := rng.Float64(); {
	case r < strangerShare || len(c.d.cards)+len(c.d.plates) == 0:
		req.Credential = gate.Credential{Kind: gate.CredCard, Value: fmt.Sprintf("ST%08d", rng.IntN(1e8))}
	case r < strangerShare+plateShare && len(c.d.plates) > 0 || len(c.d.cards) == 0:
		req.Credential = gate.Credential{Kind: gate.CredPlate, Value: c.d.plates[rng.IntN(len(c.d.plates))]}
	default:
		req.Credential = gate.Credential{Kind: gate.CredCard, Value: c.d.cards[rng.IntN(len(c.d.cards))]}
	}
	if rng.Float64() < feverShare {
		req.TemperatureC = 37.5 + rng.Float64()*1.5
	}
	body, _ := json.Marshal(req)
	return step{kind: "gate-decide", method: "POST", path: "/api/device/v1/decide", body: body, ctype: "application/json", bearer: c.d.token, want: 200,
		read: func(b []byte) string {
			var dr gate.DecideResponse
			json.Unmarshal(b, &dr)
			if dr.Outcome == "" {
				dr.Outcome = "allow"
			}
			c.pending = append(c.pending, gate.PassEvent{EventID: req.EventID, Credential: req.Credential, Outcome: dr.Outcome, Reason: dr.Reason,
				TemperatureC: req.TemperatureC, Direction: "in", DeviceTime: req.DeviceTime})
			return ""
		}}
}

// residentClient is a returnee who scanned the poster: the form, the room
// picker for their building, the report.
type residentClient struct {
	token  string
	rooms  []reportRoom
	today  string
	now    time.Time
	id, n  int
	phase  int
	room   reportRoom
	xff    string
	person synth.Person
	// forwarded: each report comes from its own address (X-Forwarded-For).
	forwarded bool
}

func (c *residentClient) next(rng *rand.Rand) step {
	base := "/r/" + url.PathEscape(c.token)
	defer func() { c.phase = (c.phase + 1) % 3 }()
	switch c.phase {
	case 0:
		c.n++
		c.room = c.rooms[rng.IntN(len(c.rooms))]
		c.person = synth.NewPerson(rng, synth.Profile{MinAge: 18, MaxAge: 70, Now: c.now})
		if c.forwarded {
			c.xff = fmt.Sprintf("10.%d.%d.%d", c.id&255, c.n>>8&255, c.n&255)
		}
		return step{kind: "report-form", method: "GET", path: base, xff: c.xff, want: 200}
	case 1:
		return step{kind: "report-rooms", method: "GET", path: base + "/rooms?parent=" + url.QueryEscape(c.room.parent), xff: c.xff, want: 200}
	}
	p := c.person
	form := url.Values{"name": {p.Name}, "id_number": {p.IDNumber}, "phone": {p.Phone}, "from_place": {"西安市雁塔区"},
		"arrival_date": {c.today}, "room": {c.room.id}, "consent": {"yes"}}
	return step{kind: "report-submit", method: "POST", path: base, body: []byte(form.Encode()), ctype: "application/x-www-form-urlencoded", xff: c.xff, want: 303}
}

// gridClient is a grid worker's phone back online: its queued visits sent
// one by one, then the offline data fetched again.
type gridClient struct {
	s     session
	rooms []string
	id    string
	n     int
}

// gridQueue is how many visits a phone sends per reconnection.
const gridQueue = 8

func (c *gridClient) next(rng *rand.Rand) step {
	c.n++
	switch c.n % (gridQueue + 2) {
	case gridQueue:
		return step{kind: "grid-bundle", method: "GET", path: "/api/grid/v1/bundle", cookie: c.s.cookie, want: 200}
	case gridQueue + 1:
		return step{kind: "grid-households", method: "GET", path: "/api/grid/v1/households", cookie: c.s.cookie, want: 200}
	}
	v := map[string]any{"client_id": fmt.Sprintf("%s-%d", c.id, c.n), "room_id": c.rooms[rng.IntN(len(c.rooms))], "notes": "例行走访，一切正常"}
	if rng.IntN(3) == 0 {
		v["needs"] = []string{"medicine"}
	}
	body, _ := json.Marshal(v)
	return step{kind: "grid-visit", method: "POST", path: "/api/grid/v1/visits", body: body, ctype: "application/json", cookie: c.s.cookie, want: 200}
}

// screenClient is a big screen (its live stream held open) on the desk of
// someone who also reloads their boards.
type screenClient struct {
	s     session
	pages []string
	n     int
}

func newScreen(s session) *screenClient {
	c := &screenClient{s: s, pages: []string{"/brain", "/events"}}
	if s.role == "official" {
		c.pages = []string{"/brain", "/overview"}
	}
	return c
}

var pageKinds = map[string]string{"/brain": "brain-page", "/events": "events-board", "/overview": "overview"}

func (c *screenClient) next(*rand.Rand) step {
	p := c.pages[c.n%len(c.pages)]
	c.n++
	return step{kind: pageKinds[p], method: "GET", path: p, cookie: c.s.cookie, want: 200}
}

func (c *screenClient) stream() step {
	return step{kind: "brain-stream", method: "GET", path: "/brain/stream", cookie: c.s.cookie, want: 200}
}

// clients makes the clients of a run; nonce keeps ids apart between runs.
func (w *World) clients(split map[Scenario]int, nonce string) ([]client, []Scenario, error) {
	var cs []client
	var ss []Scenario
	for _, s := range scenarioOrder {
		for i := 0; i < split[s]; i++ {
			var c client
			switch s {
			case Gate:
				if len(w.devices) == 0 {
					return nil, nil, fmt.Errorf("the gate load needs device tokens (--device)")
				}
				c = &gateClient{d: w.devices[i%len(w.devices)], id: fmt.Sprintf("load-%s-%d", nonce, i), offset: w.offset}
			case SelfReport:
				if len(w.reportRooms) == 0 {
					return nil, nil, fmt.Errorf("the self-report load needs a self-report code (--selfreport)")
				}
				c = &residentClient{token: w.Target.SelfReport, rooms: w.reportRooms, today: w.today, now: w.serverNow, id: i, forwarded: w.Target.Forwarded}
			case GridSync:
				if len(w.grid) == 0 || len(w.gridRooms) == 0 {
					return nil, nil, fmt.Errorf("the grid load needs a grid worker's login with rooms (--login grid:USER:PASSWORD)")
				}
				c = &gridClient{s: w.grid[i%len(w.grid)], rooms: w.gridRooms, id: fmt.Sprintf("load-%s-%d", nonce, i)}
			case Dashboards:
				if len(w.screens) == 0 {
					return nil, nil, fmt.Errorf("the dashboards load needs a staff or official login (--login staff:USER:PASSWORD)")
				}
				c = newScreen(w.screens[i%len(w.screens)])
			}
			cs = append(cs, c)
			ss = append(ss, s)
		}
	}
	return cs, ss, nil
}

// kindOrder is the order kinds are reported in.
var kindOrder = []string{"gate-decide", "gate-events", "report-form", "report-rooms", "report-submit", "grid-visit", "grid-bundle", "grid-households",
	"brain-stream", "brain-page", "events-board", "overview"}
