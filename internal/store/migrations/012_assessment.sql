-- People and performance: who covered which grid when, each community's
-- assessment settings (weights, load limit, patrol frequency), and the
-- workers' explanations and appeals of their scores.

CREATE TABLE grid_coverage (
	id       TEXT PRIMARY KEY,
	grid_id  TEXT NOT NULL REFERENCES org_nodes(id),
	user_id  TEXT NOT NULL REFERENCES users(id),
	role     TEXT NOT NULL CHECK (role IN ('worker','leader')),
	from_at  BIGINT NOT NULL,
	until_at BIGINT
);
CREATE INDEX grid_coverage_grid ON grid_coverage(grid_id, from_at);
CREATE INDEX grid_coverage_user ON grid_coverage(user_id, from_at);

-- What is already staffed starts its history at the assignment.
INSERT INTO grid_coverage (id, grid_id, user_id, role, from_at)
	SELECT a.id, a.node_id, a.user_id, 'worker', a.created_at FROM role_assignments a JOIN org_nodes n ON n.id = a.node_id
	WHERE a.role = 'grid' AND n.level = 'grid';
INSERT INTO grid_coverage (id, grid_id, user_id, role, from_at)
	SELECT 'L' || l.grid_id, l.grid_id, l.user_id, 'leader', l.since FROM grid_leaders l;

-- Weights are whole numbers; a score is the weighted mean of the parts
-- that have data (docs/assessment.md).
CREATE TABLE assess_settings (
	community_id     TEXT PRIMARY KEY REFERENCES org_nodes(id),
	w_visits         INTEGER NOT NULL,
	w_leads          INTEGER NOT NULL,
	w_events         INTEGER NOT NULL,
	w_patrols        INTEGER NOT NULL,
	w_rating         INTEGER NOT NULL,
	patrols_per_week INTEGER NOT NULL,
	load_limit       INTEGER NOT NULL,            -- households per worker
	visit_cycle_days INTEGER NOT NULL,            -- a household is due a visit after this long
	updated_at       BIGINT NOT NULL,
	updated_by       TEXT
);

-- A worker's explanation or appeal of one period's assessment, and the
-- community's answer; an upheld appeal may carry an adjustment in tenths
-- of a point.
CREATE TABLE assess_notes (
	id           TEXT PRIMARY KEY,
	community_id TEXT NOT NULL REFERENCES org_nodes(id),
	user_id      TEXT NOT NULL REFERENCES users(id),
	period       TEXT NOT NULL,                  -- YYYY-MM-DD..YYYY-MM-DD
	kind         TEXT NOT NULL CHECK (kind IN ('explanation','appeal')),
	body         TEXT NOT NULL,
	status       TEXT NOT NULL CHECK (status IN ('noted','open','upheld','dismissed')),
	reply        TEXT NOT NULL DEFAULT '',
	adjust       INTEGER NOT NULL DEFAULT 0,
	created_at   BIGINT NOT NULL,
	decided_by   TEXT,
	decided_at   BIGINT
);
CREATE INDEX assess_notes_period ON assess_notes(community_id, period);
