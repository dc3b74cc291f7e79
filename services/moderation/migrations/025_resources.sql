-- Support resources shown on publishing's /support page. Admins edit them here;
-- each save bumps the revision and sends a ResourcesUpdated event, so publishing
-- keeps its own copy and never reads this table.
CREATE TABLE site_resources (
    id          int PRIMARY KEY CHECK (id = 1),
    revision    bigint NOT NULL,
    intro       text NOT NULL DEFAULT '',
    entries     jsonb NOT NULL DEFAULT '[]',
    updated_by  bigint REFERENCES moderators (id),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
