-- Events a projection version holds for one tenant instead of applying them
-- (docs/adr/0017-bounded-money-and-projection-quarantine.md): the one that
-- failed, and every later event of that tenant the projection wants, in event
-- order. Rows are written in the same transaction as the batch's read-model
-- changes and checkpoint; `commerce projections retry|skip` removes them.
CREATE TABLE projection_quarantine (
    name text NOT NULL,
    version integer NOT NULL CHECK (version > 0),
    tenant_id text NOT NULL,
    tx_id xid8 NOT NULL,
    global_position bigint NOT NULL,
    event_id uuid NOT NULL,
    stream_id uuid NOT NULL,
    stream_version bigint NOT NULL,
    event_type text NOT NULL,
    failed boolean NOT NULL,
    error text NOT NULL,
    quarantined_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (name, version, event_id)
);

CREATE INDEX projection_quarantine_order
    ON projection_quarantine (name, version, tenant_id, tx_id, global_position);

-- a rebuild that had to quarantine events finishes "degraded", never "done"
ALTER TABLE projection_rebuilds DROP CONSTRAINT projection_rebuilds_status_check;
ALTER TABLE projection_rebuilds ADD CONSTRAINT projection_rebuilds_status_check
    CHECK (status IN ('running', 'done', 'failed', 'degraded'));
ALTER TABLE projection_rebuilds ADD COLUMN quarantined bigint NOT NULL DEFAULT 0;
