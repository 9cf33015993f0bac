-- Epidemic leads (线索) and residents' self-reports (自主报备).
--
-- A lead is someone to verify: from a batch an upper level sent down, or
-- from a self-report. It sits at the node responsible for it (a street, a
-- community, a grid) and, once matched to the ledger, with the grid worker
-- of the person's room.

-- Keys of sharing agreements with upper levels: a batch may name people
-- by HMAC-SHA256 of their identity number under such a key instead of the
-- number itself (docs/leads.md).
CREATE TABLE lead_keys (
	id         TEXT PRIMARY KEY,
	node_id    TEXT NOT NULL REFERENCES org_nodes(id),
	name       TEXT NOT NULL,
	key_enc    BLOB NOT NULL,
	created_by TEXT,
	created_at BIGINT NOT NULL
);

CREATE TABLE lead_batches (
	id          TEXT PRIMARY KEY,
	node_id     TEXT NOT NULL REFERENCES org_nodes(id),  -- where it arrived
	name        TEXT NOT NULL,
	source      TEXT NOT NULL,                           -- import, api, selfreport
	deadline    TEXT NOT NULL,
	layout      TEXT NOT NULL DEFAULT '',                -- the sender's columns, for the report back
	key_id      TEXT REFERENCES lead_keys(id),           -- the agreement its keyed identifiers use
	created_by  TEXT,
	created_at  BIGINT NOT NULL
);

CREATE TABLE leads (
	id           TEXT PRIMARY KEY,
	batch_id     TEXT NOT NULL REFERENCES lead_batches(id),
	row_no       INTEGER NOT NULL DEFAULT 0,
	name         TEXT NOT NULL DEFAULT '',
	id_enc       BLOB,
	id_bidx      TEXT,
	id_mask      TEXT NOT NULL DEFAULT '',
	phone_enc    BLOB,
	phone_bidx   TEXT,
	phone_mask   TEXT NOT NULL DEFAULT '',
	id_hmac      TEXT NOT NULL DEFAULT '',                 -- a keyed identifier instead of the number (docs/leads.md)
	address      TEXT NOT NULL DEFAULT '',
	reason       TEXT NOT NULL DEFAULT '',
	deadline     TEXT NOT NULL,
	node_id      TEXT NOT NULL REFERENCES org_nodes(id),  -- who holds it now
	person_id    TEXT REFERENCES persons(id),
	room_id      TEXT REFERENCES places(id),
	match_kind   TEXT NOT NULL DEFAULT 'none',             -- id, phone, room, fuzzy, manual, none
	confidence   INTEGER NOT NULL DEFAULT 0,               -- percent
	assignee_id  TEXT REFERENCES users(id),
	status       TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open','assigned','verified')),
	outcome      TEXT NOT NULL DEFAULT '',
	outcome_note TEXT NOT NULL DEFAULT '',
	measure      TEXT NOT NULL DEFAULT '',
	proof_enc    BLOB,
	cells_enc    BLOB,                                     -- the sender's row, encrypted, for the report back
	verified_at  BIGINT,
	verified_by  TEXT,
	created_at   BIGINT NOT NULL,
	updated_at   BIGINT NOT NULL
);
CREATE INDEX leads_batch ON leads(batch_id, status);
CREATE INDEX leads_node ON leads(node_id, status);
CREATE INDEX leads_assignee ON leads(assignee_id, status);
CREATE INDEX leads_person ON leads(person_id);

-- Every move of a lead: matched, assigned, reassigned, transferred, verified.
CREATE TABLE lead_events (
	id         TEXT PRIMARY KEY,
	lead_id    TEXT NOT NULL REFERENCES leads(id),
	at         BIGINT NOT NULL,
	actor_id   TEXT,
	actor_name TEXT NOT NULL DEFAULT '',
	action     TEXT NOT NULL,
	detail     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX lead_events_lead ON lead_events(lead_id, at);

-- A self-report code names a community and a place (a gate, a shop, a
-- grid's chat group); its token is what the poster's QR code carries.
CREATE TABLE report_codes (
	id           TEXT PRIMARY KEY,
	community_id TEXT NOT NULL REFERENCES org_nodes(id),
	place        TEXT NOT NULL,
	kind         TEXT NOT NULL CHECK (kind IN ('community','gate','shop','group','other')),
	token        TEXT NOT NULL UNIQUE,
	created_by   TEXT,
	created_at   BIGINT NOT NULL
);

-- A returnee's self-report. One person (identity number) reporting again
-- to the same community with the same arrival date merges into one.
CREATE TABLE self_reports (
	id           TEXT PRIMARY KEY,
	ref          TEXT NOT NULL UNIQUE,
	code_id      TEXT NOT NULL REFERENCES report_codes(id),
	community_id TEXT NOT NULL REFERENCES org_nodes(id),
	name         TEXT NOT NULL,
	id_enc       BLOB NOT NULL,
	id_bidx      TEXT NOT NULL,
	id_mask      TEXT NOT NULL,
	phone_enc    BLOB,
	phone_bidx   TEXT,
	phone_mask   TEXT NOT NULL DEFAULT '',
	from_place   TEXT NOT NULL,
	arrival_date TEXT NOT NULL,
	room_id      TEXT NOT NULL REFERENCES places(id),
	transport    TEXT NOT NULL DEFAULT '',
	health       TEXT NOT NULL DEFAULT '',
	lead_id      TEXT REFERENCES leads(id),
	submissions  INTEGER NOT NULL DEFAULT 1,
	created_at   BIGINT NOT NULL,
	updated_at   BIGINT NOT NULL,
	UNIQUE (community_id, id_bidx, arrival_date)
);
CREATE INDEX self_reports_code ON self_reports(code_id, created_at);
