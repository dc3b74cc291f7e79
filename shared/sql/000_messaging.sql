-- Messaging tables every service schema has (applied into each schema).

-- Transactional outbox: an event is written in the same transaction as the
-- state change it describes; the relay publishes it and sets published_at.
CREATE TABLE outbox (
    event_id     uuid PRIMARY KEY,
    subject      text NOT NULL,
    payload      jsonb NOT NULL,
    story_id     uuid,
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    published_at timestamptz
);
CREATE INDEX outbox_unpublished ON outbox (created_at) WHERE published_at IS NULL;
CREATE INDEX outbox_story ON outbox (story_id);

-- Inbox: event ids a consumer has handled, so a redelivery changes nothing.
CREATE TABLE processed_events (
    consumer     text NOT NULL,
    event_id     uuid NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

-- Messages that kept failing, parked where an operator can see them.
CREATE TABLE parked_messages (
    id           bigserial PRIMARY KEY,
    consumer     text NOT NULL,
    subject      text NOT NULL,
    payload      text NOT NULL,
    error        text NOT NULL,
    deliveries   int NOT NULL,
    parked_at    timestamptz NOT NULL DEFAULT now()
);
