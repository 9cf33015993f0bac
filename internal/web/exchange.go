package web

import "net/http"

// exchangeRoutes are the staff pages for inbound data from other
// departments.
func (s *Server) exchangeRoutes(mux *http.ServeMux) {
}
