-- Up Migration
CREATE TABLE payments (
  id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  order_id        uuid        NOT NULL,
  user_id         text        NOT NULL,
  amount          bigint      NOT NULL CHECK (amount > 0),
  currency        char(3)     NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  status          text        NOT NULL CHECK (status IN ('captured', 'declined')),
  decline_reason  text,
  refunded_amount bigint      NOT NULL DEFAULT 0,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  -- The database, not the code, guarantees refunds never exceed what was captured.
  CONSTRAINT payments_refunds_within_captured CHECK (refunded_amount >= 0 AND refunded_amount <= amount),
  CONSTRAINT payments_refunds_only_captured CHECK (status = 'captured' OR refunded_amount = 0)
);
CREATE INDEX payments_order_id_idx ON payments (order_id);

CREATE TABLE refunds (
  id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  payment_id uuid        NOT NULL REFERENCES payments (id),
  amount     bigint      NOT NULL CHECK (amount > 0),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refunds_payment_id_idx ON refunds (payment_id);

CREATE TABLE idempotency_keys (
  scope           text        NOT NULL,
  key             text        NOT NULL,
  fingerprint     text        NOT NULL,
  response_status integer     NOT NULL,
  response_body   jsonb       NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  expires_at      timestamptz NOT NULL,
  PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_expires_at_idx ON idempotency_keys (expires_at);
