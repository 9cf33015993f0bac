package web

import (
	"net/http"
	"strings"

	"shequ/internal/access"
	"shequ/internal/errs"
	"shequ/internal/store"
	"shequ/internal/webhook"
)

// webhookRoutes are the staff pages for partners' webhooks.
func (s *Server) webhookRoutes(mux *router) {
	mux.HandleFunc("GET /webhooks", s.signedIn(s.webhookPartners))
	mux.HandleFunc("GET /webhooks/partners/{id}", s.signedIn(s.webhookPartnerPage))
	mux.HandleFunc("POST /webhooks/partners/{id}", s.signedIn(s.webhookSubscribe))
	mux.HandleFunc("POST /webhooks/subscriptions/{id}/disable", s.signedIn(s.webhookSetActive(false)))
	mux.HandleFunc("POST /webhooks/subscriptions/{id}/enable", s.signedIn(s.webhookSetActive(true)))
	mux.HandleFunc("POST /webhooks/subscriptions/{id}/ping", s.signedIn(s.webhookPing))
	mux.HandleFunc("POST /webhooks/deliveries/{id}/retry", s.signedIn(s.webhookRetry))
}

func (s *Server) webhooks() *webhook.Service {
	return &webhook.Service{Store: s.Store, Keys: s.Keys, Audit: s.Audit}
}

// webhookDelivery is a delivery as the page shows it.
type webhookDelivery struct {
	store.WebhookDelivery
	Error string // the last error, known reasons translated
}

// webhookPartners lists the partner accounts whose webhooks the staff
// member manages.
func (s *Server) webhookPartners(w http.ResponseWriter, r *http.Request) {
	rq := reqOf(r)
	if !rq.p.CanAnywhere(access.ShareManage) {
		s.deny(w, r, "webhook.view", "", "", "")
		return
	}
	partners, err := s.Store.WebhookPartners(r.Context(), rq.p.Scopes(access.ShareManage))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "webhooks", map[string]any{"Partners": partners})
}

func (s *Server) webhookPartnerPage(w http.ResponseWriter, r *http.Request) {
	s.renderWebhookPartner(w, r, r.PathValue("id"), map[string]any{"Error": r.URL.Query().Get("error")})
}

// renderWebhookPartner shows a partner's subscriptions, the form to add
// one and the recent deliveries.
func (s *Server) renderWebhookPartner(w http.ResponseWriter, r *http.Request, partnerID string, data map[string]any) {
	rq := reqOf(r)
	u, path, err := s.webhooks().Partner(r.Context(), rq.p, partnerID)
	if errs.CodeOf(err) == errs.Forbidden {
		s.deny(w, r, "webhook.view", "user", partnerID, webhookNodeID(path))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	subs, err := s.Store.WebhookSubscriptions(r.Context(), u.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	status := r.URL.Query().Get("status")
	if status != store.HookPending && status != store.HookDelivered && status != store.HookDead {
		status = ""
	}
	ds, err := s.Store.WebhookDeliveries(r.Context(), u.ID, status, 100)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	urls := map[string]string{}
	for _, sub := range subs {
		urls[sub.ID] = sub.URL
	}
	view := make([]webhookDelivery, len(ds))
	for i, d := range ds {
		view[i] = webhookDelivery{WebhookDelivery: d, Error: webhookError(rq, d.LastError)}
	}
	if data == nil {
		data = map[string]any{}
	}
	data["Partner"], data["Subscriptions"], data["Deliveries"], data["Kinds"], data["Status"] = u, subs, view, store.HookKinds, status
	if _, ok := data["Chosen"]; !ok {
		data["Chosen"] = map[string]bool{}
	}
	s.render(w, r, "webhooks", data)
}

// webhookError translates the reasons the deliverer gives itself; a
// receiver's error is shown as it came.
func webhookError(rq *req, e string) string {
	switch {
	case e == webhook.ReasonRefused:
		return rq.pr.T("webhook.reason.refused")
	case strings.HasPrefix(e, webhook.ReasonExpired):
		return rq.pr.T("webhook.reason.expired") + strings.TrimPrefix(e, webhook.ReasonExpired)
	}
	return e
}

// webhookSubscribe adds a subscription and shows its secret, this once.
func (s *Server) webhookSubscribe(w http.ResponseWriter, r *http.Request) {
	rq := reqOf(r)
	r.ParseForm()
	partnerID := r.PathValue("id")
	events := r.PostForm["events"]
	sub, secret, err := s.webhooks().Subscribe(r.Context(), rq.p, partnerID, r.PostFormValue("url"), events)
	switch {
	case errs.CodeOf(err) == errs.Forbidden:
		s.deny(w, r, "webhook.subscribe", "user", partnerID, "")
		return
	case err != nil && statusOf(err) >= 500:
		s.fail(w, r, err)
		return
	case err != nil:
		chosen := map[string]bool{}
		for _, e := range events {
			chosen[e] = true
		}
		w.WriteHeader(statusOf(err))
		s.renderWebhookPartner(w, r, partnerID, map[string]any{"Error": message(rq, err), "URL": r.PostFormValue("url"), "Chosen": chosen})
		return
	}
	s.renderWebhookPartner(w, r, partnerID, map[string]any{"NewSecret": secret, "NewSub": sub.ID})
}

func (s *Server) webhookSetActive(active bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.webhookAction(w, r, "webhook.active", func(rq *req, id string) error {
			return s.webhooks().SetActive(r.Context(), rq.p, id, active)
		})
	}
}

func (s *Server) webhookPing(w http.ResponseWriter, r *http.Request) {
	s.webhookAction(w, r, "webhook.ping", func(rq *req, id string) error {
		_, err := s.webhooks().Ping(r.Context(), rq.p, id)
		return err
	})
}

// webhookAction runs an action on the subscription in the path and goes
// back to its partner's page.
func (s *Server) webhookAction(w http.ResponseWriter, r *http.Request, action string, fn func(rq *req, id string) error) {
	rq := reqOf(r)
	id := r.PathValue("id")
	sub, err := s.Store.WebhookSubscription(r.Context(), id)
	if err == nil {
		err = fn(rq, id)
	}
	if errs.CodeOf(err) == errs.Forbidden {
		s.deny(w, r, action, "webhook", id, "")
		return
	}
	if sub.PartnerID == "" {
		s.fail(w, r, err)
		return
	}
	s.formDone(w, r, "/webhooks/partners/"+sub.PartnerID, "deliveries", err)
}

func (s *Server) webhookRetry(w http.ResponseWriter, r *http.Request) {
	rq := reqOf(r)
	id := r.PathValue("id")
	d, err := s.Store.WebhookDelivery(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	err = s.webhooks().Retry(r.Context(), rq.p, id)
	if errs.CodeOf(err) == errs.Forbidden {
		s.deny(w, r, "webhook.retry", "webhook", id, "")
		return
	}
	s.formDone(w, r, "/webhooks/partners/"+d.PartnerID, "deliveries", err)
}

// webhookNodeID is the id of the last node of a path ("" for "").
func webhookNodeID(path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	return parts[len(parts)-1]
}
