-- Stories as members sent them, and their receipts.
-- No client address, user agent or submission time is stored: only the day.
CREATE TABLE stories (
    story_id          uuid PRIMARY KEY,
    -- Public half of the receipt code, for lookup; the whole code is verified
    -- against receipt_hash (argon2id), so the code itself is never stored.
    receipt_lookup    text NOT NULL UNIQUE,
    receipt_hash      text NOT NULL,
    status            text NOT NULL DEFAULT 'received'
                      CHECK (status IN ('received', 'in_review', 'published', 'rejected', 'withdrawn')),
    title             text,
    body              text,
    pen_name          text,
    tags              text[] NOT NULL DEFAULT '{}',
    content_warnings  text[] NOT NULL DEFAULT '{}',
    reason            text,
    received_on       date NOT NULL DEFAULT current_date,
    status_changed_on date NOT NULL DEFAULT current_date
);
CREATE INDEX stories_status ON stories (status, status_changed_on);
