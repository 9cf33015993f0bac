-- Monthly partitions for pass events on PostgreSQL (city scale,
-- docs/deploy.md). Run once with psql against a migrated shequ database,
-- in a maintenance window (every pass event is copied once):
--
--   psql "$SHEQU_DB" -v ON_ERROR_STOP=1 -f scripts/postgres/partition-passes.sql
--
-- Afterwards a monthly job creates the coming months and drops the months
-- past the retention period:
--
--   psql "$SHEQU_DB" -c "SELECT shequ_month_partitions(2)"               -- this month and the next two
--   psql "$SHEQU_DB" -c "SELECT shequ_drop_months(CURRENT_DATE - 90)"   -- whole months older than 90 days
--
-- pass_events is partitioned by device_time: a device retrying an upload
-- sends the same device, event id and device time, so the unique key
-- (device_id, event_id, device_time) still makes a retry a no-op (the
-- unique keys of a partitioned table must contain its partition key).
-- Rows whose device clock puts them outside every month go to the DEFAULT
-- partition, which the daily row purge (SHEQU_PASS_RETENTION) still cleans.
-- Gate decisions stay one table: their retry key (device_id, event_id) has
-- no time that a retry is sure to repeat, and the daily purge deletes them
-- in batches of 5,000 through the decisions_at index.
-- Times are Unix milliseconds; months are China months (Asia/Shanghai).

BEGIN;

ALTER TABLE pass_events RENAME TO pass_events_unpartitioned;
ALTER INDEX pass_events_gate_time RENAME TO pass_events_unpartitioned_gate_time;
ALTER INDEX pass_events_person RENAME TO pass_events_unpartitioned_person;
ALTER INDEX pass_events_received RENAME TO pass_events_unpartitioned_received;
CREATE TABLE pass_events (
	LIKE pass_events_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
	PRIMARY KEY (id, device_time),
	UNIQUE (device_id, event_id, device_time),
	FOREIGN KEY (device_id) REFERENCES devices (id),
	FOREIGN KEY (gate_id) REFERENCES gates (id)
) PARTITION BY RANGE (device_time);
CREATE INDEX pass_events_gate_time ON pass_events (gate_id, received_at);
CREATE INDEX pass_events_person ON pass_events (person_id, received_at);
CREATE INDEX pass_events_received ON pass_events (received_at);
CREATE TABLE pass_events_default PARTITION OF pass_events DEFAULT;

-- The month partition of pass_events for the month holding day.
CREATE FUNCTION shequ_month_partition(day date) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	m date := date_trunc('month', day)::date;
	name text := 'pass_events_' || to_char(m, 'YYYY_MM');
	lo bigint := (extract(epoch FROM m::timestamp AT TIME ZONE 'Asia/Shanghai') * 1000)::bigint;
	hi bigint := (extract(epoch FROM (m + interval '1 month')::timestamp AT TIME ZONE 'Asia/Shanghai') * 1000)::bigint;
BEGIN
	EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF pass_events FOR VALUES FROM (%s) TO (%s)', name, lo, hi);
	RETURN name;
END $$;

-- This month and the next ahead months.
CREATE FUNCTION shequ_month_partitions(ahead int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	today date := (now() AT TIME ZONE 'Asia/Shanghai')::date;
BEGIN
	FOR i IN 0..ahead LOOP
		PERFORM shequ_month_partition((today + make_interval(months => i))::date);
	END LOOP;
END $$;

-- Drops the month partitions that end on or before keep_from: retention by
-- DROP TABLE, at once, instead of deleting rows one by one. Returns how
-- many months went.
CREATE FUNCTION shequ_drop_months(keep_from date) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
	r record;
	n int := 0;
BEGIN
	FOR r IN SELECT c.relname FROM pg_inherits i
		JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
		WHERE p.relname = 'pass_events' AND p.relnamespace = current_schema()::regnamespace
		AND c.relname ~ '^pass_events_[0-9]{4}_[0-9]{2}$'
	LOOP
		IF (to_date(right(r.relname, 7), 'YYYY_MM') + interval '1 month')::date <= keep_from THEN
			EXECUTE format('ALTER TABLE pass_events DETACH PARTITION %I', r.relname);
			EXECUTE format('DROP TABLE %I', r.relname);
			n := n + 1;
		END IF;
	END LOOP;
	RETURN n;
END $$;

-- Months for the rows already there and the coming ones, then the copy.
SELECT shequ_month_partition(m) FROM (SELECT DISTINCT
	date_trunc('month', to_timestamp(device_time / 1000.0) AT TIME ZONE 'Asia/Shanghai')::date AS m FROM pass_events_unpartitioned) d;
SELECT shequ_month_partitions(2);
INSERT INTO pass_events SELECT * FROM pass_events_unpartitioned;
DROP TABLE pass_events_unpartitioned;

COMMIT;
