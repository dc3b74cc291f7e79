-- A moderator's exposure to held stories, counted without a story id beside a
-- time (migration 101 took the time off reveals): per moderator and day, and per
-- session for the break reminder.
CREATE TABLE exposure (
    moderator_id bigint NOT NULL REFERENCES moderators (id) ON DELETE CASCADE,
    day          date NOT NULL DEFAULT current_date,
    n            int NOT NULL DEFAULT 0,
    PRIMARY KEY (moderator_id, day)
);
ALTER TABLE sessions ADD COLUMN held_read int NOT NULL DEFAULT 0;
