// Package access answers one question: may this principal do this action on
// a record that belongs to this node of the organisation tree? A role grants
// actions; a role assignment grants them at a node and everything below it.
package access

import "strings"

// Role names, as stored in role assignments and printed by `shequ demo`.
type Role string

const (
	Admin    Role = "admin"    // system administrator
	Official Role = "official" // district / street official
	Staff    Role = "staff"    // community staff
	Grid     Role = "grid"     // grid worker
	Property Role = "property" // property-company staff
	Owners   Role = "owners"   // owners'-committee member
	Partner  Role = "partner"  // partner department (API token)
	Device   Role = "device"   // gate or kiosk device (API token)
	Resident Role = "resident" // resident (phone + one-time code)
)

// Roles lists every role, in the order the UI offers them.
var Roles = []Role{Admin, Official, Staff, Grid, Property, Owners, Partner, Device, Resident}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	for _, x := range Roles {
		if x == r {
			return true
		}
	}
	return false
}

// Action is something a principal may do.
type Action string

const (
	OrgView      Action = "org.view"
	OrgManage    Action = "org.manage"
	UserView     Action = "user.view"
	UserManage   Action = "user.manage"
	AuditView    Action = "audit.view"
	PersonView   Action = "person.view" // masked personal data
	PersonEdit   Action = "person.edit" // ledger changes
	PIIReveal    Action = "pii.reveal"  // unmask a personal field (audited)
	DataImport   Action = "data.import" // bulk imports
	DataExport   Action = "data.export" // masked exports
	ExportPlain  Action = "data.export_unmasked"
	GateView     Action = "gate.view"
	GateManage   Action = "gate.manage"
	GateOperate  Action = "gate.operate" // staffed checkpoint
	GridWork     Action = "grid.work"    // visits and patrols
	LeadView     Action = "lead.view"
	LeadManage   Action = "lead.manage"
	LeadVerify   Action = "lead.verify"
	EventView    Action = "event.view"
	EventReport  Action = "event.report"
	EventHandle  Action = "event.handle"
	EventManage  Action = "event.manage" // accept, dispatch, close
	BrainView    Action = "brain.view"   // dashboards
	AssessView   Action = "assess.view"
	AssessManage Action = "assess.manage"
	ShareManage  Action = "share.manage" // sharing agreements
	APIRead      Action = "api.read"     // partner open-API reads
	DeviceReport Action = "device.report"
	SelfService  Action = "self.service" // a resident's own data
)

// Actions lists every action (for the matrix test and the UI).
var Actions = []Action{OrgView, OrgManage, UserView, UserManage, AuditView, PersonView, PersonEdit, PIIReveal,
	DataImport, DataExport, ExportPlain, GateView, GateManage, GateOperate, GridWork, LeadView, LeadManage,
	LeadVerify, EventView, EventReport, EventHandle, EventManage, BrainView, AssessView, AssessManage,
	ShareManage, APIRead, DeviceReport, SelfService}

// grants is the one table of what each role may do.
var grants = map[Role][]Action{
	Admin: {OrgView, OrgManage, UserView, UserManage, AuditView, PersonView, PersonEdit, PIIReveal, DataImport,
		DataExport, ExportPlain, GateView, GateManage, LeadView, LeadManage, EventView, EventManage, BrainView,
		AssessView, AssessManage, ShareManage},
	Official: {OrgView, UserView, AuditView, PersonView, DataExport, GateView, LeadView, LeadManage, EventView,
		EventManage, BrainView, AssessView},
	Staff: {OrgView, OrgManage, UserView, UserManage, AuditView, PersonView, PersonEdit, PIIReveal, DataImport,
		DataExport, ExportPlain, GateView, GateManage, GateOperate, GridWork, LeadView, LeadManage, LeadVerify,
		EventView, EventReport, EventHandle, EventManage, BrainView, AssessView, AssessManage, ShareManage},
	Grid: {OrgView, PersonView, PersonEdit, PIIReveal, GateOperate, GridWork, LeadView, LeadVerify, EventView,
		EventReport, EventHandle, AssessView},
	Property: {OrgView, GateView, GateOperate, EventView, EventReport, EventHandle},
	Owners:   {OrgView, EventView},
	Partner:  {APIRead},
	Device:   {DeviceReport},
	Resident: {SelfService, EventReport},
}

var grantSet = func() map[Role]map[Action]bool {
	m := map[Role]map[Action]bool{}
	for r, as := range grants {
		m[r] = map[Action]bool{}
		for _, a := range as {
			m[r][a] = true
		}
	}
	return m
}()

// RoleAllows reports whether role r carries action a somewhere.
func RoleAllows(r Role, a Action) bool { return grantSet[r][a] }

// Assignment is a role held at a node (NodePath "/id/id/…/").
type Assignment struct {
	Role     Role
	NodeID   string
	NodePath string
}

// Principal is whoever makes a request: a person or an API client.
type Principal struct {
	UserID      string
	Name        string
	Kind        string // staff, resident, api
	Assignments []Assignment
}

// Anonymous reports whether nobody is logged in.
func (p *Principal) Anonymous() bool { return p == nil || p.UserID == "" }

// Can reports whether p may do a on a record that belongs to the node with
// path nodePath: some assignment must grant a at that node or above it.
func (p *Principal) Can(a Action, nodePath string) bool {
	if p == nil || nodePath == "" {
		return false
	}
	for _, as := range p.Assignments {
		if grantSet[as.Role][a] && strings.HasPrefix(nodePath, as.NodePath) {
			return true
		}
	}
	return false
}

// CanAtOrBelow reports whether p may do a at nodePath or at a node below
// it: a grid worker operates the gates of the community their grid is in.
func (p *Principal) CanAtOrBelow(a Action, nodePath string) bool {
	if p == nil || nodePath == "" {
		return false
	}
	for _, as := range p.Assignments {
		if grantSet[as.Role][a] && (strings.HasPrefix(nodePath, as.NodePath) || strings.HasPrefix(as.NodePath, nodePath)) {
			return true
		}
	}
	return false
}

// CanAnywhere reports whether p may do a somewhere (menus, page access).
func (p *Principal) CanAnywhere(a Action) bool {
	if p == nil {
		return false
	}
	for _, as := range p.Assignments {
		if grantSet[as.Role][a] {
			return true
		}
	}
	return false
}

// Scopes returns the node paths at which p may do a, without paths that a
// broader one already covers: the list filters queries ("path LIKE scope ||
// '%'" for each).
func (p *Principal) Scopes(a Action) []string {
	if p == nil {
		return nil
	}
	var all []string
	for _, as := range p.Assignments {
		if grantSet[as.Role][a] {
			all = append(all, as.NodePath)
		}
	}
	var out []string
	for i, s := range all {
		covered := false
		for j, t := range all {
			if i != j && strings.HasPrefix(s, t) && (s != t || j < i) {
				covered = true
				break
			}
		}
		if !covered {
			out = append(out, s)
		}
	}
	return out
}

// HasRole reports whether p holds role r anywhere.
func (p *Principal) HasRole(r Role) bool {
	if p == nil {
		return false
	}
	for _, as := range p.Assignments {
		if as.Role == r {
			return true
		}
	}
	return false
}
