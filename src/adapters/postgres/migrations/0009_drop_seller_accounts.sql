-- Sellers' connected accounts are Seller aggregates in the event store (ADR 0014): the
-- account.updated flags recorded here were a second source of truth. Nothing reads them.
DROP TABLE IF EXISTS seller_accounts;
