-- The order push to a POS (ADR 0040): its checkpoint in the tenant's events (a
-- Position: transaction id and global position) and when the connection was first
-- stored (only orders placed since are pushed). Oversells are resolved by a person,
-- with a note; only open ones are counted at GET /admin/channels.
ALTER TABLE pos_connections
    ADD COLUMN push_tx bigint,
    ADD COLUMN push_global bigint,
    ADD COLUMN push_since timestamptz NOT NULL DEFAULT now();

ALTER TABLE pos_oversells
    ADD COLUMN resolved_at timestamptz,
    ADD COLUMN resolved_by text,
    ADD COLUMN resolution_note text;
