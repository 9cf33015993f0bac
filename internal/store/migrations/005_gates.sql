-- Smart gates: entrances and their devices, credentials (cards, plates,
-- faces), face-enrolment consent, time-boxed access lists, visitors,
-- versioned entry policies, decisions, pass events and alarms.

CREATE TABLE gates (
	id           TEXT PRIMARY KEY,
	community_id TEXT NOT NULL REFERENCES org_nodes(id),
	site_id      TEXT REFERENCES places(id),
	code         TEXT NOT NULL UNIQUE,
	name         TEXT NOT NULL,
	kind         TEXT NOT NULL CHECK (kind IN ('turnstile','temp_door','vehicle','booth')),
	created_at   BIGINT NOT NULL
);
CREATE INDEX gates_community ON gates(community_id);

CREATE TABLE devices (
	id           TEXT PRIMARY KEY,
	gate_id      TEXT NOT NULL REFERENCES gates(id),
	user_id      TEXT NOT NULL UNIQUE REFERENCES users(id),
	name         TEXT NOT NULL,
	last_seen_at BIGINT,
	offline      INTEGER NOT NULL DEFAULT 0,
	open_pending INTEGER NOT NULL DEFAULT 0,
	created_at   BIGINT NOT NULL
);
CREATE INDEX devices_gate ON devices(gate_id);

-- A counter for the credential sync cursor (one row), bumped in the same
-- transaction as each credential change.
CREATE TABLE sync_head (
	id  INTEGER PRIMARY KEY CHECK (id = 1),
	seq BIGINT NOT NULL
);
INSERT INTO sync_head (id, seq) VALUES (1, 0);

CREATE TABLE face_consents (
	id           TEXT PRIMARY KEY,
	person_id    TEXT NOT NULL REFERENCES persons(id),
	given_by     TEXT NOT NULL,               -- 'self' or 'guardian'
	guardian     TEXT NOT NULL DEFAULT '',    -- the guardian's name (masked in lists) for under-14s
	recorded_by  TEXT,
	at           BIGINT NOT NULL,
	withdrawn_at BIGINT
);
CREATE INDEX face_consents_person ON face_consents(person_id);

CREATE TABLE credentials (
	id          TEXT PRIMARY KEY,
	person_id   TEXT NOT NULL REFERENCES persons(id),
	kind        TEXT NOT NULL CHECK (kind IN ('card','plate','face')),
	value_bidx  TEXT,           -- cards and plates: blind index for lookup
	value_enc   BLOB,           -- cards and plates: the value; faces: the descriptor
	value_mask  TEXT NOT NULL DEFAULT '',
	model       TEXT NOT NULL DEFAULT '',
	photo_enc   BLOB,           -- faces: the enrolment photo, so descriptors can be recomputed
	consent_id  TEXT REFERENCES face_consents(id),
	valid_until BIGINT,
	revoked_at  BIGINT,
	seq         BIGINT NOT NULL,
	created_at  BIGINT NOT NULL,
	created_by  TEXT
);
CREATE INDEX credentials_lookup ON credentials(kind, value_bidx);
CREATE INDEX credentials_person ON credentials(person_id);
CREATE INDEX credentials_seq ON credentials(seq);

CREATE TABLE access_lists (
	id           TEXT PRIMARY KEY,
	community_id TEXT NOT NULL REFERENCES org_nodes(id),
	person_id    TEXT NOT NULL REFERENCES persons(id),
	kind         TEXT NOT NULL CHECK (kind IN ('staff','property','courier','other')),
	valid_from   BIGINT NOT NULL,
	valid_until  BIGINT NOT NULL,
	note         TEXT NOT NULL DEFAULT '',
	created_by   TEXT,
	created_at   BIGINT NOT NULL
);
CREATE INDEX access_lists_person ON access_lists(person_id, valid_until);

