-- Files from other departments applied to the ledger (internal/exchange):
-- one row per applied file, saying who sent what, who uploaded it and what
-- it did. Each record it wrote also carries the department and file name
-- in its change-log line.
CREATE TABLE exchange_batches (
	id         TEXT PRIMARY KEY,
	kind       TEXT NOT NULL CHECK (kind IN ('tests','vaccinations','tags')),
	department TEXT NOT NULL,
	file_name  TEXT NOT NULL DEFAULT '',
	node_id    TEXT REFERENCES org_nodes(id),
	actor_id   TEXT,
	actor_name TEXT NOT NULL DEFAULT '',
	rows_read  INTEGER NOT NULL DEFAULT 0,
	applied    INTEGER NOT NULL DEFAULT 0,
	unchanged  INTEGER NOT NULL DEFAULT 0,
	unmatched  INTEGER NOT NULL DEFAULT 0,
	created_at BIGINT NOT NULL
);
CREATE INDEX exchange_batches_node ON exchange_batches(node_id, created_at);
