-- No clock beside a story (issue 10): every moderation row that names a story keeps
-- the day only (helpers day_only and numbered: shared/sql/100_messaging_days.sql).
-- Queues are ordered by sequence numbers (the order stories were filed, the order
-- decisions were taken), never by a time; the audit log keeps moderator, action,
-- reason, day and its order (id). Soft claims keep their ten-minute clock in the
-- moderation process (queue.py), not in a table.

-- The order stories were filed in.
SELECT numbered('queue_items', 'queue_seq', 'story_id', 'queued_at');
ALTER TABLE queue_items ADD CONSTRAINT queue_items_queue_seq_key UNIQUE (queue_seq);

-- The order decisions were taken in (decisions.py takes the next number).
CREATE SEQUENCE decision_seq;
ALTER TABLE queue_items ADD COLUMN decided_seq bigint;
UPDATE queue_items q SET decided_seq = n.n
    FROM (SELECT story_id, row_number() OVER (ORDER BY decided_at, story_id) AS n FROM queue_items
          WHERE decided_at IS NOT NULL) n
    WHERE n.story_id = q.story_id;
SELECT setval('decision_seq', (SELECT coalesce(max(decided_seq), 0) + 1 FROM queue_items), false);

DROP INDEX queue_pending;
DROP INDEX queue_state;
DROP INDEX queue_pending_oldest;
DROP INDEX queue_pending_label;
DROP INDEX queue_pending_label_oldest;
DROP INDEX queue_decided;
SELECT day_only('queue_items', 'queued_at', 'queued_on', true);
SELECT day_only('queue_items', 'decided_at', 'decided_on', false);
SELECT day_only('queue_items', 'unpublished_at', 'unpublished_on', false);
ALTER TABLE queue_items DROP COLUMN claimed_at;
CREATE INDEX queue_pending ON queue_items (severity DESC, queue_seq) WHERE state = 'pending';
CREATE INDEX queue_pending_oldest ON queue_items (queue_seq) WHERE state = 'pending';
CREATE INDEX queue_pending_label ON queue_items (label, severity DESC, queue_seq) WHERE state = 'pending';
CREATE INDEX queue_pending_label_oldest ON queue_items (label, queue_seq) WHERE state = 'pending';
CREATE INDEX queue_decided ON queue_items (state, decided_seq DESC);
CREATE INDEX queue_decided_label ON queue_items (state, label, decided_seq DESC);

-- The audit log: the day; its order is its id.
SELECT day_only('audit_log', 'at', 'logged_on', true);

-- Reader reports: the day, in the order received.
SELECT numbered('reports', 'seq', 'report_id', 'received_at');
DROP INDEX reports_open;
SELECT day_only('reports', 'received_at', 'received_on', true);
SELECT day_only('reports', 'resolved_at', 'resolved_on', false);
CREATE INDEX reports_open ON reports (story_id, seq) WHERE resolved_on IS NULL;

-- Which moderator revealed which held item needs no time at all.
ALTER TABLE reveals DROP COLUMN revealed_at;
