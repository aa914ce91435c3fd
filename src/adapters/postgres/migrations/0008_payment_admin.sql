-- Tenants' own gateway accounts: secrets sealed with AES-256-GCM under a key derived
-- from the master key named by key_id (see adapters/crypto/gateway_secrets.py); the
-- summary columns are what the API may show.
CREATE TABLE gateway_configs (
    tenant_id uuid NOT NULL,
    gateway text NOT NULL,
    enabled boolean NOT NULL,
    publishable_key text,
    configured_at timestamptz NOT NULL,
    key_id text NOT NULL,
    sealed_credentials bytea NOT NULL,
    PRIMARY KEY (tenant_id, gateway)
);

-- Daily reconciliation: one report per tenant and UTC day (a JSON document), and per
-- day where the next day's events begin in the event log (tx_id, global_position).
CREATE TABLE reconciliation_reports (
    tenant_id text NOT NULL,
    day date NOT NULL,
    generated_at timestamptz NOT NULL,
    report jsonb NOT NULL,
    PRIMARY KEY (tenant_id, day)
);

CREATE TABLE reconciliation_runs (
    day date PRIMARY KEY,
    finished_at timestamptz NOT NULL,
    next_tx_id bigint NOT NULL,
    next_global_position bigint NOT NULL
);
