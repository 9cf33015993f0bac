-- Rollups for the community brain (issue 10): the big screen sums these
-- instead of scanning pass events or the ledger (docs/brain.md).

-- Pass events per gate and hour (hour: Unix ms of the hour's start, by
-- received_at). Written in the same transaction as the events themselves
-- (store.Tx.InsertPass → flushRollups), so it always equals a count over
-- pass_events; kept after the events are purged (it holds no personal
-- data).
CREATE TABLE pass_hourly (
	gate_id    TEXT NOT NULL REFERENCES gates(id),
	hour       BIGINT NOT NULL,
	total      INTEGER NOT NULL DEFAULT 0,  -- every event
	passes_in  INTEGER NOT NULL DEFAULT 0,  -- allowed, direction in
	passes_out INTEGER NOT NULL DEFAULT 0,  -- allowed, direction out
	denied     INTEGER NOT NULL DEFAULT 0,  -- outcome deny
	PRIMARY KEY (gate_id, hour)
);
CREATE INDEX pass_hourly_hour ON pass_hourly(hour);

INSERT INTO pass_hourly (gate_id, hour, total, passes_in, passes_out, denied)
SELECT gate_id, (received_at / 3600000) * 3600000, count(*),
	sum(CASE WHEN outcome = 'allow' AND direction <> 'out' THEN 1 ELSE 0 END),
	sum(CASE WHEN outcome = 'allow' AND direction = 'out' THEN 1 ELSE 0 END),
	sum(CASE WHEN outcome = 'deny' THEN 1 ELSE 0 END)
FROM pass_events GROUP BY gate_id, (received_at / 3600000) * 3600000;

-- Ledger figures per grid (or per community for rooms not in a grid: the
-- node is COALESCE(places.grid_id, places.community_id)), as of a date in
-- China. Recomputed by the brain's refresher for the nodes in dirty_grids
-- and, once a day, for all.
CREATE TABLE grid_stats (
	node_id        TEXT PRIMARY KEY REFERENCES org_nodes(id),
	as_of          TEXT NOT NULL,
	registered     INTEGER NOT NULL DEFAULT 0,
	permanent      INTEGER NOT NULL DEFAULT 0,
	floating       INTEGER NOT NULL DEFAULT 0,
	tenants        INTEGER NOT NULL DEFAULT 0,
	households     INTEGER NOT NULL DEFAULT 0,
	rooms          INTEGER NOT NULL DEFAULT 0,
	rooms_surveyed INTEGER NOT NULL DEFAULT 0,
	rooms_flagged  INTEGER NOT NULL DEFAULT 0,
	age_0_17       INTEGER NOT NULL DEFAULT 0,
	age_18_59      INTEGER NOT NULL DEFAULT 0,
	age_60_79      INTEGER NOT NULL DEFAULT 0,
	age_80         INTEGER NOT NULL DEFAULT 0,
	age_unknown    INTEGER NOT NULL DEFAULT 0,
	vacc_0_17      INTEGER NOT NULL DEFAULT 0,
	vacc_18_59     INTEGER NOT NULL DEFAULT 0,
	vacc_60_79     INTEGER NOT NULL DEFAULT 0,
	vacc_80        INTEGER NOT NULL DEFAULT 0,
	vacc_unknown   INTEGER NOT NULL DEFAULT 0,
	tested_7d      INTEGER NOT NULL DEFAULT 0,
	monitored      INTEGER NOT NULL DEFAULT 0,
	refreshed_at   BIGINT NOT NULL
);

-- Nodes whose grid_stats are out of date: bumped in the same transaction
-- as the ledger write that made them so; the refresher deletes a row only
-- if its seq is still the one it read before recomputing.
CREATE TABLE dirty_grids (
	node_id TEXT PRIMARY KEY,
	seq     BIGINT NOT NULL
);

-- Leads by holder and status, and cleared per day, from the index alone.
CREATE INDEX leads_node_verified ON leads(node_id, status, verified_at);
