-- A NOTIFY from every inserting transaction costs PostgreSQL a queue entry and
-- a signal to each listener, and costs the relay a wake-up, per message.  Wake
-- the relays only when nothing older than the new rows is waiting; otherwise a
-- relay is already draining the outbox and reaches them before it sleeps.
-- currval is this session's newest outbox id, so older rows are the others'.

CREATE OR REPLACE FUNCTION notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM outbox WHERE id < currval('outbox_id_seq') LIMIT 1
    ) THEN
        PERFORM pg_notify('pigeon_outbox', '');
    END IF;
    RETURN NULL;
END;
$$;
