-- Signed outbound webhooks: a partner (an API account with the partner
-- role) subscribes a URL to kinds of changes; each change queues one
-- delivery per subscription in the same transaction as the change, and
-- the deliverer sends them with retries, in order per record.

CREATE TABLE webhook_subscriptions (
	id          TEXT PRIMARY KEY,
	partner_id  TEXT NOT NULL REFERENCES users(id),
	url         TEXT NOT NULL,
	secret_enc  BLOB NOT NULL,                    -- the signing secret, under the data key
	events      TEXT NOT NULL,                    -- ",person.changed,lead.verified,"
	active      INTEGER NOT NULL DEFAULT 1,
	last_seq    BIGINT NOT NULL DEFAULT 0,        -- the last delivery's seq
	created_by  TEXT REFERENCES users(id),
	created_at  BIGINT NOT NULL,
	updated_at  BIGINT NOT NULL
);
CREATE INDEX webhook_subscriptions_partner ON webhook_subscriptions(partner_id);

-- One event for one subscription. The payload names the record, never
-- its personal fields; node_path (for the sharing gate) is not sent.
CREATE TABLE webhook_deliveries (
	id              TEXT PRIMARY KEY,
	subscription_id TEXT NOT NULL REFERENCES webhook_subscriptions(id),
	kind            TEXT NOT NULL,
	record_key      TEXT NOT NULL,
	node_path       TEXT NOT NULL DEFAULT '',
	seq             BIGINT NOT NULL,               -- per subscription, in commit order
	payload         TEXT NOT NULL,
	status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','delivered','dead')),
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_at         BIGINT NOT NULL,               -- not tried before then
	lease_until     BIGINT,                        -- a deliverer is sending it until then
	last_error      TEXT NOT NULL DEFAULT '',
	window_from     BIGINT NOT NULL,               -- given up on this long after (reset by a retry)
	created_at      BIGINT NOT NULL,
	delivered_at    BIGINT,
	UNIQUE (subscription_id, seq)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(status, next_at);
CREATE INDEX webhook_deliveries_record ON webhook_deliveries(subscription_id, record_key, seq);
