-- The read model: approved stories as readers see them.
-- Only the publication day is kept, never a submission or decision time.
CREATE TABLE stories (
    story_id          uuid PRIMARY KEY,
    -- Feed order (newest first) without exposing any time finer than a day.
    seq               bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    title             text NOT NULL,
    body              text NOT NULL,
    pen_name          text,
    tags              text[] NOT NULL DEFAULT '{}',
    content_warnings  text[] NOT NULL DEFAULT '{}',
    published_on      date NOT NULL
);
CREATE INDEX stories_tags ON stories USING gin (tags);

-- Ids of stories that were withdrawn or taken down, so a late StoryApproved
-- cannot republish them. The story page answers 410 for these.
CREATE TABLE gone_stories (
    story_id  uuid PRIMARY KEY,
    why       text NOT NULL CHECK (why IN ('withdrawn', 'unpublished'))
);
