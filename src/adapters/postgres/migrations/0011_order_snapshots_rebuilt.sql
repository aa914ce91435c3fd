-- Orders now remember which payment brought which money, which payment is under way and
-- which refunds they recorded (ADR 0016, intent-first effects). Snapshots written before
-- cannot know that; a snapshot is only a shortcut, so they go, and each order loads once
-- from its events (which do carry those facts) until the next snapshot is taken.
DELETE FROM snapshots WHERE starts_with(type, 'commerce_core.ordering.order.order:Order');
