-- The seed file a study was loaded from (null for a study made through the API, such as a published case report). It lets a
-- seed file hold studies without a source (an unpublished case contributed through the API, as export-seeds writes it),
-- and lets a seed file take over a study made through the API with the same key, so that exported seeds load back into the
-- database they came from.
ALTER TABLE studies ADD COLUMN seed_file text;

UPDATE studies s SET seed_file = src.seed_file
FROM sources src
WHERE src.id = s.source_id AND src.seed_file IS NOT NULL;

CREATE INDEX studies_seed_file_idx ON studies (seed_file) WHERE seed_file IS NOT NULL;
