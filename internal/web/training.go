package web

import "net/http"

func (s *Server) trainingRoutes(mux *http.ServeMux) {
}
