-- Erasure is complete (docs/adr/0021-erasure-is-complete.md).
--
-- 1. Idempotency responses that hold a customer's personal data are stored sealed under the
--    customer's data key; `sealed_for` names that customer (NULL: a response without personal
--    data, stored as it was sent). Responses stored before this migration were kept in plain
--    text and nothing says whose data they hold, so they are replaced by the answer a replay
--    gives after an erasure: 410 `idempotent-response-erased`. The request was done once and a
--    replay still does not do it again; only its body is gone (keys live 24 hours).
ALTER TABLE idempotency_keys ADD COLUMN sealed_for uuid;

UPDATE idempotency_keys
   SET status = 410,
       content_type = 'application/problem+json',
       body = convert_to(
           '{"type":"https://commerce-core.dev/problems/idempotent-response-erased",'
           || '"title":"Idempotent response erased","status":410,'
           || '"detail":"this request was done once; its stored response was removed with the'
           || ' personal data it might hold, so it can no longer be replayed"}',
           'UTF8'),
       sealed_for = NULL
 WHERE status IS NOT NULL;

-- 2. Gateway webhook payloads are stored without personal fields (billing and shipping details,
--    emails, names, phones, addresses, ...): adapters/payments/stripe_personal_data.py drops
--    them before a payload is stored, and this function, with the same list of keys, scrubs
--    the events stored before. `metadata` objects (our own ids) stay whole. The function stays
--    in the schema so that an operator can run the same scrub again.
CREATE FUNCTION scrub_personal_data(value jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    personal CONSTANT text[] := ARRAY[
        'account_holder_name',
        'address',
        'billing_details',
        'business_profile',
        'cardholder_name',
        'company',
        'customer_address',
        'customer_details',
        'customer_email',
        'customer_name',
        'customer_phone',
        'customer_shipping',
        'description',
        'dob',
        'email',
        'evidence',
        'external_accounts',
        'first_name',
        'individual',
        'ip',
        'ip_address',
        'last_name',
        'name',
        'owner',
        'payment_method_details',
        'phone',
        'receipt_email',
        'representative',
        'shipping',
        'shipping_details',
        'support_address',
        'support_email',
        'support_phone',
        'verified_address',
        'verified_email',
        'verified_name',
        'verified_phone'
    ];
BEGIN
    CASE jsonb_typeof(value)
    WHEN 'object' THEN
        RETURN COALESCE(
            (SELECT jsonb_object_agg(
                        k, CASE WHEN k = 'metadata' THEN v ELSE scrub_personal_data(v) END)
               FROM jsonb_each(value) AS e(k, v)
              WHERE NOT k = ANY (personal)),
            '{}'::jsonb);
    WHEN 'array' THEN
        RETURN COALESCE(
            (SELECT jsonb_agg(scrub_personal_data(v) ORDER BY i)
               FROM jsonb_array_elements(value) WITH ORDINALITY AS a(v, i)),
            '[]'::jsonb);
    ELSE
        RETURN value;
    END CASE;
END
$$;

UPDATE webhook_events
   SET payload = scrub_personal_data(payload)
 WHERE payload IS DISTINCT FROM scrub_personal_data(payload);
