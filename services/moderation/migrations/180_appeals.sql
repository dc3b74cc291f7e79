-- Issue 14: appeals and two-moderator rejections.
-- `appealed`: the author of a rejected story asked (with her receipt code alone) for
-- another look; a different moderator decides. `awaiting_confirmation`: with
-- REJECT_CONFIRMATIONS=2 a rejection waits for a second moderator to confirm or
-- overturn it. The first decision is kept beside the item; only days, no times.
ALTER TABLE queue_items DROP CONSTRAINT queue_items_state_check;
ALTER TABLE queue_items ADD CONSTRAINT queue_items_state_check
    CHECK (state IN ('pending', 'approved', 'rejected', 'unpublished', 'appealed', 'awaiting_confirmation'));
ALTER TABLE queue_items
    ADD COLUMN appeal_message   text,
    ADD COLUMN appealed_on      date,
    ADD COLUMN first_decided_by bigint REFERENCES moderators (id),
    ADD COLUMN first_reason     text;
CREATE INDEX queue_second_look ON queue_items (state, decided_seq DESC)
    WHERE state IN ('appealed', 'awaiting_confirmation');
