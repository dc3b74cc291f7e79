-- Appeals with the code alone (issue 14): a rejected story's author may ask once,
-- within APPEAL_DAYS of the rejection, for a second look by another moderator.
-- While it waits the receipt answers `appealed`. Only the day is kept (status_changed_on).
ALTER TABLE stories DROP CONSTRAINT stories_status_check;
ALTER TABLE stories ADD CONSTRAINT stories_status_check
    CHECK (status IN ('received', 'in_review', 'published', 'rejected', 'withdrawn', 'appealed'));
ALTER TABLE stories ADD COLUMN appealed boolean NOT NULL DEFAULT false;
