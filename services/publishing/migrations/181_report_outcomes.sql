-- Reports with an outcome (issue 14). A reader's report returns a short code; the
-- code is never stored, only the report id derived from it (reports.report_id_for),
-- so /reports/{code} can answer "received", "reviewed — no change" or "reviewed —
-- story changed/removed". Nothing about the reader is stored. Day only.
CREATE TABLE report_outcomes (
    report_id    uuid PRIMARY KEY,
    -- Cleared when the story is withdrawn or taken down: no row keeps its id then.
    story_id     uuid,
    outcome      text NOT NULL DEFAULT 'received' CHECK (outcome IN ('received', 'no_change', 'changed', 'removed')),
    changed_on   date NOT NULL DEFAULT current_date
);
CREATE INDEX report_outcomes_story ON report_outcomes (story_id);
