-- Merchant webhooks (ADR 0036): tenants' endpoints, with their signing secrets sealed
-- (AES-256-GCM under a key derived from the master key named by key_id), and one
-- delivery per (endpoint, event) with every attempt made to send it.
CREATE TABLE webhook_endpoints (
    tenant_id text NOT NULL,
    id uuid NOT NULL,
    url text NOT NULL,
    events text[] NOT NULL,
    description text,
    status text NOT NULL,
    notice text,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    failing_since timestamptz,
    key_id text NOT NULL,
    sealed_secrets bytea NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE webhook_deliveries (
    tenant_id text NOT NULL,
    id uuid NOT NULL,
    endpoint_id uuid NOT NULL,
    event_id uuid NOT NULL,
    event_type text NOT NULL,
    body bytea NOT NULL,
    status text NOT NULL,
    created_at timestamptz NOT NULL,
    next_attempt_at timestamptz,
    attempts jsonb NOT NULL DEFAULT '[]',
    PRIMARY KEY (tenant_id, id),
    UNIQUE (endpoint_id, event_id),
    FOREIGN KEY (tenant_id, endpoint_id) REFERENCES webhook_endpoints (tenant_id, id)
        ON DELETE CASCADE
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_of_endpoint
    ON webhook_deliveries (tenant_id, endpoint_id, created_at DESC, id);

-- Where the fan-out has read the event log up to (one row).
CREATE TABLE webhook_fanout_checkpoint (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    tx_id bigint NOT NULL,
    global_position bigint NOT NULL
);
