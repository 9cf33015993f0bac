-- Foundation: settings, organisation tree, accounts, sessions, throttling,
-- one-time codes, API tokens and the hash-chained audit log.
-- Times are Unix milliseconds (UTC); dates are 'YYYY-MM-DD' text.

CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);

CREATE TABLE org_nodes (
	id         TEXT PRIMARY KEY,
	parent_id  TEXT REFERENCES org_nodes(id),
	level      TEXT NOT NULL CHECK (level IN ('province','city','district','street','community','grid')),
	code       TEXT NOT NULL UNIQUE,
	name       TEXT NOT NULL,
	path       TEXT NOT NULL UNIQUE,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);
CREATE INDEX org_nodes_parent ON org_nodes(parent_id);

CREATE TABLE org_node_history (
	id            TEXT PRIMARY KEY,
	node_id       TEXT NOT NULL REFERENCES org_nodes(id),
	at            BIGINT NOT NULL,
	actor_id      TEXT,
	action        TEXT NOT NULL,
	old_parent_id TEXT,
	new_parent_id TEXT,
	old_code      TEXT,
	new_code      TEXT,
	old_name      TEXT,
	new_name      TEXT
);
CREATE INDEX org_node_history_node ON org_node_history(node_id, at);

CREATE TABLE users (
	id            TEXT PRIMARY KEY,
	username      TEXT NOT NULL UNIQUE,
	display_name  TEXT NOT NULL,
	kind          TEXT NOT NULL CHECK (kind IN ('staff','resident','api')),
	password_hash TEXT,
	phone_enc     BLOB,
	phone_bidx    TEXT UNIQUE,
	lang          TEXT NOT NULL DEFAULT '',
	disabled      INTEGER NOT NULL DEFAULT 0,
	created_at    BIGINT NOT NULL,
	updated_at    BIGINT NOT NULL,
	last_login_at BIGINT
);

CREATE TABLE role_assignments (
	id         TEXT PRIMARY KEY,
	user_id    TEXT NOT NULL REFERENCES users(id),
	role       TEXT NOT NULL,
	node_id    TEXT NOT NULL REFERENCES org_nodes(id),
	created_at BIGINT NOT NULL,
	created_by TEXT,
	UNIQUE (user_id, role, node_id)
);
CREATE INDEX role_assignments_node ON role_assignments(node_id);

CREATE TABLE sessions (
	token_hash   TEXT PRIMARY KEY,
	user_id      TEXT NOT NULL REFERENCES users(id),
	created_at   BIGINT NOT NULL,
	last_seen_at BIGINT NOT NULL,
	expires_at   BIGINT NOT NULL,
	ip           TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expires ON sessions(expires_at);

CREATE TABLE login_failures (
	id  TEXT PRIMARY KEY,
	key TEXT NOT NULL,
	at  BIGINT NOT NULL
);
CREATE INDEX login_failures_key ON login_failures(key, at);

CREATE TABLE otp_codes (
	phone_bidx TEXT PRIMARY KEY,
	code_hash  TEXT NOT NULL,
	expires_at BIGINT NOT NULL,
	attempts   INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE api_tokens (
	id           TEXT PRIMARY KEY,
	user_id      TEXT NOT NULL REFERENCES users(id),
	token_hash   TEXT NOT NULL UNIQUE,
	name         TEXT NOT NULL,
	created_at   BIGINT NOT NULL,
	expires_at   BIGINT,
	revoked_at   BIGINT,
	last_used_at BIGINT
);

CREATE TABLE audit_log (
	seq         BIGINT PRIMARY KEY,
	at          BIGINT NOT NULL,
	actor_id    TEXT NOT NULL DEFAULT '',
	actor_name  TEXT NOT NULL DEFAULT '',
	action      TEXT NOT NULL,
	outcome     TEXT NOT NULL,
	target_type TEXT NOT NULL DEFAULT '',
	target_id   TEXT NOT NULL DEFAULT '',
	node_id     TEXT NOT NULL DEFAULT '',
	ip          TEXT NOT NULL DEFAULT '',
	detail      TEXT NOT NULL DEFAULT '',
	prev_hash   TEXT NOT NULL,
	hash        TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_actor ON audit_log(actor_id, at);
CREATE INDEX audit_log_action ON audit_log(action, at);

-- The head of the chain: one row, updated in the same transaction as each
-- append, so concurrent writers are serialised on it.
CREATE TABLE audit_head (
	id   INTEGER PRIMARY KEY CHECK (id = 1),
	seq  BIGINT NOT NULL,
	hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');
