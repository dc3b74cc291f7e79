-- The exchange (issue 15): what a story answers and its author's second language.
ALTER TABLE stories
    ADD COLUMN prompt_id       uuid,
    ADD COLUMN in_response_to  uuid,
    ADD COLUMN lang            text,
    ADD COLUMN translation     jsonb,
    ADD COLUMN glossary        jsonb NOT NULL DEFAULT '[]';

-- Writing prompts, from PromptPublished / PromptClosed (moderation owns them): the
-- form offers the open ones and a story may only answer an open one.
CREATE TABLE prompts (
    prompt_id    uuid PRIMARY KEY,
    title        text NOT NULL,
    description  text NOT NULL DEFAULT '',
    opens_on     date,
    closes_on    date,
    closed_on    date
);
