-- Training (培训) and volunteers (志愿者与党员).
--
-- A community's courses say which roles must take them and how long a
-- pass stays valid; attendance records who took a course on which day and
-- whether they passed (a pass carries a certificate number). Volunteers
-- and party members are a register of residents who help; a duty is one
-- of them mobilised into a campaign, an event or a task, with the hours
-- served.

CREATE TABLE training_courses (
	id           TEXT PRIMARY KEY,
	community_id TEXT NOT NULL REFERENCES org_nodes(id),
	name         TEXT NOT NULL,
	minutes      INTEGER NOT NULL DEFAULT 0,         -- class time (学时)
	valid_months INTEGER NOT NULL DEFAULT 0,         -- how long a pass stays valid; 0 = forever
	description  TEXT NOT NULL DEFAULT '',
	active       INTEGER NOT NULL DEFAULT 1,         -- a retired course is no longer required
	created_by   TEXT,
	created_at   BIGINT NOT NULL,
	updated_at   BIGINT NOT NULL,
	UNIQUE (community_id, name)
);

-- The roles (access roles: grid, staff, property …) that must take a course.
CREATE TABLE training_requirements (
	course_id TEXT NOT NULL REFERENCES training_courses(id),
	role      TEXT NOT NULL,
	PRIMARY KEY (course_id, role)
);

CREATE TABLE training_attendance (
	id          TEXT PRIMARY KEY,
	course_id   TEXT NOT NULL REFERENCES training_courses(id),
	user_id     TEXT NOT NULL REFERENCES users(id),
	held_on     TEXT NOT NULL,                       -- YYYY-MM-DD
	passed      INTEGER NOT NULL DEFAULT 0,
	cert_no     TEXT UNIQUE,                         -- issued with a pass
	note        TEXT NOT NULL DEFAULT '',
	recorded_by TEXT REFERENCES users(id),
	recorded_at BIGINT NOT NULL
);
CREATE INDEX training_attendance_course ON training_attendance(course_id, held_on);
CREATE INDEX training_attendance_user ON training_attendance(user_id, held_on);

CREATE TABLE volunteers (
	id           TEXT PRIMARY KEY,
	community_id TEXT NOT NULL REFERENCES org_nodes(id),
	name         TEXT NOT NULL,
	phone_enc    BLOB,
	phone_bidx   TEXT,
	phone_mask   TEXT NOT NULL DEFAULT '',
	kind         TEXT NOT NULL CHECK (kind IN ('volunteer','party','both')),
	party_branch TEXT NOT NULL DEFAULT '',
	skills       TEXT NOT NULL DEFAULT '',
	person_id    TEXT REFERENCES persons(id),        -- the ledger's record of them, when known
	joined_on    TEXT NOT NULL,
	active       INTEGER NOT NULL DEFAULT 1,
	note         TEXT NOT NULL DEFAULT '',
	created_by   TEXT,
	created_at   BIGINT NOT NULL,
	updated_at   BIGINT NOT NULL
);
CREATE INDEX volunteers_community ON volunteers(community_id, active, name);
CREATE UNIQUE INDEX volunteers_phone ON volunteers(community_id, phone_bidx);

-- A volunteer mobilised into a campaign, an event, or a task in words.
CREATE TABLE volunteer_duties (
	id           TEXT PRIMARY KEY,
	volunteer_id TEXT NOT NULL REFERENCES volunteers(id),
	community_id TEXT NOT NULL REFERENCES org_nodes(id),
	campaign_id  TEXT REFERENCES campaigns(id),
	event_id     TEXT REFERENCES events(id),
	task         TEXT NOT NULL DEFAULT '',
	on_date      TEXT NOT NULL,                      -- YYYY-MM-DD
	minutes      INTEGER NOT NULL DEFAULT 0,         -- hours served, once recorded
	created_by   TEXT,
	created_at   BIGINT NOT NULL,
	recorded_by  TEXT,
	recorded_at  BIGINT
);
CREATE INDEX volunteer_duties_volunteer ON volunteer_duties(volunteer_id, on_date);
CREATE INDEX volunteer_duties_community ON volunteer_duties(community_id, on_date);
