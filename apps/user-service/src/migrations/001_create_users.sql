-- Up Migration
CREATE TABLE users (
  id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  email         text        NOT NULL CHECK (char_length(email) BETWEEN 3 AND 254),
  name          text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
  password_hash text        NOT NULL,
  role          text        NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Emails are unique regardless of case: Alice@Example.com and alice@example.com are one user.
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
