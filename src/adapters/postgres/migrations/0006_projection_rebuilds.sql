-- Progress of projection rebuilds and verifies: the newest run of each kind per
-- projection version, so that any process can show it; see docs/adr/0006-projections.md.
-- The shadow tables themselves (rm_<table>_v<N>_next, _check) are made by the
-- rebuild and dropped when it ends.
CREATE TABLE projection_rebuilds (
    name text NOT NULL,
    version integer NOT NULL CHECK (version > 0),
    kind text NOT NULL CHECK (kind IN ('rebuild', 'verify')),
    status text NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    done bigint NOT NULL DEFAULT 0,
    total bigint NOT NULL DEFAULT 0,
    started_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    error text,
    PRIMARY KEY (name, version, kind)
);
