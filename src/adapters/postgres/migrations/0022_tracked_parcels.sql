-- Parcels with a label (ADR 0032): which tenant's shipment a carrier's tracking number
-- belongs to (webhooks find it here), and the poller's last check of each open one.
CREATE TABLE tracked_parcels (
    carrier text NOT NULL,
    tracking_number text NOT NULL,
    tenant_id text NOT NULL,
    shipment_id uuid NOT NULL,
    open boolean NOT NULL DEFAULT true,
    checked_at timestamptz,
    watched_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (carrier, tracking_number)
);

-- The poller's batch: open parcels, never checked first, then the oldest check.
CREATE INDEX tracked_parcels_due ON tracked_parcels (checked_at NULLS FIRST) WHERE open;
