-- A decision keeps what the device said about the attempt: its own event
-- id (a retried request is answered once), the direction and the device's
-- clock next to the server's.
ALTER TABLE decisions ADD COLUMN event_id TEXT;
ALTER TABLE decisions ADD COLUMN direction TEXT NOT NULL DEFAULT 'in';
ALTER TABLE decisions ADD COLUMN device_time BIGINT;
CREATE UNIQUE INDEX decisions_event ON decisions(device_id, event_id);
