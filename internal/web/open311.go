package web

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"shequ/internal/auth"
	"shequ/internal/errs"
	"shequ/internal/events"
	"shequ/internal/store"
)

// Open311 GeoReport v2 (docs/open311.md): residents' reports through
// existing Open311 clients. JSON only; a jurisdiction is a community's
// division code. Reading returns only what was reported through Open311,
// never the community's other events.

type o311Error struct {
	Code        int    `json:"code"`
	Description string `json:"description"`
}

func o311Fail(w http.ResponseWriter, status int, desc string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode([]o311Error{{Code: status, Description: desc}})
}

func o311JSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// o311Community is the jurisdiction of a request: the one named, else the
// API key's community.
func (s *Server) o311Community(r *http.Request, client *store.Open311Client) (store.OrgNode, bool) {
	if j := r.FormValue("jurisdiction_id"); j != "" {
		n, err := s.Store.OrgNodeByCode(r.Context(), j)
		return n, err == nil && n.Level == store.LevelCommunity && (client == nil || client.CommunityID == n.ID)
	}
	if client != nil {
		n, err := s.Store.OrgNode(r.Context(), client.CommunityID)
		return n, err == nil
	}
	return store.OrgNode{}, false
}

type o311Service struct {
	ServiceCode string `json:"service_code"`
	ServiceName string `json:"service_name"`
	Description string `json:"description"`
	Metadata    bool   `json:"metadata"`
	Type        string `json:"type"`
	Keywords    string `json:"keywords"`
	Group       string `json:"group"`
}

// o311Services lists what can be reported: the community's everyday
// categories (outbreak matters go through the grid workers, not Open311).
func (s *Server) o311Services(w http.ResponseWriter, r *http.Request) {
	comm, ok := s.o311Community(r, nil)
	if !ok {
		o311Fail(w, http.StatusBadRequest, "jurisdiction_id: a community's 12-digit division code is required")
		return
	}
	cats, err := s.Store.EventCategories(r.Context(), comm.ID)
	if err != nil {
		o311Fail(w, http.StatusInternalServerError, "internal error")
		return
	}
	out := []o311Service{}
	for _, c := range cats {
		if c.Kind == "life" && c.Code != "correction" { // corrections of one's own record are not for Open311
			out = append(out, o311Service{ServiceCode: c.Code, ServiceName: c.Name, Description: c.Name, Type: "realtime", Keywords: c.Code, Group: "社区事务"})
		}
	}
	o311JSON(w, http.StatusOK, out)
}

// o311Definition describes a service: no extra attributes.
func (s *Server) o311Definition(w http.ResponseWriter, r *http.Request) {
	code := strings.TrimSuffix(r.PathValue("code"), ".json")
	comm, ok := s.o311Community(r, nil)
	if !ok {
		o311Fail(w, http.StatusBadRequest, "jurisdiction_id: a community's 12-digit division code is required")
		return
	}
	cats, _ := s.Store.EventCategories(r.Context(), comm.ID)
	for _, c := range cats {
		if c.Code == code && c.Kind == "life" && c.Code != "correction" {
			o311JSON(w, http.StatusOK, map[string]any{"service_code": c.Code, "attributes": []any{}})
			return
		}
	}
	o311Fail(w, http.StatusNotFound, "service_code not found")
}

// o311Create takes a request from a client with an API key.
func (s *Server) o311Create(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		o311Fail(w, http.StatusBadRequest, "the request body is too large or malformed")
		return
	}
	client, err := s.Store.Open311ClientByKey(r.Context(), auth.HashToken(r.FormValue("api_key")))
	if err != nil {
		o311Fail(w, http.StatusForbidden, "api_key: missing or not valid")
		return
	}
	comm, ok := s.o311Community(r, &client)
	if !ok {
		o311Fail(w, http.StatusForbidden, "jurisdiction_id: not this key's community")
		return
	}
	cats, _ := s.Store.EventCategories(r.Context(), comm.ID)
	life := false
	for _, c := range cats {
		life = life || (c.Code == r.FormValue("service_code") && c.Kind == "life" && c.Code != "correction")
	}
	if !life {
		o311Fail(w, http.StatusBadRequest, "service_code: not a service of this jurisdiction")
		return
	}
	// Decimal degrees, or absent (0). NaN and infinities cannot be written
	// back out as JSON, so one such request would break every later list.
	lat, errLat := strconv.ParseFloat(r.FormValue("lat"), 64)
	lng, errLng := strconv.ParseFloat(r.FormValue("long"), 64)
	if (r.FormValue("lat") != "" && (errLat != nil || math.IsNaN(lat) || math.Abs(lat) > 90)) ||
		(r.FormValue("long") != "" && (errLng != nil || math.IsNaN(lng) || math.Abs(lng) > 180)) {
		o311Fail(w, http.StatusBadRequest, "lat and long: decimal degrees are expected (-90 to 90, -180 to 180)")
		return
	}
	if r.FormValue("address_string") == "" && (lat == 0 || lng == 0) {
		o311Fail(w, http.StatusBadRequest, "a location is required: lat and long, or address_string")
		return
	}
	name := strings.TrimSpace(r.FormValue("first_name") + r.FormValue("last_name"))
	if name == "" {
		name = client.Name
	}
	e, err := s.Events.Report(r.Context(), nil, name, events.Input{CommunityID: comm.ID, Category: r.FormValue("service_code"),
		Description: r.FormValue("description"), Address: r.FormValue("address_string"), Lat: lat, Lng: lng, Source: "open311", SourceRef: client.ID})
	if err != nil {
		if e, ok := errs.As(err); ok && e.Code == errs.Invalid {
			o311Fail(w, http.StatusBadRequest, e.Field+": "+message(reqOf(r), err))
			return
		}
		o311Fail(w, http.StatusInternalServerError, "internal error")
		return
	}
	o311JSON(w, http.StatusCreated, []map[string]string{{"service_request_id": e.Ref, "service_notice": "已收到，社区将尽快受理。", "account_id": ""}})
}

