-- Removing a submission looks for the study made from it (studies.submission_id, ON DELETE SET NULL); without an
-- index that is a scan of every study, for every submission removed.
CREATE INDEX studies_submission_id_idx ON studies (submission_id) WHERE submission_id IS NOT NULL;
