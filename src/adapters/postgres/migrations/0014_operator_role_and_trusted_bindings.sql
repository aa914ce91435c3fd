-- ADR 0019. Keys get the `operator` role (platform-wide routes; its keys belong to the
-- tenant `platform`) and grants: what a `service` key may do beyond its role (`refunds`).
ALTER TABLE api_keys DROP CONSTRAINT IF EXISTS api_keys_role_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_role_check
    CHECK (role IN ('operator', 'admin', 'staff', 'service'));
ALTER TABLE api_keys ADD COLUMN IF NOT EXISTS grants text[] NOT NULL DEFAULT '{}'
    CONSTRAINT api_keys_grants_check CHECK (grants <@ ARRAY['refunds']::text[]);

-- A gateway payment's tenant was learnt from the first event that named it, whichever
-- account signed it: a tenant's own account could claim another tenant's payment. Only
-- bindings that our own call confirms (the tenant's PaymentReference of that gateway
-- payment, written when our call learnt the id) stay; the others are learnt again from
-- the platform's events with our metadata.
DELETE FROM gateway_payment_tenants g
 WHERE NOT EXISTS (
    SELECT 1 FROM events e
     WHERE e.type = 'commerce_core.payments.reference:PaymentReference.Linked'
       AND e.tenant_id = g.tenant_id
       AND e.data ->> 'gateway' = g.gateway
       AND e.data ->> 'gateway_payment_id' = g.gateway_payment_id
 );
