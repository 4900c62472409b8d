-- API keys: an SK SID and a secret, so applications need not hold the auth token.

CREATE TABLE api_keys (
    sid                 text PRIMARY KEY,
    account_sid         text NOT NULL REFERENCES accounts (sid),
    friendly_name       text NOT NULL DEFAULT '',
    -- SHA-256 of the secret; the secret itself is shown once, at creation.
    secret_hash         bytea NOT NULL,
    date_created        timestamptz NOT NULL DEFAULT now(),
    date_updated        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX api_keys_account ON api_keys (account_sid, date_created);
