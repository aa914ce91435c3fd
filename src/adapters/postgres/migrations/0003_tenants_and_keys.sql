-- Tenants and their API keys; see docs/adr/0005-tenancy-keys-idempotency.md.
-- Only a key's SHA-256 hash is stored: the secret is shown once, when issued.
CREATE TABLE tenants (
    id uuid PRIMARY KEY,
    slug text NOT NULL CONSTRAINT tenants_slug UNIQUE,
    created_at timestamptz NOT NULL,
    settings jsonb NOT NULL DEFAULT '{}'
);

CREATE TABLE api_keys (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    role text NOT NULL CHECK (role IN ('admin', 'staff', 'service')),
    key_hash text NOT NULL CONSTRAINT api_keys_hash UNIQUE,
    created_at timestamptz NOT NULL,
    revoked_at timestamptz
);

CREATE INDEX api_keys_tenant ON api_keys (tenant_id, created_at);
