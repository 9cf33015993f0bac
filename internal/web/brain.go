package web

import "net/http"

// brainRoutes are the big screen (/brain) and its live stream.
func (s *Server) brainRoutes(mux *http.ServeMux) {
}
