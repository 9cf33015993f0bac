package web

import "net/http"

// sharingRoutes are the partners' open API and the staff pages for
// sharing agreements.
func (s *Server) sharingRoutes(mux *http.ServeMux) {
}
