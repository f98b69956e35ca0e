-- Up Migration
CREATE TABLE orders (
  id               uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id          text        NOT NULL,
  idempotency_key  text        NOT NULL,
  fingerprint      text        NOT NULL,
  items            jsonb       NOT NULL,
  total            bigint      NOT NULL CHECK (total > 0),
  currency         char(3)     NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  card_token       text        NOT NULL,
  status           text        NOT NULL DEFAULT 'pending'
                               CHECK (status IN ('pending', 'paid', 'payment_failed', 'cancelled')),
  payment_id       uuid,
  failure_reason   text,
  refunded         boolean     NOT NULL DEFAULT false,
  attempts         integer     NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT orders_idempotency_key UNIQUE (user_id, idempotency_key),
  CONSTRAINT orders_paid_has_payment CHECK (status <> 'paid' OR payment_id IS NOT NULL)
);
CREATE INDEX orders_user_newest_idx ON orders (user_id, created_at DESC, id DESC);
CREATE INDEX orders_pending_due_idx ON orders (next_attempt_at) WHERE status = 'pending';

-- The database refuses illegal state changes, whatever the code does:
--   pending -> paid | payment_failed | cancelled (recovery gave up)
--   paid -> cancelled (after the refund), payment_failed -> cancelled
CREATE FUNCTION orders_check_transition() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status = OLD.status THEN
    RETURN NEW;
  END IF;
  IF (OLD.status = 'pending' AND NEW.status IN ('paid', 'payment_failed', 'cancelled'))
     OR (OLD.status IN ('paid', 'payment_failed') AND NEW.status = 'cancelled') THEN
    NEW.updated_at := now();
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'illegal order transition % -> %', OLD.status, NEW.status
    USING ERRCODE = 'check_violation', CONSTRAINT = 'orders_status_transition';
END;
$$;

CREATE TRIGGER orders_status_transition
  BEFORE UPDATE OF status ON orders
  FOR EACH ROW EXECUTE FUNCTION orders_check_transition();
