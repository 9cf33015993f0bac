package gate

import "time"

// lookupMaxAge bounds how long a remembered lookup (a device, a credential's
// holder, a person, their health facts) is trusted: writes made in this
// process are seen at once, writes by another process and the passing of
// time within this age (internal/memo).
const lookupMaxAge = 10 * time.Second

// Tables whose writes change who a credential or person is at a gate, and
// what the policy knows of their health.
var (
	identityTables = []string{"credentials", "persons", "household_members", "households", "places", "access_lists"}
	healthTables   = []string{"code_snapshots", "health_tests", "vaccinations", "monitoring"}
	deviceTables   = []string{"devices", "gates", "org_nodes"}
)
