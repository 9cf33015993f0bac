-- A remote open is only good for a short while: a device that was away
-- when the guard pressed the button must not open the gate hours later.
-- The time of the pending request replaces the pending flag.
ALTER TABLE devices ADD COLUMN open_requested_at BIGINT;
ALTER TABLE devices DROP COLUMN open_pending;
