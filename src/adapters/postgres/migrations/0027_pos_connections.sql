-- Tenants' POS connections and the state of their order pull (ADR 0037). Secrets are
-- sealed with AES-256-GCM under a key derived from the master key named by key_id
-- (adapters/crypto/pos_secrets.py); `details` is what the API may show (location and
-- item maps). The cursor is the POS's, stored after a batch of orders is applied.
CREATE TABLE pos_connections (
    tenant_id uuid NOT NULL,
    pos text NOT NULL,
    enabled boolean NOT NULL,
    configured_at timestamptz NOT NULL,
    details jsonb NOT NULL,
    key_id text NOT NULL,
    sealed_secrets bytea NOT NULL,
    cursor text,
    last_synced_at timestamptz,
    last_error text,
    failures integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,
    counts_digest text,
    PRIMARY KEY (tenant_id, pos)
);

-- POS sales that would take stock we did not have: recorded once per POS order, shown
-- at GET /admin/channels until resolved, never dropped.
CREATE TABLE pos_oversells (
    tenant_id uuid NOT NULL,
    pos text NOT NULL,
    external_id text NOT NULL,
    location_id text NOT NULL,
    detail text NOT NULL,
    recorded_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, pos, external_id)
);
