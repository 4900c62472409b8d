-- The wake-up rule of 0006, for statements that insert several rows at once
-- (group-committed creates): the rows are compared with the oldest row the
-- statement inserted, not with the newest, so a batch written into an empty
-- outbox wakes the relays.

CREATE OR REPLACE FUNCTION notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM outbox WHERE id < (SELECT min(id) FROM inserted) LIMIT 1
    ) THEN
        PERFORM pg_notify('pigeon_outbox', '');
    END IF;
    RETURN NULL;
END;
$$;

DROP TRIGGER outbox_notify ON outbox;
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION notify_outbox();
