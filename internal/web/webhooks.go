package web

import "net/http"

// webhookRoutes are the staff pages for partners' webhooks.
func (s *Server) webhookRoutes(mux *http.ServeMux) {
}
