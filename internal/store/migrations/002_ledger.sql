-- Population ledger core: standard places (compound/village → building or
-- self-built house → unit → room), persons with encrypted identity numbers
-- and phones, households and their members.

CREATE TABLE places (
	id            TEXT PRIMARY KEY,
	community_id  TEXT NOT NULL REFERENCES org_nodes(id),
	grid_id       TEXT REFERENCES org_nodes(id),
	parent_id     TEXT REFERENCES places(id),
	kind          TEXT NOT NULL CHECK (kind IN ('compound','village','building','house','unit','room')),
	name          TEXT NOT NULL,
	address       TEXT NOT NULL,
	floors        INTEGER,
	floor         INTEGER,
	seq           INTEGER NOT NULL DEFAULT 0,
	room_use      TEXT CHECK (room_use IN ('self','rented','group_rental','vacant','shop')),
	survey        TEXT NOT NULL DEFAULT 'pending' CHECK (survey IN ('pending','surveyed','flagged')),
	last_visit_at BIGINT,
	created_at    BIGINT NOT NULL,
	updated_at    BIGINT NOT NULL
);
CREATE INDEX places_parent ON places(parent_id, floor, seq);
CREATE INDEX places_community ON places(community_id, kind);
CREATE INDEX places_grid ON places(grid_id, kind);

CREATE TABLE persons (
	id                TEXT PRIMARY KEY,
	name              TEXT NOT NULL,
	id_type           TEXT NOT NULL DEFAULT 'resident_id',
	id_enc            BLOB,
	id_bidx           TEXT,
	id_mask           TEXT NOT NULL DEFAULT '',
	birth_date        TEXT,
	sex               INTEGER NOT NULL DEFAULT 0,
	phone_enc         BLOB,
	phone_bidx        TEXT,
	phone_mask        TEXT NOT NULL DEFAULT '',
	ethnicity         TEXT NOT NULL DEFAULT '',
	residency         TEXT NOT NULL CHECK (residency IN ('registered','permanent','floating')),
	registered_region TEXT NOT NULL DEFAULT '',
	workplace         TEXT NOT NULL DEFAULT '',
	tags              TEXT NOT NULL DEFAULT '',
	notes             TEXT NOT NULL DEFAULT '',
	merged_into       TEXT REFERENCES persons(id),
	created_at        BIGINT NOT NULL,
	updated_at        BIGINT NOT NULL
);
CREATE INDEX persons_id_bidx ON persons(id_bidx);
CREATE INDEX persons_phone_bidx ON persons(phone_bidx);
CREATE INDEX persons_name ON persons(name);

CREATE TABLE households (
	id         TEXT PRIMARY KEY,
	room_id    TEXT NOT NULL REFERENCES places(id),
	head_id    TEXT REFERENCES persons(id),
	kind       TEXT NOT NULL DEFAULT 'family' CHECK (kind IN ('family','rental','collective')),
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL,
	ended_at   BIGINT
);
CREATE INDEX households_room ON households(room_id);

CREATE TABLE household_members (
	household_id TEXT NOT NULL REFERENCES households(id),
	person_id    TEXT NOT NULL REFERENCES persons(id),
	relation     TEXT NOT NULL DEFAULT '99',
	since        TEXT,
	until        TEXT,
	PRIMARY KEY (household_id, person_id)
);
CREATE INDEX household_members_person ON household_members(person_id);
