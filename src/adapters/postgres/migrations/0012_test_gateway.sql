-- The test gateway of the demo mode (PAYMENT_GATEWAY=fake, or auto without Stripe keys;
-- adapters/postgres/fake_gateway.py) keeps its state here, so `make run`, a restart and
-- the CLI's jobs all see the same payments. States are JSON documents of
-- adapters/payments/fake_gateway.py (FakeIntent, FakeRefund); ids come from the sequences,
-- so they never repeat across restarts.
CREATE SEQUENCE test_gateway_payment_numbers;
CREATE SEQUENCE test_gateway_refund_numbers;

CREATE TABLE test_gateway_payments (
    id text PRIMARY KEY,
    state jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE test_gateway_refunds (
    id text PRIMARY KEY,
    payment_id text NOT NULL REFERENCES test_gateway_payments (id),
    state jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX test_gateway_refunds_payment ON test_gateway_refunds (payment_id);

-- One row per idempotency key: the request it was first used for and the answer given
-- (a payment, a refund or a refusal). The row is inserted first, which makes concurrent
-- calls with the key wait for the first; `answer` is NULL only inside that transaction.
CREATE TABLE test_gateway_answers (
    idempotency_key text PRIMARY KEY,
    request jsonb NOT NULL,
    answer jsonb,
    created_at timestamptz NOT NULL DEFAULT now()
);
