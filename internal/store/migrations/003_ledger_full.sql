-- The rest of the population ledger: search keys, ownership, rental
-- contracts, health records, the change history and import jobs.

ALTER TABLE persons ADD COLUMN name_initials TEXT NOT NULL DEFAULT '';
ALTER TABLE persons ADD COLUMN registered_address TEXT NOT NULL DEFAULT '';
CREATE INDEX persons_initials ON persons(name_initials);
CREATE INDEX persons_birth ON persons(birth_date);

-- Who owns a room (may differ from who lives there).
CREATE TABLE room_owners (
	room_id   TEXT NOT NULL REFERENCES places(id),
	person_id TEXT NOT NULL REFERENCES persons(id),
	since     TEXT,
	until     TEXT,
	PRIMARY KEY (room_id, person_id)
);
CREATE INDEX room_owners_person ON room_owners(person_id);

CREATE TABLE contracts (
	id           TEXT PRIMARY KEY,
	room_id      TEXT NOT NULL REFERENCES places(id),
	landlord_id  TEXT REFERENCES persons(id),
	household_id TEXT REFERENCES households(id),
	start_date   TEXT NOT NULL,
	end_date     TEXT NOT NULL,
	rent         INTEGER,
	form         TEXT NOT NULL DEFAULT '{}',
	scan_enc     BLOB,
	scan_name    TEXT NOT NULL DEFAULT '',
	scan_type    TEXT NOT NULL DEFAULT '',
	ended_on     TEXT,
	created_at   BIGINT NOT NULL,
	created_by   TEXT,
	updated_at   BIGINT NOT NULL
);
CREATE INDEX contracts_room ON contracts(room_id);
CREATE INDEX contracts_end ON contracts(end_date);
CREATE INDEX contracts_landlord ON contracts(landlord_id);

CREATE TABLE contract_tenants (
	contract_id TEXT NOT NULL REFERENCES contracts(id),
	person_id   TEXT NOT NULL REFERENCES persons(id),
	PRIMARY KEY (contract_id, person_id)
);
CREATE INDEX contract_tenants_person ON contract_tenants(person_id);

-- Health records are generic: a test of some kind, a vaccine dose, a code
-- colour, a travel declaration, a monitoring period. Each keeps its source.
CREATE TABLE health_tests (
	id          TEXT PRIMARY KEY,
	person_id   TEXT NOT NULL REFERENCES persons(id),
	kind        TEXT NOT NULL,
	sampled_at  BIGINT NOT NULL,
	result_at   BIGINT,
	result      TEXT NOT NULL CHECK (result IN ('pending','negative','positive','invalid')),
	institution TEXT NOT NULL DEFAULT '',
	source      TEXT NOT NULL,
	entered_by  TEXT,
	created_at  BIGINT NOT NULL
);
CREATE INDEX health_tests_person ON health_tests(person_id, sampled_at);
CREATE INDEX health_tests_sampled ON health_tests(sampled_at);

CREATE TABLE vaccinations (
	id         TEXT PRIMARY KEY,
	person_id  TEXT NOT NULL REFERENCES persons(id),
	vaccine    TEXT NOT NULL,
	dose       INTEGER NOT NULL,
	given_on   TEXT NOT NULL,
	site       TEXT NOT NULL DEFAULT '',
	lot        TEXT NOT NULL DEFAULT '',
	source     TEXT NOT NULL,
	entered_by TEXT,
	created_at BIGINT NOT NULL
);
CREATE INDEX vaccinations_person ON vaccinations(person_id, given_on);

CREATE TABLE code_snapshots (
	id         TEXT PRIMARY KEY,
	person_id  TEXT NOT NULL REFERENCES persons(id),
	colour     TEXT NOT NULL,
	at         BIGINT NOT NULL,
	source     TEXT NOT NULL,
	entered_by TEXT,
	created_at BIGINT NOT NULL
);
CREATE INDEX code_snapshots_person ON code_snapshots(person_id, at);

CREATE TABLE travel_declarations (
	id           TEXT PRIMARY KEY,
	person_id    TEXT NOT NULL REFERENCES persons(id),
	from_place   TEXT NOT NULL,
	arrival_date TEXT NOT NULL,
	transport    TEXT NOT NULL DEFAULT '',
	source       TEXT NOT NULL,
	entered_by   TEXT,
	created_at   BIGINT NOT NULL
);
CREATE INDEX travel_person ON travel_declarations(person_id, arrival_date);

CREATE TABLE monitoring (
	id         TEXT PRIMARY KEY,
	person_id  TEXT NOT NULL REFERENCES persons(id),
	kind       TEXT NOT NULL CHECK (kind IN ('health_monitoring','home_quarantine','central_quarantine')),
	start_date TEXT NOT NULL,
	end_date   TEXT NOT NULL,
	reason     TEXT NOT NULL DEFAULT '',
	source     TEXT NOT NULL,
	entered_by TEXT,
	created_at BIGINT NOT NULL,
	lifted_on  TEXT
);
CREATE INDEX monitoring_person ON monitoring(person_id, end_date);
CREATE INDEX monitoring_end ON monitoring(end_date);

-- Every change to a person, household, room or contract: who, when, what,
-- why, from where. Values of protected fields are recorded masked.
CREATE TABLE change_log (
	id          TEXT PRIMARY KEY,
	entity_type TEXT NOT NULL,
	entity_id   TEXT NOT NULL,
	person_id   TEXT,
	at          BIGINT NOT NULL,
	actor_id    TEXT,
	actor_name  TEXT NOT NULL DEFAULT '',
	source      TEXT NOT NULL,
	action      TEXT NOT NULL,
	reason      TEXT NOT NULL DEFAULT '',
	changes     TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX change_log_entity ON change_log(entity_type, entity_id, at);
CREATE INDEX change_log_person ON change_log(person_id, at);

-- Uploaded ledger files between preview and commit.
CREATE TABLE ledger_imports (
	id           TEXT PRIMARY KEY,
	user_id      TEXT NOT NULL REFERENCES users(id),
	community_id TEXT NOT NULL REFERENCES org_nodes(id),
	file_name    TEXT NOT NULL,
	file_enc     BLOB NOT NULL,
	status       TEXT NOT NULL CHECK (status IN ('preview','running','done','failed')),
	total_rows   INTEGER NOT NULL DEFAULT 0,
	done_rows    INTEGER NOT NULL DEFAULT 0,
	problems     INTEGER NOT NULL DEFAULT 0,
	mode         TEXT NOT NULL DEFAULT '',
	result       TEXT NOT NULL DEFAULT '',
	created_at   BIGINT NOT NULL,
	updated_at   BIGINT NOT NULL
);
