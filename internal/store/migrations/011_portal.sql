-- The residents' portal: community news and outbreak updates, a register
-- of rumours and the truth about them, and nearby services.

CREATE TABLE posts (
	id           TEXT PRIMARY KEY,
	community_id TEXT REFERENCES org_nodes(id),   -- NULL: the whole street
	kind         TEXT NOT NULL CHECK (kind IN ('news','outbreak')),
	title        TEXT NOT NULL,
	body         TEXT NOT NULL,
	author       TEXT NOT NULL DEFAULT '',
	published_at BIGINT NOT NULL
);
CREATE INDEX posts_community ON posts(community_id, published_at);

CREATE TABLE rumours (
	id           TEXT PRIMARY KEY,
	claim        TEXT NOT NULL,
	verdict      TEXT NOT NULL CHECK (verdict IN ('false','misleading','true')),
	explanation  TEXT NOT NULL,
	source       TEXT NOT NULL DEFAULT '',
	published_on TEXT NOT NULL
);

CREATE TABLE services (
	id           TEXT PRIMARY KEY,
	community_id TEXT NOT NULL REFERENCES org_nodes(id),
	kind         TEXT NOT NULL CHECK (kind IN ('pharmacy','clinic','testing','grocery','other')),
	name         TEXT NOT NULL,
	hours        TEXT NOT NULL DEFAULT '',
	phone        TEXT NOT NULL DEFAULT '',
	address      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX services_community ON services(community_id, kind);

-- A resident asking to correct their household's record is an everyday
-- event for the grid leader.
INSERT INTO event_categories (id, community_id, code, name, kind, sla_hours, default_group, seq) VALUES
	('cat-correction', NULL, 'correction', '信息更正', 'life', 24, 'grid_leader', 16);
