-- Full-text search over a study with its interventions and outcomes, and a lexicon of words for typo tolerance.

-- The search document of a study: its own text, and the text of what it tested and measured.
CREATE FUNCTION study_search_vector(p_study_id bigint, p_title text, p_condition text, p_subtype text, p_summary text)
RETURNS tsvector
LANGUAGE sql STABLE
AS $$
    SELECT setweight(to_tsvector('english', coalesce(p_title, '')), 'A')
        || setweight(to_tsvector('english', coalesce(p_condition, '') || ' ' || replace(coalesce(p_subtype, ''), '_', ' ')), 'B')
        || setweight(to_tsvector('english', coalesce(p_summary, '')), 'C')
        || setweight(to_tsvector('english', coalesce((
               SELECT string_agg(concat_ws(' ', p.label, c.label, i.donor, r.label, i.dose_text, i.schedule, i.cotreatment, i.description), ' ')
               FROM interventions i
               JOIN products p ON p.code = i.product
               JOIN cell_sources c ON c.code = i.cell_source
               JOIN routes r ON r.code = i.route
               WHERE i.study_id = p_study_id), '')), 'B')
        || setweight(to_tsvector('english', coalesce((
               SELECT string_agg(concat_ws(' ', m.label, o.timepoint, o.result, o.quote), ' ')
               FROM outcomes o JOIN measures m ON m.code = o.measure
               WHERE o.study_id = p_study_id), '')), 'D')
$$;

ALTER TABLE studies DROP COLUMN search_vector;
ALTER TABLE studies ADD COLUMN search_vector tsvector;

CREATE FUNCTION studies_refresh_search() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    NEW.search_vector := study_search_vector(NEW.id, NEW.title, NEW.condition, NEW.condition_subtype, NEW.summary);
    RETURN NEW;
END
$$;

CREATE TRIGGER studies_search BEFORE INSERT OR UPDATE OF title, condition, condition_subtype, summary, search_vector ON studies
    FOR EACH ROW EXECUTE FUNCTION studies_refresh_search();

-- A change to an intervention or outcome rewrites its study's document (the trigger above recomputes it).
CREATE FUNCTION study_children_refresh_search() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE studies SET search_vector = NULL WHERE id = OLD.study_id;
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.study_id <> OLD.study_id) THEN
        UPDATE studies SET search_vector = NULL WHERE id = NEW.study_id;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER interventions_search AFTER INSERT OR UPDATE OR DELETE ON interventions
    FOR EACH ROW EXECUTE FUNCTION study_children_refresh_search();
CREATE TRIGGER outcomes_search AFTER INSERT OR UPDATE OR DELETE ON outcomes
    FOR EACH ROW EXECUTE FUNCTION study_children_refresh_search();

UPDATE studies SET search_vector = NULL;
CREATE INDEX studies_search_vector_idx ON studies USING gin (search_vector);

-- Words that occur in the evidence, so that a misspelt search word can be matched to the nearest real one.
CREATE TABLE search_words (
    word text PRIMARY KEY
);

CREATE INDEX search_words_trgm_idx ON search_words USING gin (word gin_trgm_ops);

CREATE FUNCTION add_search_words(p_text text) RETURNS void
LANGUAGE sql
AS $$
    INSERT INTO search_words (word)
    SELECT DISTINCT w FROM regexp_split_to_table(lower(coalesce(p_text, '')), '[^a-z0-9]+') AS w
    WHERE length(w) BETWEEN 4 AND 40
    ON CONFLICT DO NOTHING
$$;

CREATE FUNCTION studies_collect_words() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM add_search_words(concat_ws(' ', NEW.title, NEW.condition, NEW.condition_subtype, NEW.summary));
    RETURN NULL;
END
$$;

CREATE FUNCTION interventions_collect_words() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM add_search_words(concat_ws(' ', NEW.product, NEW.cell_source, NEW.route, NEW.dose_text, NEW.schedule, NEW.cotreatment, NEW.description));
    RETURN NULL;
END
$$;

CREATE TRIGGER studies_words AFTER INSERT OR UPDATE OF title, condition, condition_subtype, summary ON studies
    FOR EACH ROW EXECUTE FUNCTION studies_collect_words();
CREATE TRIGGER interventions_words AFTER INSERT OR UPDATE ON interventions
    FOR EACH ROW EXECUTE FUNCTION interventions_collect_words();

SELECT add_search_words(concat_ws(' ', title, condition, condition_subtype, summary)) FROM studies;
SELECT add_search_words(concat_ws(' ', product, cell_source, route, dose_text, schedule, cotreatment, description)) FROM interventions;
SELECT add_search_words(label) FROM products;
SELECT add_search_words(label) FROM cell_sources;
SELECT add_search_words(label) FROM routes;