type o311Request struct {
	ServiceRequestID  string  `json:"service_request_id"`
	Status            string  `json:"status"`
	StatusNotes       string  `json:"status_notes"`
	ServiceName       string  `json:"service_name"`
	ServiceCode       string  `json:"service_code"`
	Description       string  `json:"description"`
	AgencyResponsible string  `json:"agency_responsible"`
	ServiceNotice     string  `json:"service_notice"`
	RequestedDatetime string  `json:"requested_datetime"`
	UpdatedDatetime   string  `json:"updated_datetime"`
	ExpectedDatetime  string  `json:"expected_datetime,omitempty"`
	Address           string  `json:"address"`
	AddressID         string  `json:"address_id"`
	Zipcode           string  `json:"zipcode"`
	Lat               float64 `json:"lat"`
	Long              float64 `json:"long"`
	MediaURL          string  `json:"media_url"`
}

func iso(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(shanghai).Format(time.RFC3339)
}

func (s *Server) o311Requests(w http.ResponseWriter, r *http.Request) {
	comm, ok := s.o311Community(r, nil)
	if !ok {
		o311Fail(w, http.StatusBadRequest, "jurisdiction_id: a community's 12-digit division code is required")
		return
	}
	var refs []string
	if id := r.PathValue("id"); id != "" {
		refs = []string{strings.TrimSuffix(id, ".json")}
	} else if ids := r.FormValue("service_request_id"); ids != "" {
		refs = strings.Split(ids, ",")
	}
	var codes []string
	if c := r.FormValue("service_code"); c != "" {
		codes = strings.Split(c, ",")
	}
	from, _ := time.Parse(time.RFC3339, r.FormValue("start_date"))
	until, _ := time.Parse(time.RFC3339, r.FormValue("end_date"))
	evs, err := s.Store.Open311Requests(r.Context(), comm.ID, refs, codes, r.FormValue("status"), from, until, 1000)
	if err != nil {
		o311Fail(w, http.StatusInternalServerError, "internal error")
		return
	}
	if r.PathValue("id") != "" && len(evs) == 0 {
		o311Fail(w, http.StatusNotFound, "service_request_id not found")
		return
	}
	out := []o311Request{}
	for _, e := range evs {
		status := "open"
		if e.Status == events.Closed || e.Status == events.Rejected || e.Status == events.Evaluated {
			status = "closed"
		}
		out = append(out, o311Request{ServiceRequestID: e.Ref, Status: status, StatusNotes: e.Holders, ServiceName: e.CategoryName, ServiceCode: e.CategoryCode,
			Description: e.Description, AgencyResponsible: comm.Name, RequestedDatetime: iso(e.CreatedAt), UpdatedDatetime: iso(e.UpdatedAt),
			ExpectedDatetime: iso(e.DueAt), Address: e.Address, Lat: e.Lat, Long: e.Lng})
	}
	o311JSON(w, http.StatusOK, out)
}

// o311Token: requests get their id at once, so a token is the id.
func (s *Server) o311Token(w http.ResponseWriter, r *http.Request) {
	tok := strings.TrimSuffix(r.PathValue("token"), ".json")
	if e, _, err := s.Store.Event(r.Context(), tok); err != nil || e.Source != "open311" {
		o311Fail(w, http.StatusNotFound, "token not found")
		return
	}
	o311JSON(w, http.StatusOK, []map[string]string{{"service_request_id": tok, "token": tok}})
}
