package web

import "net/http"

// siteplanRoutes are the digital twin: the community's site plan.
func (s *Server) siteplanRoutes(mux *http.ServeMux) {
}
