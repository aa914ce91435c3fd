-- Clover's webhook verification code, kept on each Clover connection awaiting its auth code
-- (ADR 0042) to show at GET /admin/channels; `awaiting_webhook_auth` is written with the
-- connection (its secrets are sealed, so the database cannot tell by itself).
ALTER TABLE pos_connections
    ADD COLUMN verification_code text,
    ADD COLUMN awaiting_webhook_auth boolean NOT NULL DEFAULT false;

-- OAuth states (ADR 0043): each bound to the tenant and POS that asked for it, used once
-- (the callback deletes it as it reads it), and refused after `expires_at`.
CREATE TABLE pos_oauth_states (
    state text PRIMARY KEY,
    tenant_id uuid NOT NULL,
    pos text NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX pos_oauth_states_expiry ON pos_oauth_states (expires_at);
