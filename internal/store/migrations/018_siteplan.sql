-- The digital twin: each community's site plan in local metres (x east,
-- y north, any origin). Polygons are JSON arrays of [x, y] corners, the
-- ring not repeated at the end; each row keeps its bounding box so the
-- plan's extent is one aggregate.

-- Footprints of buildings and self-built houses, with where to put the label.
CREATE TABLE siteplan_footprints (
	place_id     TEXT PRIMARY KEY REFERENCES places(id),
	community_id TEXT NOT NULL REFERENCES org_nodes(id),
	polygon      TEXT NOT NULL,
	label_x      DOUBLE PRECISION NOT NULL,
	label_y      DOUBLE PRECISION NOT NULL,
	min_x        DOUBLE PRECISION NOT NULL,
	min_y        DOUBLE PRECISION NOT NULL,
	max_x        DOUBLE PRECISION NOT NULL,
	max_y        DOUBLE PRECISION NOT NULL,
	updated_at   BIGINT NOT NULL,
	updated_by   TEXT
);
CREATE INDEX siteplan_footprints_community ON siteplan_footprints(community_id);

-- Where each gate stands.
CREATE TABLE siteplan_gates (
	gate_id      TEXT PRIMARY KEY REFERENCES gates(id),
	community_id TEXT NOT NULL REFERENCES org_nodes(id),
	x            DOUBLE PRECISION NOT NULL,
	y            DOUBLE PRECISION NOT NULL,
	updated_at   BIGINT NOT NULL,
	updated_by   TEXT
);
CREATE INDEX siteplan_gates_community ON siteplan_gates(community_id);

-- Grid boundaries.
CREATE TABLE siteplan_grids (
	grid_id      TEXT PRIMARY KEY REFERENCES org_nodes(id),
	community_id TEXT NOT NULL REFERENCES org_nodes(id),
	polygon      TEXT NOT NULL,
	min_x        DOUBLE PRECISION NOT NULL,
	min_y        DOUBLE PRECISION NOT NULL,
	max_x        DOUBLE PRECISION NOT NULL,
	max_y        DOUBLE PRECISION NOT NULL,
	updated_at   BIGINT NOT NULL,
	updated_by   TEXT
);
CREATE INDEX siteplan_grids_community ON siteplan_grids(community_id);

-- The rest of the drawing: the site's outline, roads and lanes, green
-- space, water, squares.
CREATE TABLE siteplan_shapes (
	id           TEXT PRIMARY KEY,
	community_id TEXT NOT NULL REFERENCES org_nodes(id),
	kind         TEXT NOT NULL CHECK (kind IN ('site','road','green','water','plaza')),
	name         TEXT NOT NULL DEFAULT '',
	polygon      TEXT NOT NULL,
	seq          INTEGER NOT NULL DEFAULT 0,
	min_x        DOUBLE PRECISION NOT NULL,
	min_y        DOUBLE PRECISION NOT NULL,
	max_x        DOUBLE PRECISION NOT NULL,
	max_y        DOUBLE PRECISION NOT NULL,
	updated_at   BIGINT NOT NULL
);
CREATE INDEX siteplan_shapes_community ON siteplan_shapes(community_id, seq);

-- The plan's extent per community: the union of everything above,
-- refreshed in the same transaction as every change.
CREATE TABLE siteplan_extents (
	community_id TEXT PRIMARY KEY REFERENCES org_nodes(id),
	min_x        DOUBLE PRECISION NOT NULL,
	min_y        DOUBLE PRECISION NOT NULL,
	max_x        DOUBLE PRECISION NOT NULL,
	max_y        DOUBLE PRECISION NOT NULL,
	updated_at   BIGINT NOT NULL
);
