-- Whether a submission's title has been compared with every study's, for near-identical titles. Over a million
-- near-identical titles the comparison can take seconds, so a submission is stored without waiting for it:
-- 'pending' until the background worker has compared it, 'timed_out' if the comparison was given up.
-- Submissions made before this migration were compared when they were stored.
ALTER TABLE submissions ADD COLUMN title_check text NOT NULL DEFAULT 'done'
    CHECK (title_check IN ('pending', 'done', 'timed_out'));
ALTER TABLE submissions ALTER COLUMN title_check SET DEFAULT 'pending';

CREATE INDEX submissions_title_check_pending_idx ON submissions (id) WHERE title_check = 'pending';
