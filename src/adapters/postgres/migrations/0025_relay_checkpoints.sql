-- The integration event relay's checkpoint: the position in the event store up to which
-- every integration event was acknowledged by the broker, written after the ack; see
-- docs/adr/0035-integration-events-relay.md.
CREATE TABLE relay_checkpoints (
    name text PRIMARY KEY,
    tx_id xid8 NOT NULL DEFAULT '0',
    global_position bigint NOT NULL DEFAULT 0,
    last_error text,
    updated_at timestamptz NOT NULL DEFAULT now()
);
