-- Events of one gateway payment are processed one at a time, in arrival order
-- (ADR 0045): ordering_key names the payment ('platform:stripe:pi_...'), set when the
-- event is received; a claim does not take an event while another of its key is claimed
-- (lease running) or an earlier one is due. NULL: the event waits for nothing (events
-- stored before this migration, and those that name no payment).
ALTER TABLE webhook_events ADD COLUMN ordering_key text;

CREATE INDEX webhook_events_pending_key ON webhook_events (ordering_key, seq)
    WHERE status IN ('received', 'failed') AND ordering_key IS NOT NULL;
