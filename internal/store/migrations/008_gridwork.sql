-- Grid work: who leads each grid, the chiefs below it (楼栋长, 单元长 …),
-- household visits from the phone, patrol points and their check-ins,
-- checklists, and grid-block investigation campaigns.

CREATE TABLE grid_leaders (
	grid_id    TEXT PRIMARY KEY REFERENCES org_nodes(id),
	user_id    TEXT NOT NULL REFERENCES users(id),
	since      BIGINT NOT NULL
);

-- The chief roles a community uses, and at which level each serves.
CREATE TABLE chief_roles (
	id           TEXT PRIMARY KEY,
	community_id TEXT NOT NULL REFERENCES org_nodes(id),
	name         TEXT NOT NULL,
	level        TEXT NOT NULL CHECK (level IN ('building','unit','grid')),
	seq          INTEGER NOT NULL DEFAULT 0,
	created_at   BIGINT NOT NULL,
	UNIQUE (community_id, name)
);

-- A person serving as a chief of a building, unit or grid.
CREATE TABLE chiefs (
	id         TEXT PRIMARY KEY,
	role_id    TEXT NOT NULL REFERENCES chief_roles(id),
	place_id   TEXT REFERENCES places(id),
	grid_id    TEXT REFERENCES org_nodes(id),
	person_id  TEXT NOT NULL REFERENCES persons(id),
	since      BIGINT NOT NULL,
	UNIQUE (role_id, place_id, grid_id)
);
CREATE INDEX chiefs_place ON chiefs(place_id);

-- Checklists for patrols and campaigns: items is a JSON list of questions.
CREATE TABLE checklists (
	id           TEXT PRIMARY KEY,
	community_id TEXT NOT NULL REFERENCES org_nodes(id),
	name         TEXT NOT NULL,
	items        TEXT NOT NULL,
	created_at   BIGINT NOT NULL
);

-- A household visit. client_id is the phone's id for the visit: a retry
-- or a second sync of the same queued visit is stored once.
CREATE TABLE visits (
	id           TEXT PRIMARY KEY,
	room_id      TEXT NOT NULL REFERENCES places(id),
	grid_id      TEXT REFERENCES org_nodes(id),
	user_id      TEXT NOT NULL REFERENCES users(id),
	client_id    TEXT NOT NULL,
	at           BIGINT NOT NULL,
	received_at  BIGINT NOT NULL,
	met          TEXT NOT NULL DEFAULT '',
	needs        TEXT NOT NULL DEFAULT '',
	notes        TEXT NOT NULL DEFAULT '',
	answers      TEXT NOT NULL DEFAULT '',
	changes      TEXT NOT NULL DEFAULT '',
	lat          REAL,
	lng          REAL,
	UNIQUE (user_id, client_id)
);
CREATE INDEX visits_room ON visits(room_id, at);
CREATE INDEX visits_user ON visits(user_id, at);

CREATE TABLE visit_photos (
	id        TEXT PRIMARY KEY,
	visit_id  TEXT NOT NULL REFERENCES visits(id),
	mime      TEXT NOT NULL,
	photo_enc BLOB NOT NULL
);
CREATE INDEX visit_photos_visit ON visit_photos(visit_id);

-- A point a grid worker patrols; its sticker's QR code carries the token.
CREATE TABLE patrol_points (
	id           TEXT PRIMARY KEY,
	community_id TEXT NOT NULL REFERENCES org_nodes(id),
	grid_id      TEXT REFERENCES org_nodes(id),
	name         TEXT NOT NULL,
	kind         TEXT NOT NULL CHECK (kind IN ('entrance','shop','rental','key_place','other')),
	checklist_id TEXT REFERENCES checklists(id),
	token        TEXT NOT NULL UNIQUE,
	created_at   BIGINT NOT NULL
);

CREATE TABLE patrols (
	id          TEXT PRIMARY KEY,
	point_id    TEXT NOT NULL REFERENCES patrol_points(id),
	user_id     TEXT NOT NULL REFERENCES users(id),
	client_id   TEXT NOT NULL,
	at          BIGINT NOT NULL,
	received_at BIGINT NOT NULL,
	answers     TEXT NOT NULL DEFAULT '',
	problem     TEXT NOT NULL DEFAULT '',
	status      TEXT NOT NULL DEFAULT 'ok' CHECK (status IN ('ok','problem','handled')),
	UNIQUE (user_id, client_id)
);
CREATE INDEX patrols_point ON patrols(point_id, at);

-- A grid-block investigation: every household (room) in its grids checked
-- by the deadline with its checklist.
CREATE TABLE campaigns (
	id           TEXT PRIMARY KEY,
	community_id TEXT NOT NULL REFERENCES org_nodes(id),
	name         TEXT NOT NULL,
	checklist_id TEXT REFERENCES checklists(id),
	deadline     TEXT NOT NULL,
	status       TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open','closed')),
	created_by   TEXT,
	created_at   BIGINT NOT NULL,
	closed_at    BIGINT
);

CREATE TABLE campaign_tasks (
	campaign_id TEXT NOT NULL REFERENCES campaigns(id),
	room_id     TEXT NOT NULL REFERENCES places(id),
	grid_id     TEXT NOT NULL REFERENCES org_nodes(id),
	visit_id    TEXT REFERENCES visits(id),
	done_by     TEXT,
	done_at     BIGINT,
	PRIMARY KEY (campaign_id, room_id)
);
CREATE INDEX campaign_tasks_room ON campaign_tasks(room_id, done_at);
CREATE INDEX campaign_tasks_grid ON campaign_tasks(grid_id, done_at);
