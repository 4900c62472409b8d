-- A messaging service cannot be deleted while messages through it wait to be
-- sent; this index keeps that check from reading the whole table.

CREATE INDEX messages_service_waiting ON messages (messaging_service_sid)
    WHERE dispatch_state IN ('pending', 'due');
