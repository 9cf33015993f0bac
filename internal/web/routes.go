package web

import (
	"io/fs"
	"net/http"

	"shequ/internal/access"
)

func (s *Server) routes(mux *router) {
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", cacheStatic(http.FileServerFS(static))))

	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/static/favicon.svg", http.StatusMovedPermanently)
	})
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", s.Metrics.Handler())

	mux.HandleFunc("GET /login", s.loginPage)
	mux.HandleFunc("POST /login", s.loginSubmit)
	mux.HandleFunc("GET /login/resident", s.residentLoginPage)
	mux.HandleFunc("POST /login/resident/code", s.residentSendCode)
	mux.HandleFunc("POST /login/resident", s.residentLoginSubmit)
	mux.HandleFunc("POST /logout", s.logout)
	mux.HandleFunc("GET /lang", s.setLang)

	mux.HandleFunc("GET /{$}", s.signedIn(s.home))
	mux.HandleFunc("GET /account", s.signedIn(s.accountPage))
	mux.HandleFunc("POST /account/password", s.signedIn(s.accountPassword))

	mux.HandleFunc("GET /org", s.signedIn(s.orgTree))
	mux.HandleFunc("GET /org/{id}", s.signedIn(s.orgNode))
	mux.HandleFunc("POST /org/{id}", s.signedIn(s.orgRename))
	mux.HandleFunc("POST /org/{id}/children", s.signedIn(s.orgAddChild))
	mux.HandleFunc("POST /org/{id}/move", s.signedIn(s.orgMove))
	mux.HandleFunc("POST /org/import", s.signedIn(s.orgImport))

	mux.HandleFunc("GET /users", s.signedIn(s.userList))
	mux.HandleFunc("POST /users", s.signedIn(s.userCreate))
	mux.HandleFunc("GET /users/{id}", s.signedIn(s.userPage))
	mux.HandleFunc("POST /users/{id}/roles", s.signedIn(s.userAssign))
	mux.HandleFunc("POST /users/{id}/roles/{aid}/delete", s.signedIn(s.userUnassign))
	mux.HandleFunc("POST /users/{id}/disable", s.signedIn(s.userDisable))
	mux.HandleFunc("POST /users/{id}/enable", s.signedIn(s.userEnable))
	mux.HandleFunc("POST /users/{id}/password", s.signedIn(s.userPassword))
	mux.HandleFunc("POST /users/{id}/tokens", s.signedIn(s.userIssueToken))
	mux.HandleFunc("POST /users/{id}/tokens/{tid}/revoke", s.signedIn(s.userRevokeToken))

	mux.HandleFunc("GET /api/v1/whoami", s.signedIn(s.apiWhoami))
	mux.HandleFunc("POST /api/v1/leads/batches", s.signedIn(s.needs(access.LeadManage, s.apiLeadBatch)))
	mux.HandleFunc("GET /api/v1/leads/batches/{id}/results", s.signedIn(s.apiLeadResults))
	mux.Handle("GET /kiosk/", s.kioskFiles())
	mux.HandleFunc("GET /ledger/persons/{id}/face", s.signedIn(s.faceEnrolPage))
	mux.HandleFunc("POST /ledger/persons/{id}/face", s.signedIn(s.faceEnrol))
	mux.HandleFunc("POST /ledger/persons/{id}/credentials", s.signedIn(s.addCredential))
	mux.HandleFunc("POST /ledger/persons/{id}/credentials/{cid}/revoke", s.signedIn(s.revokeCredential))
	mux.HandleFunc("GET /me/pass", s.signedIn(s.myPass))
	mux.HandleFunc("POST /me/visitors", s.signedIn(s.myVisitor))
	mux.HandleFunc("GET /portal", s.signedIn(s.portal))
	mux.HandleFunc("GET /portal/elder", s.elderMode)
	mux.HandleFunc("GET /portal/manage", s.signedIn(s.portalManage))
	mux.HandleFunc("POST /portal/manage/{what}", s.signedIn(s.portalManage))
	mux.HandleFunc("GET /rumours", s.rumours)
	mux.HandleFunc("GET /rumours/{id}", s.rumour)
	mux.HandleFunc("GET /me/household", s.signedIn(s.myHousehold))
	mux.HandleFunc("POST /me/household", s.signedIn(s.myHousehold))
	mux.HandleFunc("GET /me/reports", s.signedIn(s.myReports))
	mux.HandleFunc("POST /me/reports", s.signedIn(s.myReportSubmit))
	mux.HandleFunc("GET /me/reports/{ref}", s.signedIn(s.myReport))
	mux.HandleFunc("GET /gates", s.signedIn(s.gatesPage))
	mux.HandleFunc("POST /gates/open/{id}", s.signedIn(s.remoteOpen))
	mux.HandleFunc("GET /gates/passes", s.signedIn(s.passesPage))
	mux.HandleFunc("GET /gates/manage", s.signedIn(s.gatesManage))
	mux.HandleFunc("POST /gates/manage", s.signedIn(s.gateCreate))
	mux.HandleFunc("POST /gates/manage/{id}/devices", s.signedIn(s.deviceCreate))
	mux.HandleFunc("POST /gates/manage/lists", s.signedIn(s.listEntryCreate))
	mux.HandleFunc("GET /gates/policies", s.signedIn(s.policiesPage))
	mux.HandleFunc("POST /gates/policies", s.signedIn(s.policySave))
	mux.HandleFunc("POST /gates/policies/preview", s.signedIn(s.policyPreview))
	mux.HandleFunc("GET /gates/checkpoint", s.signedIn(s.checkpoint))
	mux.HandleFunc("POST /gates/checkpoint/check", s.signedIn(s.checkpointCheck))
	mux.HandleFunc("POST /gates/checkpoint/record", s.signedIn(s.checkpointRecord))
	mux.HandleFunc("POST /gates/visitors", s.signedIn(s.visitorRegister))
	mux.HandleFunc("GET /gates/alarms", s.signedIn(s.alarmsPage))
	mux.HandleFunc("GET /gates/alarms/stream", s.signedIn(s.alarmStream))
	mux.HandleFunc("POST /gates/alarms/{id}", s.signedIn(s.alarmUpdate))

	mux.HandleFunc("POST /api/device/v1/decide", s.deviceDecide)
	mux.HandleFunc("POST /api/device/v1/events", s.deviceEvents)
	mux.HandleFunc("POST /api/device/v1/heartbeat", s.deviceHeartbeat)
	mux.HandleFunc("GET /api/device/v1/sync", s.deviceSync)

	mux.HandleFunc("GET /grid/{$}", s.signedIn(s.gridApp))
	mux.HandleFunc("GET /grid/sw.js", s.gridServiceWorker)
	mux.HandleFunc("GET /grid/manage", s.signedIn(s.gridManage))
	mux.HandleFunc("POST /grid/manage/{what}", s.signedIn(s.gridManagePost))
	mux.HandleFunc("GET /grid/campaigns/{id}", s.signedIn(s.gridCampaign))
	mux.HandleFunc("GET /grid/stickers", s.signedIn(s.gridStickers))
	mux.HandleFunc("POST /grid/patrols/{id}/event", s.signedIn(s.patrolToEvent))
	mux.HandleFunc("GET /api/grid/v1/bundle", s.signedIn(s.gridBundle))
	mux.HandleFunc("GET /api/grid/v1/households", s.signedIn(s.gridHouseholds))
	mux.HandleFunc("POST /api/grid/v1/visits", s.signedIn(s.needs(access.GridWork, s.gridVisit)))
	mux.HandleFunc("POST /api/grid/v1/patrols", s.signedIn(s.needs(access.GridWork, s.gridPatrol)))
	mux.HandleFunc("POST /api/grid/v1/leads/{id}/verify", s.signedIn(s.needs(access.LeadVerify, s.gridLeadVerify)))
	mux.HandleFunc("GET /api/grid/v1/rooms/{id}/visits", s.signedIn(s.gridRoomVisits))

	mux.HandleFunc("GET /r/{token}", s.reportForm)
	mux.HandleFunc("POST /r/{token}", s.reportSubmit)
	mux.HandleFunc("GET /r/{token}/rooms", s.reportRooms)
	mux.HandleFunc("POST /r/{token}/code", s.reportCode)
	mux.HandleFunc("GET /report/{ref}", s.reportReceipt)
	mux.HandleFunc("GET /open311/v2/services.json", s.o311Services)
	mux.HandleFunc("GET /open311/v2/services/{code}", s.o311Definition)
	mux.HandleFunc("POST /open311/v2/requests.json", s.o311Create)
	mux.HandleFunc("GET /open311/v2/requests.json", s.o311Requests)
	mux.HandleFunc("GET /open311/v2/requests/{id}", s.o311Requests)
	mux.HandleFunc("GET /open311/v2/tokens/{token}", s.o311Token)
	mux.HandleFunc("GET /events", s.signedIn(s.eventsBoard))
	mux.HandleFunc("POST /events", s.signedIn(s.eventReport))
	mux.HandleFunc("POST /events/categories", s.signedIn(s.needs(access.EventManage, s.eventCategoryAdd)))
	mux.HandleFunc("GET /events/{ref}", s.signedIn(s.eventPage))
	mux.HandleFunc("POST /events/{ref}/{action}", s.signedIn(s.eventAct))
	mux.HandleFunc("GET /leads", s.signedIn(s.leadsHome))
	mux.HandleFunc("POST /leads/batches", s.signedIn(s.needs(access.LeadManage, s.leadsImport)))
	mux.HandleFunc("POST /leads/keys", s.signedIn(s.needs(access.LeadManage, s.leadKeyCreate)))
	mux.HandleFunc("GET /leads/batches/{id}", s.signedIn(s.leadBatch))
	mux.HandleFunc("GET /leads/batches/{id}/report.xlsx", s.signedIn(s.leadExport))
	mux.HandleFunc("POST /leads/batches/{id}/remind", s.signedIn(s.leadRemind))
	mux.HandleFunc("GET /leads/{id}", s.signedIn(s.lead))
	mux.HandleFunc("POST /leads/{id}/{what}", s.signedIn(s.leadAction))
	mux.HandleFunc("GET /leads/codes", s.signedIn(s.reportCodes))
	mux.HandleFunc("POST /leads/codes", s.signedIn(s.needs(access.LeadManage, s.reportCodeCreate)))
	mux.HandleFunc("GET /leads/codes/{id}/poster", s.signedIn(s.reportPoster))
	mux.HandleFunc("GET /leads/codes/{id}/poster.png", s.signedIn(s.reportPosterPNG))

	s.peopleRoutes(mux)
	s.trainingRoutes(mux)
	s.sharingRoutes(mux)
	s.overviewRoutes(mux)
	s.exchangeRoutes(mux)
	s.webhookRoutes(mux)
	s.brainRoutes(mux)
	s.siteplanRoutes(mux)

	mux.HandleFunc("GET /audit", s.signedIn(s.auditPage))

	mux.HandleFunc("GET /ledger", s.signedIn(s.ledgerHome))
	mux.HandleFunc("GET /ledger/buildings/{id}", s.signedIn(s.building))
	mux.HandleFunc("GET /ledger/rooms/{id}", s.signedIn(s.room))
	mux.HandleFunc("POST /ledger/rooms/{id}", s.signedIn(s.roomUpdate))
	mux.HandleFunc("POST /ledger/rooms/{id}/members", s.signedIn(s.roomMoveIn))
	mux.HandleFunc("POST /ledger/rooms/{id}/owners", s.signedIn(s.roomOwner))
	mux.HandleFunc("POST /ledger/sites/{id}/buildings", s.signedIn(s.buildingCreate))
	mux.HandleFunc("POST /ledger/rooms/{id}/contracts", s.signedIn(s.contractCreate))
	mux.HandleFunc("GET /ledger/persons", s.signedIn(s.persons))
	mux.HandleFunc("GET /ledger/persons/{id}", s.signedIn(s.person))
	mux.HandleFunc("POST /ledger/persons/{id}", s.signedIn(s.personUpdate))
	mux.HandleFunc("POST /ledger/persons/{id}/reveal", s.signedIn(s.needs(access.PIIReveal, s.personReveal)))
	mux.HandleFunc("POST /ledger/persons/{id}/move-out", s.signedIn(s.needs(access.PersonEdit, s.personMoveOut)))
	mux.HandleFunc("POST /ledger/persons/{id}/health/{kind}", s.signedIn(s.needs(access.PersonEdit, s.personHealth)))
	mux.HandleFunc("GET /ledger/contracts", s.signedIn(s.contracts))
	mux.HandleFunc("POST /ledger/contracts/{id}/end", s.signedIn(s.contractEnd))
	mux.HandleFunc("GET /ledger/contracts/{id}/scan", s.signedIn(s.contractScan))
	mux.HandleFunc("GET /ledger/duplicates", s.signedIn(s.duplicates))
	mux.HandleFunc("POST /ledger/duplicates/merge", s.signedIn(s.needs(access.PersonEdit, s.merge)))
	mux.HandleFunc("GET /ledger/export", s.signedIn(s.ledgerExport))
	mux.HandleFunc("GET /ledger/import", s.signedIn(s.importPage))
	mux.HandleFunc("GET /ledger/import/template.xlsx", s.signedIn(s.importTemplate))
	mux.HandleFunc("POST /ledger/import", s.signedIn(s.importUpload))
	mux.HandleFunc("GET /ledger/import/{id}", s.signedIn(s.importShow))
	mux.HandleFunc("POST /ledger/import/{id}/commit", s.signedIn(s.importCommit))
	mux.HandleFunc("GET /ledger/import/{id}/status", s.signedIn(s.importStatus))
	mux.HandleFunc("GET /ledger/import/{id}/errors.xlsx", s.signedIn(s.importErrors))

	mux.HandleFunc("/", s.notFound)
}

// needs refuses, before the handler reads any input, callers whose roles
// carry action nowhere; the handler still checks the record's node.
func (s *Server) needs(action access.Action, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !reqOf(r).p.CanAnywhere(action) {
			s.deny(w, r, string(action), "", "", "")
			return
		}
		h(w, r)
	}
}

// signedIn lets only logged-in people through (residents included; each
// handler checks the action it needs).
func (s *Server) signedIn(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if reqOf(r).p == nil {
			s.fail(w, r, errLoginRequired)
			return
		}
		h(w, r)
	}
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) { s.fail(w, r, errNotFound) }

func cacheStatic(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := s.Store.Ping(r.Context()); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("database unreachable\n"))
		return
	}
	w.Write([]byte("ok\n"))
}
