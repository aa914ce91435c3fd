-- Per-customer data keys for personal data, wrapped (AES-GCM) by the master
-- key named by kek_id; see docs/adr/0004-pii-encryption.md. Erasing a customer
-- deletes their row (crypto-shredding): the events stay, unreadable.
CREATE TABLE customer_keys (
    key_id uuid PRIMARY KEY,
    kek_id text NOT NULL,
    wrapped_key bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
