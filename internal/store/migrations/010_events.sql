-- Events (事件) and joint dispatch: what residents, grid workers, gates and
-- patrols report, handled by a community's functional groups together.

-- Kinds of events a community handles; community_id NULL: the defaults
-- every community starts with.
CREATE TABLE event_categories (
	id            TEXT PRIMARY KEY,
	community_id  TEXT REFERENCES org_nodes(id),
	code          TEXT NOT NULL,
	name          TEXT NOT NULL,
	kind          TEXT NOT NULL CHECK (kind IN ('outbreak','life')),
	sla_hours     INTEGER NOT NULL,             -- outbreak: clock hours; life: working hours
	default_group TEXT NOT NULL DEFAULT '',     -- group code
	seq           INTEGER NOT NULL DEFAULT 0,
	UNIQUE (community_id, code)
);

-- A community's functional groups (网格长, 楼栋长, 物业公司, 卫生服务站,
-- 派出所联络员 …) and who is in each.
CREATE TABLE event_groups (
	id           TEXT PRIMARY KEY,
	community_id TEXT NOT NULL REFERENCES org_nodes(id),
	code         TEXT NOT NULL,
	name         TEXT NOT NULL,
	UNIQUE (community_id, code)
);

CREATE TABLE event_group_members (
	group_id TEXT NOT NULL REFERENCES event_groups(id),
	user_id  TEXT NOT NULL REFERENCES users(id),
	PRIMARY KEY (group_id, user_id)
);
CREATE INDEX event_group_members_user ON event_group_members(user_id);

CREATE TABLE events (
	id             TEXT PRIMARY KEY,
	ref            TEXT NOT NULL UNIQUE,                  -- what residents and Open311 clients see
	community_id   TEXT NOT NULL REFERENCES org_nodes(id),
	grid_id        TEXT REFERENCES org_nodes(id),
	category_id    TEXT NOT NULL REFERENCES event_categories(id),
	title          TEXT NOT NULL,
	description    TEXT NOT NULL DEFAULT '',
	address        TEXT NOT NULL DEFAULT '',
	place_id       TEXT REFERENCES places(id),
	lat            REAL,
	lng            REAL,
	source         TEXT NOT NULL CHECK (source IN ('grid','resident','gate','patrol','selfreport','open311','staff')),
	source_ref     TEXT NOT NULL DEFAULT '',
	reporter_id    TEXT REFERENCES users(id),
	reporter_name  TEXT NOT NULL DEFAULT '',
	status         TEXT NOT NULL,
	level          INTEGER NOT NULL DEFAULT 0,            -- escalation: 0 grid, 1 community, 2 street
	due_at         BIGINT,                                -- when the SLA runs out (set on acceptance)
	rating         INTEGER,
	rating_note    TEXT NOT NULL DEFAULT '',
	reopens        INTEGER NOT NULL DEFAULT 0,
	created_at     BIGINT NOT NULL,
	updated_at     BIGINT NOT NULL,
	resolved_at    BIGINT,
	closed_at      BIGINT
);
CREATE INDEX events_open ON events(community_id, status, due_at);
CREATE INDEX events_reporter ON events(reporter_id, created_at);
CREATE INDEX events_source ON events(source, source_ref);

-- Every step of an event: who, when, from which state to which, why.
CREATE TABLE event_steps (
	id          TEXT PRIMARY KEY,
	event_id    TEXT NOT NULL REFERENCES events(id),
	at          BIGINT NOT NULL,
	actor_id    TEXT,
	actor_name  TEXT NOT NULL DEFAULT '',
	action      TEXT NOT NULL,
	from_status TEXT NOT NULL DEFAULT '',
	to_status   TEXT NOT NULL DEFAULT '',
	note        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX event_steps_event ON event_steps(event_id, at);

CREATE TABLE event_photos (
	id        TEXT PRIMARY KEY,
	event_id  TEXT NOT NULL REFERENCES events(id),
	step_id   TEXT REFERENCES event_steps(id),
	mime      TEXT NOT NULL,
	photo_enc BLOB NOT NULL
);
CREATE INDEX event_photos_event ON event_photos(event_id);

-- A group's part of a joint event; the event is resolved when every part
-- is done.
CREATE TABLE event_tasks (
	id         TEXT PRIMARY KEY,
	event_id   TEXT NOT NULL REFERENCES events(id),
	group_id   TEXT NOT NULL REFERENCES event_groups(id),
	status     TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open','working','done','returned')),
	note       TEXT NOT NULL DEFAULT '',
	done_by    TEXT,
	done_at    BIGINT,
	created_at BIGINT NOT NULL,
	UNIQUE (event_id, group_id)
);
CREATE INDEX event_tasks_group ON event_tasks(group_id, status);

-- Open311 GeoReport v2 clients: their API keys, stored hashed.
CREATE TABLE open311_clients (
	id           TEXT PRIMARY KEY,
	community_id TEXT NOT NULL REFERENCES org_nodes(id),
	name         TEXT NOT NULL,
	key_hash     TEXT NOT NULL UNIQUE,
	created_at   BIGINT NOT NULL
);

-- Messages to people (in the app, by SMS …) go through this outbox: a
-- sender that fails leaves them here to be retried, never lost.
CREATE TABLE outbox (
	id         TEXT PRIMARY KEY,
	user_id    TEXT REFERENCES users(id),
	channel    TEXT NOT NULL,                 -- app, sms
	subject    TEXT NOT NULL DEFAULT '',
	body       TEXT NOT NULL,
	link       TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL,
	sent_at    BIGINT,
	read_at    BIGINT,
	attempts   INTEGER NOT NULL DEFAULT 0,
	next_try   BIGINT NOT NULL DEFAULT 0,     -- a failed message waits until then
	last_error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX outbox_pending ON outbox(sent_at, created_at);
CREATE INDEX outbox_user ON outbox(user_id, created_at);

-- The default categories every community starts with (a community may
-- replace one by adding its own with the same code).
INSERT INTO event_categories (id, community_id, code, name, kind, sla_hours, default_group, seq) VALUES
	('cat-fever', NULL, 'fever', '发热人员', 'outbreak', 2, 'health_station', 1),
	('cat-arrival', NULL, 'arrival', '未报备返乡人员', 'outbreak', 12, 'grid_leader', 2),
	('cat-monitoring', NULL, 'monitoring_violated', '违反居家管控', 'outbreak', 2, 'police', 3),
	('cat-supplies', NULL, 'supplies', '生活物资需求', 'outbreak', 12, 'grid_leader', 4),
	('cat-sanitation', NULL, 'sanitation', '环境卫生', 'life', 24, 'property', 11),
	('cat-hazard', NULL, 'hazard', '安全隐患', 'life', 8, 'property', 12),
	('cat-dispute', NULL, 'dispute', '邻里纠纷', 'life', 24, 'grid_leader', 13),
	('cat-repair', NULL, 'repair', '设施维修', 'life', 48, 'property', 14),
	('cat-elderly', NULL, 'elderly', '老人照护', 'life', 8, 'grid_leader', 15);
