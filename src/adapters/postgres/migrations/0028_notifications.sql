-- Customer notifications (ADR 0038): one row per (event, channel), recorded before it is
-- sent. No address is kept (only a masked one to show staff): it is read from the
-- customer when the message goes out, so an erased customer's address is gone.
CREATE TABLE notifications (
    tenant_id text NOT NULL,
    id uuid NOT NULL,
    event_id uuid NOT NULL,
    kind text NOT NULL,
    channel text NOT NULL,
    customer_id uuid NOT NULL,
    order_id uuid NOT NULL,
    recipient text NOT NULL,
    context jsonb NOT NULL,
    status text NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL,
    next_attempt_at timestamptz,
    sent_at timestamptz,
    last_error text,
    -- the order of recording: a receipt never goes out before its confirmation
    seq bigint GENERATED ALWAYS AS IDENTITY,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (event_id, channel)
);
CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE status = 'pending';
CREATE INDEX notifications_of_tenant ON notifications (tenant_id, created_at DESC, id);

-- Tenants' own templates, per kind; a part left null keeps the default.
CREATE TABLE notification_templates (
    tenant_id text NOT NULL,
    kind text NOT NULL,
    override jsonb NOT NULL,
    PRIMARY KEY (tenant_id, kind)
);

-- Where the notification pipeline has read the event log up to (one row).
CREATE TABLE notification_checkpoint (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    tx_id bigint NOT NULL,
    global_position bigint NOT NULL
);
