-- A story taken down after publication (StoryUnpublished). Its receipt answers
-- `rejected` with the reason, like a rejection, but it cannot be appealed here (the
-- takedown was already a second look, by a moderator acting on readers' reports), and
-- an approval handled after the takedown (each subject has its own consumer) must not
-- mark it published again.
ALTER TABLE stories ADD COLUMN taken_down boolean NOT NULL DEFAULT false;
