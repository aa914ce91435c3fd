-- Gateway webhooks: each event stored once per (gateway, event id), then processed by
-- workers that claim due events with FOR UPDATE SKIP LOCKED and a lease
-- (adapters/postgres/webhooks.py). next_attempt_at is when the event is next due; for a
-- claimed event it is the end of the claim's lease. Processed and dead events have none.
CREATE TABLE webhook_events (
    id uuid PRIMARY KEY,
    seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    gateway text NOT NULL,
    event_id text NOT NULL,
    type text NOT NULL,
    payload jsonb NOT NULL,
    tenant_id text,
    status text NOT NULL CHECK (status IN ('received', 'processed', 'failed', 'dead')),
    attempts integer NOT NULL DEFAULT 0,
    received_at timestamptz NOT NULL,
    next_attempt_at timestamptz,
    claim uuid,
    last_error text,
    note text,
    processed_at timestamptz,
    UNIQUE (gateway, event_id)
);

-- what workers claim
CREATE INDEX webhook_events_due ON webhook_events (next_attempt_at)
    WHERE status IN ('received', 'failed');
-- what operators list and the health endpoint counts (purges walk seq from the oldest)
CREATE INDEX webhook_events_open ON webhook_events (status, seq) WHERE status <> 'processed';

-- Which tenant a gateway payment belongs to, learnt from the metadata of the gateway's
-- payment events; refund and dispute events carry only the gateway's payment id.
CREATE TABLE gateway_payment_tenants (
    gateway text NOT NULL,
    gateway_payment_id text NOT NULL,
    tenant_id text NOT NULL,
    PRIMARY KEY (gateway, gateway_payment_id)
);

-- The newest state of each seller's connected account (Stripe's account.updated):
-- as_of is the gateway event's creation time, event_id breaks ties.
CREATE TABLE seller_accounts (
    gateway text NOT NULL,
    account_id text NOT NULL,
    tenant_id text,
    charges_enabled boolean NOT NULL,
    payouts_enabled boolean NOT NULL,
    details_submitted boolean NOT NULL,
    as_of timestamptz NOT NULL,
    event_id text NOT NULL,
    PRIMARY KEY (gateway, account_id)
);
