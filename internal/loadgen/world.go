package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"shequ/internal/gate"
)

// Target is a running server and what the load may use on it.
type Target struct {
	URL        string
	Devices    []string // gate device tokens
	SelfReport string   // a self-report code's token: the form is /r/TOKEN
	Logins     []Login  // accounts: "grid" for grid-sync, "staff" and "official" for dashboards
	// Forwarded sends each resident's own address in X-Forwarded-For, as
	// a reverse proxy would; the server must trust it (--trust-proxy),
	// or its per-address limit refuses a flood from one machine.
	Forwarded bool
}

// Login is an account the load logs in with.
type Login struct{ Role, Username, Password string }

// ParseDemo reads what `shequ demo` prints before it serves (url, logins,
// devices, the self-report form) up to its "# demo database" line.
func ParseDemo(r io.Reader) (Target, error) {
	var t Target
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		switch {
		case strings.HasPrefix(line, "# demo database"):
			if t.URL == "" {
				return t, fmt.Errorf("the demo printed no url")
			}
			return t, nil
		case len(f) == 2 && f[0] == "url:":
			t.URL = f[1]
		case len(f) == 4 && f[0] == "login:":
			t.Logins = append(t.Logins, Login{Role: f[1], Username: f[2], Password: f[3]})
		case len(f) == 3 && f[0] == "device:":
			t.Devices = append(t.Devices, f[2])
		case len(f) == 2 && f[0] == "selfreport:":
			_, tok, ok := strings.Cut(f[1], "/r/")
			if !ok {
				return t, fmt.Errorf("unexpected self-report line %q", line)
			}
			t.SelfReport = tok
		}
	}
	if err := sc.Err(); err != nil {
		return t, err
	}
	return t, fmt.Errorf("the demo ended before serving")
}

// World is what the clients draw on, found on the server before the run:
// the cards and plates each device knows (from its own sync), sessions,
// the grid worker's rooms, the rooms of the self-report form.
type World struct {
	Target      Target
	devices     []device
	grid        []session
	gridRooms   []string
	screens     []session
	reportRooms []reportRoom
	serverNow   time.Time
	offset      time.Duration // server clock − ours
	today       string
}

type device struct {
	token         string
	cards, plates []string
}

type session struct{ role, cookie string }

type reportRoom struct{ id, parent string }

// Summary says what the world holds, for the tool's log.
func (w *World) Summary() string {
	cards, plates := 0, 0
	for _, d := range w.devices {
		cards += len(d.cards)
		plates += len(d.plates)
	}
	return fmt.Sprintf("%d devices (%d cards, %d plates known), %d grid sessions with %d rooms, %d screens, %d rooms on the self-report form, server day %s",
		len(w.devices), cards, plates, len(w.grid), len(w.gridRooms), len(w.screens), len(w.reportRooms), w.today)
}

// Prepare finds, through the server's own APIs, what the clients need.
func Prepare(ctx context.Context, t Target) (*World, error) {
	t.URL = strings.TrimRight(t.URL, "/")
	w := &World{Target: t}
	hc := &http.Client{Timeout: 60 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for i, tok := range t.Devices {
		d := device{token: tok}
		if i == 0 { // the server's clock, as a device learns it
			var hb gate.HeartbeatResponse
			if err := getJSON(ctx, hc, "POST", t.URL+"/api/device/v1/heartbeat", tok, "", []byte(`{"device_time":"`+time.Now().UTC().Format(time.RFC3339)+`"}`), &hb); err != nil {
				return nil, fmt.Errorf("device heartbeat: %w", err)
			}
			w.serverNow, w.offset = hb.ServerTime, time.Until(hb.ServerTime)
		}
		for cursor := int64(0); ; {
			var page gate.SyncResponse
			if err := getJSON(ctx, hc, "GET", fmt.Sprintf("%s/api/device/v1/sync?cursor=%d&limit=1000", t.URL, cursor), tok, "", nil, &page); err != nil {
				return nil, fmt.Errorf("device sync: %w", err)
			}
			for _, c := range page.Changes {
				switch {
				case c.Op != "put":
				case c.Credential.Kind == gate.CredCard:
					d.cards = append(d.cards, c.Credential.Value)
				case c.Credential.Kind == gate.CredPlate:
					d.plates = append(d.plates, c.Credential.Value)
				}
			}
			if !page.More || page.Cursor == cursor {
				break
			}
			cursor = page.Cursor
		}
		w.devices = append(w.devices, d)
	}
	if w.serverNow.IsZero() {
		w.serverNow = time.Now()
	}
	w.today = w.serverNow.In(cst).Format(time.DateOnly)
	for _, l := range t.Logins {
		if l.Role != "grid" && l.Role != "staff" && l.Role != "official" {
			continue
		}
		cookie, err := login(ctx, hc, t.URL, l)
		if err != nil {
			return nil, err
		}
		s := session{role: l.Role, cookie: cookie}
		if l.Role != "grid" {
			w.screens = append(w.screens, s)
			continue
		}
		w.grid = append(w.grid, s)
		var b struct {
			Today string `json:"today"`
			Rooms []struct {
				ID string `json:"id"`
			} `json:"rooms"`
		}
		if err := getJSON(ctx, hc, "GET", t.URL+"/api/grid/v1/bundle", "", cookie, nil, &b); err != nil {
			return nil, fmt.Errorf("grid bundle of %s: %w", l.Username, err)
		}
		for _, r := range b.Rooms {
			w.gridRooms = append(w.gridRooms, r.ID)
		}
		if b.Today != "" {
			w.today = b.Today
		}
	}
	if t.SelfReport != "" {
		if err := w.findReportRooms(ctx, hc); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// findReportRooms walks the form's room picker (buildings, units, rooms)
// for up to 200 rooms.
func (w *World) findReportRooms(ctx context.Context, hc *http.Client) error {
	type option struct{ ID, Kind string }
	base := w.Target.URL + "/r/" + url.PathEscape(w.Target.SelfReport) + "/rooms"
	var walk func(parent string, depth int) error
	walk = func(parent string, depth int) error {
		var opts []option
		u := base
		if parent != "" {
			u += "?parent=" + url.QueryEscape(parent)
		}
		if err := getJSON(ctx, hc, "GET", u, "", "", nil, &opts); err != nil {
			return fmt.Errorf("self-report room picker: %w", err)
		}
		for _, o := range opts {
			if len(w.reportRooms) >= 200 {
				return nil
			}
			if o.Kind == "room" {
				w.reportRooms = append(w.reportRooms, reportRoom{id: o.ID, parent: parent})
			} else if depth < 3 {
				if err := walk(o.ID, depth+1); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk("", 0); err != nil {
		return err
	}
	if len(w.reportRooms) == 0 {
		return fmt.Errorf("the self-report form offers no rooms")
	}
	return nil
}

// login signs an account in and returns its cookies as a Cookie header.
func login(ctx context.Context, hc *http.Client, base string, l Login) (string, error) {
	form := url.Values{"username": {l.Username}, "password": {l.Password}}
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/login", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) == 0 {
		return "", fmt.Errorf("login as %s: HTTP %d (wrong password?)", l.Username, resp.StatusCode)
	}
	var cs []string
	for _, c := range resp.Cookies() {
		cs = append(cs, c.Name+"="+c.Value)
	}
	return strings.Join(cs, "; "), nil
}

func getJSON(ctx context.Context, hc *http.Client, method, u, bearer, cookie string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, resp.Body)
		return fmt.Errorf("%s %s: HTTP %d", method, req.URL.Path, resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

var cst = time.FixedZone("CST", 8*3600)
