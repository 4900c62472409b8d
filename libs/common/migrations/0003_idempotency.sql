-- A create retried with the same I-Twilio-Idempotency-Token returns the first result.

CREATE TABLE idempotency_tokens (
    account_sid         text NOT NULL REFERENCES accounts (sid),
    token               text NOT NULL,
    message_sid         text NOT NULL,
    date_created        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_sid, token)
);
CREATE INDEX idempotency_tokens_age ON idempotency_tokens (date_created);
