package access

import (
	"reflect"
	"strings"
	"testing"
)

// expected is written out by hand, independently of the grants table: one
// row per action, one column per role in the order
// admin official staff grid property owners partner device resident.
var expected = map[Action]string{
	OrgView:      "xxxxxx...",
	OrgManage:    "x.x......",
	UserView:     "xxx......",
	UserManage:   "x.x......",
	AuditView:    "xxx......",
	PersonView:   "xxxx.....",
	PersonEdit:   "x.xx.....",
	PIIReveal:    "x.xx.....",
	DataImport:   "x.x......",
	DataExport:   "xxx......",
	ExportPlain:  "x.x......",
	GateView:     "xxx.x....",
	GateManage:   "x.x......",
	GateOperate:  "..xxx....",
	GridWork:     "..xx.....",
	LeadView:     "xxxx.....",
	LeadManage:   "xxx......",
	LeadVerify:   "..xx.....",
	EventView:    "xxxxxx...",
	EventReport:  "..xxx...x",
	EventHandle:  "..xxx....",
	EventManage:  "xxx......",
	BrainView:    "xxx......",
	AssessView:   "xxxx.....",
	AssessManage: "x.x......",
	ShareManage:  "x.x......",
	APIRead:      "......x..",
	DeviceReport: ".......x.",
	SelfService:  "........x",
}

// A small tree: province P with two cities; the second branch is where
// out-of-scope records live for every role.
const (
	pathProvince  = "/p/"
	pathCity      = "/p/c/"
	pathDistrict  = "/p/c/d/"
	pathStreet    = "/p/c/d/s/"
	pathCommunity = "/p/c/d/s/m/"
	pathGrid      = "/p/c/d/s/m/g/"
	pathRoom      = "/p/c/d/s/m/g/" // records of a room belong to its grid
	otherProvince = "/q/"
	otherCity     = "/p/c2/"
	otherDistrict = "/p/c/d2/"
	otherStreet   = "/p/c/d/s2/"
	otherComm     = "/p/c/d/s/m2/"
	otherGrid     = "/p/c/d/s/m/g2/"
)

// where each role is assigned, and a record path outside that assignment.
var placement = map[Role][2]string{
	Admin:    {pathProvince, otherProvince + "x/"},
	Official: {pathStreet, otherStreet + "m/"},
	Staff:    {pathCommunity, otherComm + "g/"},
	Grid:     {pathGrid, otherGrid},
	Property: {pathCommunity, otherComm},
	Owners:   {pathCommunity, otherComm},
	Partner:  {pathDistrict, otherDistrict},
	Device:   {pathCommunity, otherComm},
	Resident: {pathGrid, otherGrid},
}

func TestPermissionMatrix(t *testing.T) {
	if len(expected) != len(Actions) {
		t.Fatalf("expected table has %d actions, the code has %d: add the new action to the table", len(expected), len(Actions))
	}
	for _, a := range Actions {
		row, ok := expected[a]
		if !ok || len(row) != len(Roles) {
			t.Fatalf("no complete expected row for action %s", a)
		}
		for i, r := range Roles {
			want := row[i] == 'x'
			at := placement[r]
			p := &Principal{UserID: "u", Assignments: []Assignment{{Role: r, NodePath: at[0]}}}
			if got := p.Can(a, pathRoom); got != want {
				t.Errorf("%s × %s in scope: got %v, want %v", r, a, got, want)
			}
			if p.Can(a, at[1]) {
				t.Errorf("%s × %s out of scope (%s) was allowed", r, a, at[1])
			}
			if got := p.Can(a, at[0]); got != want {
				t.Errorf("%s × %s at its own node: got %v, want %v", r, a, got, want)
			}
		}
	}
}

func TestScopeIsAPrefixNotASubstring(t *testing.T) {
	p := &Principal{UserID: "u", Assignments: []Assignment{{Role: Staff, NodePath: "/p/c/d/s/m/"}}}
	for _, path := range []string{"/p/c/d/s/", "/p/c/d/s/m2/", "/x/p/c/d/s/m/", ""} {
		if p.Can(PersonView, path) {
			t.Errorf("staff of /p/c/d/s/m/ may view %q", path)
		}
	}
	var nobody *Principal
	if nobody.Can(OrgView, "/p/") || nobody.CanAnywhere(OrgView) {
		t.Error("nil principal allowed")
	}
}

func TestScopesDropCoveredPaths(t *testing.T) {
	p := &Principal{UserID: "u", Assignments: []Assignment{
		{Role: Grid, NodePath: "/p/s/m/g1/"},
		{Role: Staff, NodePath: "/p/s/m/"},
		{Role: Grid, NodePath: "/p/s/m2/g3/"},
		{Role: Owners, NodePath: "/p/s/m3/"},
	}}
	got := p.Scopes(PersonView)
	want := []string{"/p/s/m/", "/p/s/m2/g3/"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Scopes = %v, want %v", got, want)
	}
	if got := p.Scopes(DeviceReport); len(got) != 0 {
		t.Fatalf("no role grants device.report, got %v", got)
	}
}

func TestEveryRoleNamed(t *testing.T) {
	for _, r := range Roles {
		if !r.Valid() || strings.ContainsAny(string(r), " /") {
			t.Errorf("bad role %q", r)
		}
	}
	if Role("root").Valid() {
		t.Error("unknown role valid")
	}
}
