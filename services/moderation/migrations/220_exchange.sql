-- The exchange (issue 15).
-- Writing prompts admins publish (PromptPublished / PromptClosed leave from here;
-- submission and publishing keep copies). Days only: nothing needs a time.
CREATE TABLE prompts (
    prompt_id     uuid PRIMARY KEY,
    title         text NOT NULL,
    description   text NOT NULL DEFAULT '',
    opens_on      date,
    closes_on     date,
    closed_on     date,
    created_by    bigint REFERENCES moderators (id),
    created_on    date NOT NULL DEFAULT current_date
);

-- What a story answers, its language, the author's second-language version and
-- glossary, shown to moderators beside the story (ids only: no foreign keys, so an
-- event naming a prompt this copy lacks still files the story).
ALTER TABLE queue_items
    ADD COLUMN prompt_id       uuid,
    ADD COLUMN in_response_to  uuid,
    ADD COLUMN lang            text,
    ADD COLUMN translation     jsonb,
    ADD COLUMN glossary        jsonb NOT NULL DEFAULT '[]';
