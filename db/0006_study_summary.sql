-- What a list of studies shows about each study's interventions, outcomes and included studies lives on the study,
-- so that a page of 20 studies reads 20 rows instead of aggregating three child tables per row. The columns are
-- derived data: the triggers below keep them in step with the child tables, and nothing else writes them.

ALTER TABLE studies
    ADD COLUMN products             text[] NOT NULL DEFAULT '{}',
    ADD COLUMN cell_sources         text[] NOT NULL DEFAULT '{}',
    ADD COLUMN routes               text[] NOT NULL DEFAULT '{}',
    ADD COLUMN measures             text[] NOT NULL DEFAULT '{}',
    ADD COLUMN intervention_count   int NOT NULL DEFAULT 0,
    ADD COLUMN outcome_count        int NOT NULL DEFAULT 0,
    ADD COLUMN included_study_count int NOT NULL DEFAULT 0;

-- One pass over each child table for every study at once (a per-study trigger would take hours at a million).
UPDATE studies s
SET products = coalesce(iv.products, '{}'),
    cell_sources = coalesce(iv.cell_sources, '{}'),
    routes = coalesce(iv.routes, '{}'),
    intervention_count = coalesce(iv.n, 0),
    measures = coalesce(oc.measures, '{}'),
    outcome_count = coalesce(oc.n, 0),
    included_study_count = coalesce(ri.n, 0)
FROM studies base
LEFT JOIN (
    SELECT study_id,
           array_agg(DISTINCT product ORDER BY product) AS products,
           array_agg(DISTINCT cell_source ORDER BY cell_source) AS cell_sources,
           array_agg(DISTINCT route ORDER BY route) AS routes,
           count(*)::int AS n
    FROM interventions GROUP BY study_id) iv ON iv.study_id = base.id
LEFT JOIN (
    SELECT study_id, array_agg(DISTINCT measure ORDER BY measure) AS measures, count(*)::int AS n
    FROM outcomes GROUP BY study_id) oc ON oc.study_id = base.id
LEFT JOIN (
    SELECT review_study_id, count(*)::int AS n
    FROM review_inclusions GROUP BY review_study_id) ri ON ri.review_study_id = base.id
WHERE s.id = base.id
  AND (iv.study_id IS NOT NULL OR oc.study_id IS NOT NULL OR ri.review_study_id IS NOT NULL);

-- The row trigger that computed the search document now computes every column derived from the study's children.
-- Setting search_vector to NULL (as the child-table triggers of 0003 do) asks for both to be recomputed.
CREATE FUNCTION studies_refresh_derived() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    NEW.search_vector := study_search_vector(NEW.id, NEW.title, NEW.condition, NEW.condition_subtype, NEW.summary);

    SELECT coalesce(array_agg(DISTINCT i.product ORDER BY i.product), '{}'),
           coalesce(array_agg(DISTINCT i.cell_source ORDER BY i.cell_source), '{}'),
           coalesce(array_agg(DISTINCT i.route ORDER BY i.route), '{}'),
           count(*)
    INTO NEW.products, NEW.cell_sources, NEW.routes, NEW.intervention_count
    FROM interventions i WHERE i.study_id = NEW.id;

    SELECT coalesce(array_agg(DISTINCT o.measure ORDER BY o.measure), '{}'), count(*)
    INTO NEW.measures, NEW.outcome_count
    FROM outcomes o WHERE o.study_id = NEW.id;

    NEW.included_study_count := (SELECT count(*) FROM review_inclusions r WHERE r.review_study_id = NEW.id);
    RETURN NEW;
END
$$;

DROP TRIGGER studies_search ON studies;
DROP FUNCTION studies_refresh_search();

-- The summary columns are listed so that an attempt to write them directly is overwritten by the derived values.
CREATE TRIGGER studies_derived
    BEFORE INSERT OR UPDATE OF title, condition, condition_subtype, summary, search_vector,
        products, cell_sources, routes, measures, intervention_count, outcome_count, included_study_count
    ON studies
    FOR EACH ROW EXECUTE FUNCTION studies_refresh_derived();

CREATE FUNCTION review_inclusions_refresh_count() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE studies s
        SET included_study_count = (SELECT count(*) FROM review_inclusions r WHERE r.review_study_id = s.id)
        WHERE s.id IN (SELECT review_study_id FROM new_rows);
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE studies s
        SET included_study_count = (SELECT count(*) FROM review_inclusions r WHERE r.review_study_id = s.id)
        WHERE s.id IN (SELECT review_study_id FROM old_rows);
    END IF;
    RETURN NULL;
END
$$;

-- Statement triggers with transition tables: a review's inclusions are written together, and counted once.
CREATE TRIGGER review_inclusions_added AFTER INSERT ON review_inclusions
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION review_inclusions_refresh_count();
CREATE TRIGGER review_inclusions_removed AFTER DELETE ON review_inclusions
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION review_inclusions_refresh_count();
CREATE TRIGGER review_inclusions_moved AFTER UPDATE ON review_inclusions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION review_inclusions_refresh_count();
