-- Read paths that stay fast at a million studies.

-- The publication year is sorted and filtered on with the study, so it lives on the study too (kept in step by triggers).
ALTER TABLE studies ADD COLUMN year int;
UPDATE studies s SET year = src.year FROM sources src WHERE src.id = s.source_id;

CREATE FUNCTION studies_copy_source_year() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    NEW.year := (SELECT year FROM sources WHERE id = NEW.source_id);
    RETURN NEW;
END
$$;

CREATE TRIGGER studies_source_year BEFORE INSERT OR UPDATE OF source_id ON studies
    FOR EACH ROW EXECUTE FUNCTION studies_copy_source_year();

CREATE FUNCTION sources_push_year() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    UPDATE studies SET year = NEW.year WHERE source_id = NEW.id AND year IS DISTINCT FROM NEW.year;
    RETURN NULL;
END
$$;

CREATE TRIGGER sources_year AFTER UPDATE OF year ON sources
    FOR EACH ROW EXECUTE FUNCTION sources_push_year();

-- One index per sort order, behind the filters used most (condition, then design).
CREATE INDEX studies_sort_year_idx ON studies ((coalesce(year, 0)), id);
CREATE INDEX studies_condition_year_idx ON studies (condition, (coalesce(year, 0)), id);
CREATE INDEX studies_condition_design_year_idx ON studies (condition, design, (coalesce(year, 0)), id);
CREATE INDEX studies_condition_design_participants_idx ON studies (condition, design, (coalesce(participants, -1)), id);
CREATE INDEX studies_condition_design_title_idx ON studies (condition, design, title, id);
CREATE INDEX studies_condition_design_id_idx ON studies (condition, design, id);
-- The same for clients that sort by the raw column (auto-generated REST APIs over these tables do).
CREATE INDEX studies_condition_design_raw_participants_idx ON studies (condition, design, participants, id);

-- "The outcomes (interventions) of one study, in id order" reads one index range instead of scanning by id.
DROP INDEX outcomes_study_id_idx;
CREATE INDEX outcomes_study_id_idx ON outcomes (study_id, id);
DROP INDEX interventions_study_id_idx;
CREATE INDEX interventions_study_id_idx ON interventions (study_id, id);
