-- Domains are proved over DNS.  Several accounts may claim a name while it is
-- unproved; only one may hold it verified, so nobody can squat on a domain
-- they do not control.  The outcome of the last DNS check is kept with it.

ALTER TABLE domains DROP CONSTRAINT domains_domain_name_key;
ALTER TABLE domains ADD CONSTRAINT domains_account_domain UNIQUE (account_sid, domain_name);
CREATE UNIQUE INDEX domains_verified_name ON domains (domain_name)
    WHERE verified_at IS NOT NULL;

ALTER TABLE domains
    ADD COLUMN checked_at      timestamptz,
    ADD COLUMN check_reason    text NOT NULL DEFAULT '',
    ADD COLUMN routing_valid   boolean,
    ADD COLUMN routing_reason  text NOT NULL DEFAULT '';
CREATE INDEX domains_check_due ON domains (checked_at NULLS FIRST);
