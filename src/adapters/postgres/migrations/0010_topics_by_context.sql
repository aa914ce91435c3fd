-- Stored event and snapshot types name their class by module and qualified name
-- (eventsourcing's topics). ADR 0015 moved the aggregates into bounded-context packages;
-- this renames the types already stored, and the aggregate's topic that every creation
-- event carries in its payload (`originator_topic`), so that old events resolve to the moved
-- classes and projections, replays and reconciliation still recognise them. Only the module
-- part of a topic changes: ids, versions, `tx_id` and the rest of each payload stay as they were.
CREATE TEMPORARY TABLE topic_moves (old text PRIMARY KEY, new text NOT NULL) ON COMMIT DROP;
INSERT INTO topic_moves (old, new) VALUES
    ('commerce_core.domain.catalog:', 'commerce_core.catalog.product:'),
    ('commerce_core.domain.customer:', 'commerce_core.customers.customer:'),
    ('commerce_core.domain.email_claim:', 'commerce_core.customers.email_claim:'),
    ('commerce_core.domain.order.order:', 'commerce_core.ordering.order.order:'),
    ('commerce_core.domain.order_ledger:', 'commerce_core.ordering.ledger:'),
    ('commerce_core.domain.payment:', 'commerce_core.payments.payment.payment:'),
    ('commerce_core.domain.payment_reference:', 'commerce_core.payments.reference:'),
    ('commerce_core.domain.seller:', 'commerce_core.marketplace.seller:'),
    ('commerce_core.domain.shipment:', 'commerce_core.fulfilment.shipment:'),
    ('commerce_core.domain.stock:', 'commerce_core.inventory.stock:'),
    ('commerce_core.domain.stock_locations:', 'commerce_core.inventory.locations:');

UPDATE events e
   SET type = m.new || substr(e.type, length(m.old) + 1)
  FROM topic_moves m
 WHERE starts_with(e.type, m.old);

UPDATE snapshots s
   SET type = m.new || substr(s.type, length(m.old) + 1)
  FROM topic_moves m
 WHERE starts_with(s.type, m.old);

UPDATE events e
   SET data = jsonb_set(
           e.data,
           '{originator_topic}',
           to_jsonb(m.new || substr(e.data->>'originator_topic', length(m.old) + 1))
       )
  FROM topic_moves m
 WHERE starts_with(e.data->>'originator_topic', m.old);
