-- Moderators and their sessions. Passwords are argon2id hashes.
CREATE TABLE moderators (
    id            bigserial PRIMARY KEY,
    username      text NOT NULL UNIQUE,
    password_hash text NOT NULL,
    role          text NOT NULL CHECK (role IN ('moderator', 'admin')),
    disabled      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- Only a SHA-256 of the session token is stored; the cookie holds the token.
CREATE TABLE sessions (
    token_hash    bytea PRIMARY KEY,
    moderator_id  bigint NOT NULL REFERENCES moderators (id) ON DELETE CASCADE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL
);

-- The review queue: one row per story, filed by the screening worker.
CREATE TABLE queue_items (
    story_id          uuid PRIMARY KEY,
    title             text NOT NULL,
    body              text NOT NULL,
    pen_name          text,
    tags              text[] NOT NULL DEFAULT '{}',
    content_warnings  text[] NOT NULL DEFAULT '{}',
    label             text NOT NULL CHECK (label IN ('clear', 'flagged', 'held', 'unscreened')),
    severity          real NOT NULL DEFAULT 0,
    scores            jsonb NOT NULL DEFAULT '{}',
    passages          jsonb NOT NULL DEFAULT '[]',
    term_hits         jsonb NOT NULL DEFAULT '[]',
    model             text,
    state             text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'approved', 'rejected')),
    queued_at         timestamptz NOT NULL DEFAULT now(),
    decided_at        timestamptz,
    decided_by        bigint REFERENCES moderators (id),
    reason            text
);
CREATE INDEX queue_pending ON queue_items (severity DESC, queued_at, story_id) WHERE state = 'pending';
CREATE INDEX queue_state ON queue_items (state, queued_at, story_id);

-- Append-only record of every decision and account change.
CREATE TABLE audit_log (
    id            bigserial PRIMARY KEY,
    at            timestamptz NOT NULL DEFAULT now(),
    moderator_id  bigint REFERENCES moderators (id),
    action        text NOT NULL,
    story_id      uuid,
    detail        jsonb NOT NULL DEFAULT '{}'
);
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END $$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

-- Community word lists: banned terms hold a story, suspect terms flag it.
CREATE TABLE word_terms (
    term       text PRIMARY KEY,
    kind       text NOT NULL CHECK (kind IN ('banned', 'suspect')),
    added_at   timestamptz NOT NULL DEFAULT now()
);

-- What each screening worker reports about its model, for /healthz.
CREATE TABLE screen_workers (
    worker_id     text PRIMARY KEY,
    model         text NOT NULL,
    state         text NOT NULL,
    detail        text,
    load_seconds  real,
    heartbeat_at  timestamptz NOT NULL DEFAULT now()
);

-- Stories their authors withdrew: only the id, so a late or redelivered
-- StorySubmitted cannot bring a withdrawn story back into the queue.
CREATE TABLE withdrawn_stories (
    story_id      uuid PRIMARY KEY,
    withdrawn_on  date NOT NULL DEFAULT current_date
);
