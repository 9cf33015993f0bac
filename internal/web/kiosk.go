package web

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"shequ/internal/access"
	"shequ/internal/errs"
	"shequ/internal/gate"
)

// kioskCSP lets the face library run: WebAssembly compilation and its
// worker; everything still comes from this server only.
const kioskCSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self' blob:; connect-src 'self'; " +
	"img-src 'self' data: blob:; media-src 'self' blob: mediastream:; style-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

// kioskFiles serves the gate kiosk (web/kiosk) and the face and QR libraries that
// `npm ci --prefix web/kiosk` installed beside it. Nothing of the library
// is embedded or committed: a deployment without it still serves every
// other page, and the kiosk says the library is missing.
func (s *Server) kioskFiles() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		dir := s.Cfg.KioskDir
		mount := func(prefix, sub string) http.Handler {
			return http.StripPrefix(prefix, http.FileServer(noListing{http.Dir(filepath.Join(dir, sub))}))
		}
		faceAPI := mount("/kiosk/lib/face-api/", "node_modules/@vladmandic/face-api")
		wasm := mount("/kiosk/lib/tfjs-wasm/", "node_modules/@tensorflow/tfjs-backend-wasm/dist")
		qr := mount("/kiosk/lib/jsqr/", "node_modules/jsqr/dist")
		own := http.StripPrefix("/kiosk/", http.FileServer(noListing{ownFiles{http.Dir(dir)}}))
		w.Header().Set("Content-Security-Policy", kioskCSP)
		switch {
		case strings.HasPrefix(r.URL.Path, "/kiosk/lib/face-api/"):
			w.Header().Set("Cache-Control", "public, max-age=86400")
			faceAPI.ServeHTTP(w, r)
		case strings.HasPrefix(r.URL.Path, "/kiosk/lib/tfjs-wasm/"):
			w.Header().Set("Cache-Control", "public, max-age=86400")
			wasm.ServeHTTP(w, r)
		case strings.HasPrefix(r.URL.Path, "/kiosk/lib/jsqr/"):
			w.Header().Set("Cache-Control", "public, max-age=86400")
			qr.ServeHTTP(w, r)
		default:
			w.Header().Set("Cache-Control", "no-cache")
			own.ServeHTTP(w, r)
		}
	})
}

// ownFiles hides the kiosk's node_modules, lock file and notes from /kiosk/.
type ownFiles struct{ http.FileSystem }

func (f ownFiles) Open(name string) (http.File, error) {
	if strings.Contains(name, "node_modules") || strings.HasSuffix(name, ".json") || strings.HasSuffix(name, ".md") || strings.HasSuffix(name, ".txt") {
		return nil, os.ErrNotExist
	}
	return f.FileSystem.Open(name)
}

// noListing refuses directory listings.
type noListing struct{ http.FileSystem }

func (n noListing) Open(name string) (http.File, error) {
	f, err := n.FileSystem.Open(name)
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err == nil && st.IsDir() {
		if idx, err := n.FileSystem.Open(strings.TrimSuffix(name, "/") + "/index.html"); err == nil {
			idx.Close()
			return f, nil
		}
		f.Close()
		return nil, os.ErrNotExist
	}
	return f, nil
}

// faceEnrolPage is the staff page that takes a resident's photo, computes
// the descriptor in the browser and records the separate consent.
func (s *Server) faceEnrolPage(w http.ResponseWriter, r *http.Request) {
	s.renderFaceEnrol(w, r, nil)
}

func (s *Server) renderFaceEnrol(w http.ResponseWriter, r *http.Request, formErr error) {
	p, ok := s.loadPerson(w, r, access.PersonEdit)
	if !ok {
		return
	}
	creds, err := s.Store.PersonCredentials(r.Context(), p.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := map[string]any{"Person": p, "Credentials": creds, "Age": age(p.BirthDate, s.Store.Now())}
	if formErr != nil {
		data["Error"] = message(reqOf(r), formErr)
		w.WriteHeader(statusOf(formErr))
	}
	w.Header().Set("Content-Security-Policy", kioskCSP)
	s.render(w, r, "face_enrol", data)
}

func (s *Server) faceEnrol(w http.ResponseWriter, r *http.Request) {
	rq := reqOf(r)
	r.Body = http.MaxBytesReader(w, r.Body, gate.MaxPhotoBytes*2)
	var desc []float32
	if err := json.Unmarshal([]byte(r.PostFormValue("descriptor")), &desc); err != nil {
		s.renderFaceEnrol(w, r, errs.E(errs.Invalid, "err.gate.descriptor"))
		return
	}
	photo, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(r.PostFormValue("photo"), "data:image/jpeg;base64,"))
	_, err := s.Gates.EnrolFace(r.Context(), gate.Actor{P: rq.p, IP: rq.ip}, gate.FaceEnrolment{PersonID: r.PathValue("id"),
		Descriptor: desc, Model: r.PostFormValue("model"), Photo: photo, GivenBy: r.PostFormValue("given_by"), Guardian: r.PostFormValue("guardian")})
	s.credentialDone(w, r, err, "face.enrol", "?enrolled=1")
}
