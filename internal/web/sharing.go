package web

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"shequ/internal/access"
	"shequ/internal/errs"
	"shequ/internal/sharing"
	"shequ/internal/store"
)

//go:embed openapi.yaml
var openAPISpec []byte

// sharingRoutes are the published data standard, the partners' open API
// and the staff pages for sharing agreements.
func (s *Server) sharingRoutes(mux *router) {
	mux.HandleFunc("GET /api/openapi.yaml", s.openAPI)
	mux.HandleFunc("GET /api/v1/dictionary", s.dictionaryJSON)
	mux.HandleFunc("GET /standard", s.standardPage)
	for _, d := range sharing.Dictionary {
		mux.HandleFunc("GET "+d.Path, s.signedIn(s.partnerList(d.Name)))
	}
	mux.HandleFunc("GET /api/v1/persons/{id}", s.signedIn(s.partnerOne("persons")))
	mux.HandleFunc("GET /api/v1/fhir/Patient/{id}", s.signedIn(s.fhirPatient))
	mux.HandleFunc("GET /api/v1/fhir/Patient/{id}/$everything", s.signedIn(s.fhirEverything))
	mux.HandleFunc("POST /api/v1/fhir/Observation", s.signedIn(s.fhirCreate("health_tests")))
	mux.HandleFunc("POST /api/v1/fhir/Immunization", s.signedIn(s.fhirCreate("vaccinations")))
	mux.HandleFunc("GET /sharing", s.signedIn(s.sharingPage))
	mux.HandleFunc("POST /sharing", s.signedIn(s.needs(access.ShareManage, s.sharingSave)))
	mux.HandleFunc("GET /sharing/{id}", s.signedIn(s.agreementPage))
	mux.HandleFunc("POST /sharing/{id}", s.signedIn(s.sharingSave))
	mux.HandleFunc("POST /sharing/{id}/revoke", s.signedIn(s.needs(access.ShareManage, s.agreementRevoke)))
}

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(openAPISpec)
}

// dictionaryJSON is the machine-readable data standard.
func (s *Server) dictionaryJSON(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"version": s.Version, "datasets": sharing.Dictionary, "code_tables": sharing.CodeTables})
}

func (s *Server) standardPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, "standard", map[string]any{"Datasets": sharing.Dictionary, "CodeTables": sharing.CodeTables})
}

// partnerQuery reads the paging and filter parameters of an API list.
func partnerQuery(r *http.Request) (sharing.Query, error) {
	q := sharing.Query{After: r.URL.Query().Get("after"), Node: r.URL.Query().Get("node")}
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > sharing.MaxPage {
			return q, errs.E(errs.Invalid, "err.api.limit", sharing.MaxPage).OnField("limit")
		}
		q.Limit = n
	}
	if v := r.URL.Query().Get("updated_since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return q, errs.E(errs.Invalid, "err.api.since").OnField("updated_since")
		}
		q.Since = t.UnixMilli()
	}
	if v := r.URL.Query().Get("fields"); v != "" {
		q.Fields = strings.Split(v, ",")
	}
	return q, nil
}

// partnerList serves a page of a dataset to a partner under its agreement.
func (s *Server) partnerList(dataset string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		acc, q, ok := s.partnerRequest(w, r, dataset)
		if !ok {
			return
		}
		page, err := s.Sharing.Read(r.Context(), acc, q, r.URL.RequestURI())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if page.Next != "" {
			next := *r.URL
			v := next.Query()
			v.Set("after", page.Next)
			next.RawQuery = v.Encode()
			w.Header().Set("Link", `<`+next.RequestURI()+`>; rel="next"`)
		}
		writeETagged(w, r, page)
	}
}

// partnerOne serves one record.
func (s *Server) partnerOne(dataset string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		acc, q, ok := s.partnerRequest(w, r, dataset)
		if !ok {
			return
		}
		q.ID, q.After, q.Limit = r.PathValue("id"), "", 1
		page, err := s.Sharing.Read(r.Context(), acc, q, r.URL.RequestURI())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if len(page.Records) == 0 {
			s.fail(w, r, errNotFound)
			return
		}
		writeETagged(w, r, page.Records[0])
	}
}

// partnerRequest checks a partner's agreement for dataset and reads the
// query; false when it has answered already (refused or a bad query).
func (s *Server) partnerRequest(w http.ResponseWriter, r *http.Request, dataset string) (sharing.Access, sharing.Query, bool) {
	acc, err := s.Sharing.Authorize(r.Context(), reqOf(r).p, dataset)
	if err != nil {
		s.partnerRefused(w, r, dataset, err)
		return acc, sharing.Query{}, false
	}
	q, err := partnerQuery(r)
	if err != nil {
		s.fail(w, r, err)
		return acc, q, false
	}
	return acc, q, true
}

// partnerRefused answers a refused partner request and audits a 403.
func (s *Server) partnerRefused(w http.ResponseWriter, r *http.Request, dataset string, err error) {
	if errs.Is(err, errs.Forbidden) {
		rq := reqOf(r)
		s.Audit.Record(r.Context(), s.Store, &store.AuditEntry{ActorID: rq.p.UserID, ActorName: rq.p.Name, Action: "api.read", Outcome: "denied",
			TargetType: "dataset", TargetID: dataset, IP: rq.ip})
	}
	s.fail(w, r, err)
}

