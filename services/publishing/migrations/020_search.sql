-- Search that works for every script the community writes in.
--
-- English (and other space-separated text) goes through full-text search with
-- stemming, so "grandmothers" finds "grandmother". Chinese and Japanese have no
-- spaces between words, so FTS cannot split them; a plain substring match
-- (ILIKE) finds them, helped by a trigram index where pg_trgm is available.
-- Queries use exactly the expressions indexed below.
ALTER TABLE stories ADD COLUMN search_en tsvector
    GENERATED ALWAYS AS (to_tsvector('english', title || ' ' || coalesce(pen_name, '') || ' ' || body)) STORED;
CREATE INDEX stories_search_en ON stories USING gin (search_en);

-- pg_trgm is in PostgreSQL's contrib (Debian's postgresql-15 has it; most managed
-- services offer it), but the embedded pgserver 0.1.4 build ships only plpgsql and
-- vector, and a managed database may refuse CREATE EXTENSION to a non-superuser.
-- The substring search is correct without the index, only slower, so carry on.
DO $$
DECLARE
    ext_schema text;
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
        BEGIN
            CREATE EXTENSION IF NOT EXISTS pg_trgm;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'pg_trgm not installed (no privilege); substring search runs unindexed';
        END;
    END IF;
    SELECT n.nspname INTO ext_schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
        WHERE e.extname = 'pg_trgm';
    IF ext_schema IS NOT NULL THEN
        EXECUTE format('CREATE INDEX stories_search_trgm ON stories USING gin '
                       '((title || '' '' || coalesce(pen_name, '''') || '' '' || body) %I.gin_trgm_ops)', ext_schema);
    END IF;
END $$;

-- Support resources (crisis lines and the like), edited by admins in moderation and
-- delivered here by ResourcesUpdated events. One row; a higher revision wins.
CREATE TABLE site_resources (
    id        int PRIMARY KEY CHECK (id = 1),
    revision  bigint NOT NULL,
    intro     text NOT NULL DEFAULT '',
    entries   jsonb NOT NULL DEFAULT '[]'
);
