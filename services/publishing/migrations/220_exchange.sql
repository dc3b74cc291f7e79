-- The exchange (issue 15). Every column sits on the story's own row, so withdrawing
-- or taking a story down (which deletes the row) removes it from prompt pages,
-- response links, resonance and the glossary at once.
ALTER TABLE stories
    ADD COLUMN prompt_id       uuid,
    ADD COLUMN in_response_to  uuid,
    ADD COLUMN lang            text,
    ADD COLUMN translation     jsonb,
    ADD COLUMN glossary        jsonb NOT NULL DEFAULT '[]',
    -- "This resonated with me": a bare count. Nothing about who pressed is kept.
    ADD COLUMN resonance       integer NOT NULL DEFAULT 0;
CREATE INDEX stories_prompt ON stories (prompt_id, seq) WHERE prompt_id IS NOT NULL;
CREATE INDEX stories_in_response_to ON stories (in_response_to, seq) WHERE in_response_to IS NOT NULL;

-- Writing prompts, from PromptPublished / PromptClosed.
CREATE TABLE prompts (
    prompt_id    uuid PRIMARY KEY,
    seq          bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    title        text NOT NULL,
    description  text NOT NULL DEFAULT '',
    opens_on     date,
    closes_on    date,
    closed_on    date
);
