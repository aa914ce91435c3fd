-- Tenants' carrier connections (ADR 0030): secrets sealed with AES-256-GCM under a key
-- derived from the master key named by key_id (adapters/crypto/carrier_secrets.py);
-- `details` is what the API may show (JSON: ship-from, account number, carrier ids...).
CREATE TABLE carrier_connections (
    tenant_id uuid NOT NULL,
    carrier text NOT NULL,
    enabled boolean NOT NULL,
    configured_at timestamptz NOT NULL,
    details jsonb NOT NULL,
    key_id text NOT NULL,
    sealed_secrets bytea NOT NULL,
    PRIMARY KEY (tenant_id, carrier)
);

-- Label documents bought from carriers, one per label intent (its key). The document
-- prints the customer's address: it is sealed under the customer's data key (sealed_for),
-- so erasing the customer makes it unreadable as the rest of their data.
CREATE TABLE shipment_labels (
    tenant_id text NOT NULL,
    shipment_id uuid NOT NULL,
    key text NOT NULL,
    format text NOT NULL,
    sealed_for uuid NOT NULL,
    content bytea NOT NULL,
    stored_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, shipment_id, key)
);