// writeETagged answers with JSON and a strong ETag of the body; a client
// that already holds it (If-None-Match) gets 304 and no body.
func writeETagged(w http.ResponseWriter, r *http.Request, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.Encode(v)
	sum := sha256.Sum256(buf.Bytes())
	tag := `"` + hex.EncodeToString(sum[:16]) + `"`
	w.Header().Set("ETag", tag)
	w.Header().Set("Cache-Control", "private, no-store")
	if inm := r.Header.Get("If-None-Match"); inm != "" && (inm == tag || inm == "W/"+tag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Write(buf.Bytes())
}

// sharingPage lists the agreements the principal manages and offers a
// new one.
func (s *Server) sharingPage(w http.ResponseWriter, r *http.Request) {
	p := reqOf(r).p
	if !p.CanAnywhere(access.ShareManage) {
		s.deny(w, r, "share.manage", "", "", "")
		return
	}
	ctx := r.Context()
	as, err := s.Store.Agreements(ctx, p.Scopes(access.ShareManage))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	partners, err := s.partnerAccounts(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	nodes, err := s.shareNodes(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "sharing", map[string]any{"Agreements": as, "Partners": partners, "Nodes": nodes, "Today": s.Store.Today(),
		"Datasets": sharing.Dictionary, "Departments": sharing.Departments, "Default": time.Now().AddDate(1, 0, 0).Format("2006-01-02"),
		"Error": r.URL.Query().Get("error")})
}

// partnerAccounts are the API accounts with the partner role in the
// principal's scope (not devices or other clients).
func (s *Server) partnerAccounts(r *http.Request) ([]store.User, error) {
	var out []store.User
	seen := map[string]bool{}
	for _, sc := range reqOf(r).p.Scopes(access.ShareManage) {
		us, _, err := s.Store.Users(r.Context(), store.UserFilter{ScopePath: sc, Kind: store.KindAPI, Limit: 200})
		if err != nil {
			return nil, err
		}
		for _, u := range us {
			if seen[u.ID] {
				continue
			}
			seen[u.ID] = true
			if ok, err := s.Sharing.IsPartner(r.Context(), u.ID); err != nil {
				return nil, err
			} else if ok {
				out = append(out, u)
			}
		}
	}
	return out, nil
}

// shareNodes are the streets and communities an agreement may cover.
func (s *Server) shareNodes(r *http.Request) ([]store.OrgNode, error) {
	scopes := reqOf(r).p.Scopes(access.ShareManage)
	var out []store.OrgNode
	for _, lv := range []store.Level{store.LevelDistrict, store.LevelStreet, store.LevelCommunity} {
		ns, err := s.Store.NodesAt(r.Context(), scopes, lv)
		if err != nil {
			return nil, err
		}
		out = append(out, ns...)
	}
	return out, nil
}

// agreementPage shows one agreement, its form and the records it served.
func (s *Server) agreementPage(w http.ResponseWriter, r *http.Request) {
	p := reqOf(r).p
	a, err := s.Store.Agreement(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !p.Can(access.ShareManage, a.NodePath) {
		s.deny(w, r, "share.manage", "agreement", a.ID, a.NodeID)
		return
	}
	dataset := r.URL.Query().Get("dataset")
	log, total, err := s.Store.AccessLog(r.Context(), a.ID, dataset, 200)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "agreement", map[string]any{"A": a, "Grants": sharing.ParseGrants(a.Grants), "Status": sharing.Status(a, s.Store.Today()),
		"Datasets": sharing.Dictionary, "Log": log, "Total": total, "Dataset": dataset, "Error": r.URL.Query().Get("error")})
}

// sharingSave creates (POST /sharing) or changes (POST /sharing/{id}) an
// agreement from the form: one checkbox per dataset field
// ("persons.name"), and one per protected field served unmasked
// ("unmasked", "persons.id_number").
func (s *Server) sharingSave(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	grants := sharing.Grants{}
	for _, v := range r.PostForm["field"] {
		d, f, _ := strings.Cut(v, ".")
		g := grants[d]
		g.Fields = append(g.Fields, f)
		grants[d] = g
	}
	for _, d := range r.PostForm["write"] {
		g := grants[d]
		g.Write = true
		grants[d] = g
	}
	for _, v := range r.PostForm["unmasked"] {
		d, f, _ := strings.Cut(v, ".")
		g := grants[d]
		g.Unmasked = append(g.Unmasked, f)
		grants[d] = g
	}
	rate, _ := strconv.Atoi(r.PostFormValue("rate_limit"))
	in := sharing.Input{ID: r.PathValue("id"), PartnerID: r.PostFormValue("partner"), Department: r.PostFormValue("department"),
		Name: r.PostFormValue("name"), Purpose: r.PostFormValue("purpose"), NodeID: r.PostFormValue("node"), ExpiresOn: r.PostFormValue("expires_on"),
		RateLimit: rate, Grants: grants}
	a, err := s.Sharing.Save(r.Context(), reqOf(r).p, in)
	if errs.Is(err, errs.Forbidden) {
		s.deny(w, r, "share.manage", "agreement", in.ID, in.NodeID)
		return
	}
	back := "/sharing"
	if in.ID != "" {
		back = "/sharing/" + url.PathEscape(in.ID)
	} else if err == nil {
		back = "/sharing/" + url.PathEscape(a.ID)
	}
	s.formDone(w, r, back, "", err)
}

func (s *Server) agreementRevoke(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	err := s.Sharing.Revoke(r.Context(), reqOf(r).p, id)
	if errs.Is(err, errs.Forbidden) {
		s.deny(w, r, "share.manage", "agreement", id, "")
		return
	}
	s.formDone(w, r, "/sharing/"+url.PathEscape(id), "", err)
}
