-- Where each sent event sits in the stream, so that the events that carried a
-- story's text can be erased from JetStream too when the story is withdrawn or
-- purged ("deleted everywhere"). A row marked `erase` is erased by the relay,
-- then deleted.
ALTER TABLE outbox ADD COLUMN stream_seq bigint, ADD COLUMN erase boolean NOT NULL DEFAULT false;
CREATE INDEX outbox_erase ON outbox (created_at) WHERE erase;