CREATE TABLE visitors (
	id             TEXT PRIMARY KEY,
	community_id   TEXT NOT NULL REFERENCES org_nodes(id),
	host_room_id   TEXT REFERENCES places(id),
	host_person_id TEXT REFERENCES persons(id),
	person_id      TEXT REFERENCES persons(id),
	name           TEXT NOT NULL,
	id_enc         BLOB,
	id_bidx        TEXT,
	id_mask        TEXT NOT NULL DEFAULT '',
	phone_enc      BLOB,
	phone_mask     TEXT NOT NULL DEFAULT '',
	reason         TEXT NOT NULL DEFAULT '',
	valid_from     BIGINT NOT NULL,
	valid_until    BIGINT NOT NULL,
	registered_by  TEXT NOT NULL,  -- 'resident' or 'booth'
	created_by     TEXT,
	created_at     BIGINT NOT NULL
);
CREATE INDEX visitors_community ON visitors(community_id, valid_until);
CREATE INDEX visitors_id ON visitors(id_bidx);

CREATE TABLE policies (
	id          TEXT PRIMARY KEY,
	scope_type  TEXT NOT NULL CHECK (scope_type IN ('node','gate')),
	scope_id    TEXT NOT NULL,
	name        TEXT NOT NULL,
	version     INTEGER NOT NULL,
	body        TEXT NOT NULL,
	valid_from  BIGINT NOT NULL,
	valid_to    BIGINT,
	updated_at  BIGINT NOT NULL,
	updated_by  TEXT
);
CREATE INDEX policies_scope ON policies(scope_type, scope_id);

CREATE TABLE policy_versions (
	policy_id  TEXT NOT NULL REFERENCES policies(id),
	version    INTEGER NOT NULL,
	body       TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	created_by TEXT,
	PRIMARY KEY (policy_id, version)
);

-- Pass events as devices report them; the device's event id makes every
-- upload idempotent. Both clocks are kept.
CREATE TABLE pass_events (
	id             TEXT PRIMARY KEY,
	device_id      TEXT NOT NULL REFERENCES devices(id),
	gate_id        TEXT NOT NULL REFERENCES gates(id),
	event_id       TEXT NOT NULL,
	person_id      TEXT,
	credential     TEXT NOT NULL,
	outcome        TEXT NOT NULL,
	reason         TEXT NOT NULL DEFAULT '',
	temperature    REAL,
	direction      TEXT NOT NULL DEFAULT 'in',
	device_time    BIGINT NOT NULL,
	received_at    BIGINT NOT NULL,
	policy_version INTEGER,
	snapshot_enc   BLOB,
	UNIQUE (device_id, event_id)
);
CREATE INDEX pass_events_gate_time ON pass_events(gate_id, received_at);
CREATE INDEX pass_events_person ON pass_events(person_id, received_at);
CREATE INDEX pass_events_received ON pass_events(received_at);

-- Every decision the server made, with the policy version used.
CREATE TABLE decisions (
	id             TEXT PRIMARY KEY,
	device_id      TEXT NOT NULL,
	gate_id        TEXT NOT NULL,
	person_id      TEXT,
	credential     TEXT NOT NULL,
	outcome        TEXT NOT NULL,
	reason         TEXT NOT NULL,
	policy_id      TEXT NOT NULL DEFAULT '',
	policy_version INTEGER NOT NULL DEFAULT 0,
	temperature    REAL,
	at             BIGINT NOT NULL
);
CREATE INDEX decisions_at ON decisions(at);

CREATE TABLE alarms (
	id         TEXT PRIMARY KEY,
	gate_id    TEXT NOT NULL REFERENCES gates(id),
	device_id  TEXT,
	kind       TEXT NOT NULL CHECK (kind IN ('fever','stranger','code_colour','policy_deny','device_offline')),
	person_id  TEXT,
	detail     TEXT NOT NULL DEFAULT '',
	at         BIGINT NOT NULL,
	status     TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open','acknowledged','handled')),
	ack_by     TEXT,
	ack_at     BIGINT,
	note       TEXT NOT NULL DEFAULT '',
	handled_by TEXT,
	handled_at BIGINT
);
CREATE INDEX alarms_gate ON alarms(gate_id, at);
CREATE INDEX alarms_status ON alarms(status, at);
