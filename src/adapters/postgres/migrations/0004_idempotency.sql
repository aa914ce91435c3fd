-- One outcome per (tenant, Idempotency-Key) for 24 hours; see
-- docs/adr/0005-tenancy-keys-idempotency.md. status IS NULL means in progress.
CREATE TABLE idempotency_keys (
    tenant_id uuid NOT NULL,
    key text NOT NULL,
    request_hash text NOT NULL,
    token uuid NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    locked_until timestamptz NOT NULL,
    status smallint,
    body bytea,
    content_type text,
    PRIMARY KEY (tenant_id, key)
);

CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);
