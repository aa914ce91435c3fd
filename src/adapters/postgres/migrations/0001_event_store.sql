-- The event store: one table of events in streams, with a global order that
-- readers follow by (tx_id, global_position); see docs/adr/0002-event-store.md.
CREATE TABLE events (
    global_position bigint GENERATED ALWAYS AS IDENTITY,
    tx_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
    stream_id uuid NOT NULL,
    version integer NOT NULL CHECK (version > 0),
    event_id uuid NOT NULL,
    type text NOT NULL,
    data jsonb NOT NULL,
    tenant_id text NOT NULL,
    correlation_id text,
    causation_id text,
    actor text,
    recorded_at timestamptz NOT NULL,
    CONSTRAINT events_stream_version UNIQUE (stream_id, version),
    CONSTRAINT events_event_id UNIQUE (event_id)
);

CREATE INDEX events_read_order ON events (tx_id, global_position);

CREATE TABLE snapshots (
    stream_id uuid NOT NULL,
    version integer NOT NULL,
    type text NOT NULL,
    data jsonb NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (stream_id, version)
);
