-- An operator may vouch for a domain whose DNS Pigeon cannot see (split-horizon
-- DNS, a trial on a machine with no public records).  Such a domain is
-- verified without a TXT record, and DNS checks never take that away.

ALTER TABLE domains ADD COLUMN attested boolean NOT NULL DEFAULT false;
