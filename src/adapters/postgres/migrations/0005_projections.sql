-- Projection checkpoints: how far each version of each projection has applied
-- events, written in the same transaction as its read-model changes; see
-- docs/adr/0006-projections.md. Read-model tables themselves (rm_<table>_v<N>)
-- and the views queries read (rm_<table>) are created from the projections'
-- table specs by the applier, not here.
CREATE TABLE projection_checkpoints (
    name text NOT NULL,
    version integer NOT NULL CHECK (version > 0),
    tx_id xid8 NOT NULL DEFAULT '0',
    global_position bigint NOT NULL DEFAULT 0,
    status text NOT NULL DEFAULT 'catching_up'
        CHECK (status IN ('catching_up', 'rebuilding', 'live', 'failed')),
    error text,
    serving boolean NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (name, version)
);

-- at most one version of a projection serves queries
CREATE UNIQUE INDEX projection_checkpoints_serving ON projection_checkpoints (name) WHERE serving;
