-- Accounts, messaging services, senders, branded domains, messages, short links,
-- the transactional outbox and durable webhook deliveries.

CREATE TABLE accounts (
    sid                 text PRIMARY KEY,
    friendly_name       text NOT NULL,
    status              text NOT NULL DEFAULT 'active',
    -- SHA-256 of the auth token, for authentication.
    auth_token_hash     bytea NOT NULL,
    -- The token itself, AES-256-GCM under the master key, for signing webhooks.
    auth_token_sealed   bytea NOT NULL,
    auth_token_key_id   text NOT NULL,
    date_created        timestamptz NOT NULL DEFAULT now(),
    date_updated        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE messaging_services (
    sid                 text PRIMARY KEY,
    account_sid         text NOT NULL REFERENCES accounts (sid),
    friendly_name       text NOT NULL,
    attributes          jsonb NOT NULL DEFAULT '{}'::jsonb,
    status_callback     text,
    date_created        timestamptz NOT NULL DEFAULT now(),
    date_updated        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX messaging_services_account ON messaging_services (account_sid, date_created);

CREATE TABLE phone_numbers (
    sid                 text PRIMARY KEY,
    account_sid         text NOT NULL REFERENCES accounts (sid),
    phone_number        text NOT NULL,
    friendly_name       text NOT NULL,
    date_created        timestamptz NOT NULL DEFAULT now(),
    date_updated        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (phone_number)
);
CREATE INDEX phone_numbers_account ON phone_numbers (account_sid);

CREATE TABLE service_phone_numbers (
    service_sid         text NOT NULL REFERENCES messaging_services (sid) ON DELETE CASCADE,
    phone_number_sid    text NOT NULL REFERENCES phone_numbers (sid) ON DELETE CASCADE,
    date_created        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (service_sid, phone_number_sid)
);

CREATE TABLE domains (
    sid                 text PRIMARY KEY,
    account_sid         text NOT NULL REFERENCES accounts (sid),
    domain_name         text NOT NULL UNIQUE,
    verification_token  text NOT NULL,
    verified_at         timestamptz,
    date_created        timestamptz NOT NULL DEFAULT now(),
    date_updated        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX domains_account ON domains (account_sid);

CREATE TABLE domain_certificates (
    sid                 text PRIMARY KEY,
    domain_sid          text NOT NULL UNIQUE REFERENCES domains (sid) ON DELETE CASCADE,
    certificate_pem     text NOT NULL,
    -- The private key (PKCS#8 DER), AES-256-GCM under the master key.
    private_key_sealed  bytea NOT NULL,
    private_key_key_id  text NOT NULL,
    not_before          timestamptz NOT NULL,
    not_after           timestamptz NOT NULL,
    date_created        timestamptz NOT NULL DEFAULT now(),
    date_updated        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE domain_configs (
    sid                 text PRIMARY KEY,
    domain_sid          text NOT NULL UNIQUE REFERENCES domains (sid) ON DELETE CASCADE,
    fallback_url        text,
    callback_url        text,
    continue_on_failure boolean,
    disable_https       boolean NOT NULL DEFAULT false,
    date_created        timestamptz NOT NULL DEFAULT now(),
    date_updated        timestamptz NOT NULL DEFAULT now()
);

-- A messaging service shortens links on at most one domain.
CREATE TABLE domain_services (
    service_sid         text PRIMARY KEY REFERENCES messaging_services (sid) ON DELETE CASCADE,
    domain_sid          text NOT NULL REFERENCES domains (sid) ON DELETE CASCADE,
    date_created        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX domain_services_domain ON domain_services (domain_sid);

CREATE TABLE messages (
    sid                   text PRIMARY KEY,
    account_sid           text NOT NULL REFERENCES accounts (sid),
    messaging_service_sid text REFERENCES messaging_services (sid) ON DELETE SET NULL,
    to_address            text NOT NULL,
    from_address          text,
    body                  text NOT NULL DEFAULT '',
    status                text NOT NULL,
    -- Internal progress, independent of the public status:
    -- pending -> due -> dispatching -> done, or pending -> canceled.
    dispatch_state        text NOT NULL DEFAULT 'pending',
    shorten_urls          boolean NOT NULL DEFAULT false,
    send_at               timestamptz,
    status_callback       text,
    validity_period       integer,
    num_segments          integer NOT NULL DEFAULT 0,
    num_media             integer NOT NULL DEFAULT 0,
    error_code            integer,
    error_message         text,
    direction             text NOT NULL DEFAULT 'outbound-api',
    date_created          timestamptz NOT NULL DEFAULT now(),
    date_updated          timestamptz NOT NULL DEFAULT now(),
    date_sent             timestamptz
);
CREATE INDEX messages_account_created ON messages (account_sid, date_created DESC, sid DESC);
CREATE INDEX messages_pending_due ON messages (send_at) WHERE dispatch_state = 'pending';

CREATE TABLE short_links (
    code                text PRIMARY KEY,
    domain_sid          text NOT NULL REFERENCES domains (sid) ON DELETE CASCADE,
    message_sid         text NOT NULL REFERENCES messages (sid) ON DELETE CASCADE,
    account_sid         text NOT NULL REFERENCES accounts (sid),
    original_url        text NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    expires_at          timestamptz NOT NULL
);
CREATE INDEX short_links_message ON short_links (message_sid);

-- Events written in the same transaction as the rows they announce; a relay
-- publishes them to Kafka and deletes them.
CREATE TABLE outbox (
    id                  bigserial PRIMARY KEY,
    topic               text NOT NULL,
    key                 text NOT NULL,
    payload             bytea NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('pigeon_outbox', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION notify_outbox();

-- One row per webhook to deliver; the event id makes redelivered events no-ops.
CREATE TABLE webhook_deliveries (
    id                  bigserial PRIMARY KEY,
    event_id            uuid NOT NULL UNIQUE,
    account_sid         text NOT NULL REFERENCES accounts (sid),
    kind                text NOT NULL,
    url                 text NOT NULL,
    content_type        text NOT NULL,
    body                bytea NOT NULL,
    attempts            integer NOT NULL DEFAULT 0,
    next_attempt_at     timestamptz NOT NULL DEFAULT now(),
    state               text NOT NULL DEFAULT 'pending',
    last_error          text,
    date_created        timestamptz NOT NULL DEFAULT now(),
    delivered_at        timestamptz
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
    WHERE state = 'pending';

-- Clicks, counted once per event id.
CREATE TABLE link_clicks (
    event_id            uuid PRIMARY KEY,
    code                text NOT NULL,
    message_sid         text NOT NULL,
    account_sid         text NOT NULL,
    clicked_at          timestamptz NOT NULL,
    user_agent          text
);
CREATE INDEX link_clicks_message ON link_clicks (message_sid);
