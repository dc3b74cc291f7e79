-- Moderator wellbeing (issue 14): an optional reminder to take a break after N
-- held stories read in one session (0: no reminder). Each moderator sets her own.
ALTER TABLE moderators ADD COLUMN break_after int NOT NULL DEFAULT 0 CHECK (break_after BETWEEN 0 AND 500);
