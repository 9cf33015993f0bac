-- Sharing agreements with partner departments: which datasets and fields
-- a partner's API account may read, where in the tree, until when, how
-- fast; every record served is logged; writes carry idempotency keys.

CREATE TABLE agreements (
	id          TEXT PRIMARY KEY,
	partner_id  TEXT NOT NULL REFERENCES users(id),   -- an API account with the partner role
	department  TEXT NOT NULL,                        -- health, public_security, civil_affairs, other
	name        TEXT NOT NULL,
	purpose     TEXT NOT NULL,
	node_id     TEXT NOT NULL REFERENCES org_nodes(id),
	grants      TEXT NOT NULL,                        -- JSON: dataset → fields; fields served unmasked
	rate_limit  INTEGER NOT NULL,                     -- requests a minute
	expires_on  TEXT NOT NULL,                        -- last day it is valid
	revoked_at  BIGINT,
	created_by  TEXT,
	created_at  BIGINT NOT NULL,
	updated_at  BIGINT NOT NULL
);
CREATE INDEX agreements_partner ON agreements(partner_id);

-- Every record a partner was served.
CREATE TABLE agreement_access (
	id           TEXT PRIMARY KEY,
	agreement_id TEXT NOT NULL REFERENCES agreements(id),
	at           BIGINT NOT NULL,
	dataset      TEXT NOT NULL,
	record_id    TEXT NOT NULL,
	request      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX agreement_access_at ON agreement_access(agreement_id, at);
CREATE INDEX agreement_access_record ON agreement_access(dataset, record_id);

-- A write's answer kept under the client's Idempotency-Key, so a retry
-- gets the same answer and changes nothing.
CREATE TABLE idempotency (
	user_id    TEXT NOT NULL,
	key        TEXT NOT NULL,
	request    TEXT NOT NULL,                        -- method and path and a hash of the body
	status     INTEGER NOT NULL,
	body       TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	PRIMARY KEY (user_id, key)
);

-- Figures a community instance reports upward to a street or district
-- instance (aggregates only).
CREATE TABLE upstream_reports (
	community_code TEXT NOT NULL,
	name           TEXT NOT NULL,
	reported_at    BIGINT NOT NULL,
	partner_id     TEXT NOT NULL,
	figures        TEXT NOT NULL,
	PRIMARY KEY (community_code)
);
