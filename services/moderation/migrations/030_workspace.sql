-- The moderator workspace: takedowns, reader reports, soft claims, per-item
-- reveals of held content, reusable reasons, and indexes for every queue tab.

-- A takedown moves an approved story to `unpublished`.
ALTER TABLE queue_items DROP CONSTRAINT queue_items_state_check;
ALTER TABLE queue_items ADD CONSTRAINT queue_items_state_check
    CHECK (state IN ('pending', 'approved', 'rejected', 'unpublished'));
ALTER TABLE queue_items
    ADD COLUMN unpublished_at     timestamptz,
    ADD COLUMN unpublished_by     bigint REFERENCES moderators (id),
    ADD COLUMN unpublished_reason text,
    -- Soft claim: who last opened the item. Advisory only; decide() never reads it.
    ADD COLUMN claimed_by         bigint REFERENCES moderators (id),
    ADD COLUMN claimed_at         timestamptz;

-- Keyset pagination for every tab: each ORDER BY in queue.py has an index whose
-- order it is, so a page costs the same on page 1 and on page 4,000.
CREATE INDEX queue_pending_oldest ON queue_items (queued_at, story_id) WHERE state = 'pending';
CREATE INDEX queue_pending_label ON queue_items (label, severity DESC, queued_at, story_id) WHERE state = 'pending';
CREATE INDEX queue_pending_label_oldest ON queue_items (label, queued_at, story_id) WHERE state = 'pending';
CREATE INDEX queue_decided ON queue_items (state, decided_at DESC, story_id DESC);
CREATE INDEX queue_state_label ON queue_items (state, label);

-- Reader reports (from stories.reported). Only the reason the reader typed: the
-- publishing service never sends anything about the reader.
CREATE TABLE reports (
    report_id     uuid PRIMARY KEY,
    story_id      uuid NOT NULL,
    reason        text NOT NULL,
    received_at   timestamptz NOT NULL DEFAULT now(),
    resolved_at   timestamptz,
    resolved_by   bigint REFERENCES moderators (id),
    resolution    text CHECK (resolution IN ('dismissed', 'taken_down'))
);
CREATE INDEX reports_open ON reports (story_id, received_at) WHERE resolved_at IS NULL;

-- Which moderator chose to read which held item: the blur stays off for them only.
CREATE TABLE reveals (
    moderator_id  bigint NOT NULL REFERENCES moderators (id) ON DELETE CASCADE,
    story_id      uuid NOT NULL,
    revealed_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (moderator_id, story_id)
);

-- Reasons moderators reuse; the author reads them, so they are written kindly.
CREATE TABLE reason_templates (
    id        bigserial PRIMARY KEY,
    title     text NOT NULL UNIQUE,
    body      text NOT NULL,
    added_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO reason_templates (title, body) VALUES
    ('Personal attack', 'Thank you for writing. Your story attacks a person or group, which the community guidelines do not allow. You are welcome to share it again without that part.'),
    ('Identifies someone', 'Thank you for writing. Your story could identify a real person (a name, school or workplace). Please remove those details and share it again.'),
    ('Off topic', 'Thank you for writing. This space is for stories about living between cultures; this one did not fit, but we hope you share another.'),
    ('Spam or advertising', 'This looks like advertising or spam, which we do not publish.');

-- Audit page filters.
CREATE INDEX audit_by_moderator ON audit_log (moderator_id, id DESC);
CREATE INDEX audit_by_story ON audit_log (story_id, id DESC);
