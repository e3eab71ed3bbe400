-- One number that changes whenever the public evidence changes. API instances cache reads under it and
-- hear about changes through NOTIFY on the channel evidence_changed (payload: the new version).

CREATE TABLE data_version (
    id       int PRIMARY KEY CHECK (id = 1),
    version  bigint NOT NULL
);

INSERT INTO data_version (id, version) VALUES (1, 1);

CREATE FUNCTION bump_data_version() RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
    next_version bigint;
BEGIN
    UPDATE data_version SET version = version + 1 WHERE id = 1 RETURNING version INTO next_version;
    PERFORM pg_notify('evidence_changed', next_version::text);
    RETURN next_version;
END
$$;

CREATE FUNCTION data_changed() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM bump_data_version();
    RETURN NULL;
END
$$;

-- Statement-level: a bulk load moves the version once per statement, not once per row.
CREATE TRIGGER sources_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON sources
    FOR EACH STATEMENT EXECUTE FUNCTION data_changed();
CREATE TRIGGER studies_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON studies
    FOR EACH STATEMENT EXECUTE FUNCTION data_changed();
CREATE TRIGGER review_inclusions_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON review_inclusions
    FOR EACH STATEMENT EXECUTE FUNCTION data_changed();
CREATE TRIGGER interventions_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON interventions
    FOR EACH STATEMENT EXECUTE FUNCTION data_changed();
CREATE TRIGGER outcomes_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON outcomes
    FOR EACH STATEMENT EXECUTE FUNCTION data_changed();
CREATE TRIGGER study_designs_changed AFTER INSERT OR UPDATE OR DELETE ON study_designs
    FOR EACH STATEMENT EXECUTE FUNCTION data_changed();
CREATE TRIGGER products_changed AFTER INSERT OR UPDATE OR DELETE ON products
    FOR EACH STATEMENT EXECUTE FUNCTION data_changed();
CREATE TRIGGER cell_sources_changed AFTER INSERT OR UPDATE OR DELETE ON cell_sources
    FOR EACH STATEMENT EXECUTE FUNCTION data_changed();
CREATE TRIGGER routes_changed AFTER INSERT OR UPDATE OR DELETE ON routes
    FOR EACH STATEMENT EXECUTE FUNCTION data_changed();
CREATE TRIGGER measures_changed AFTER INSERT OR UPDATE OR DELETE ON measures
    FOR EACH STATEMENT EXECUTE FUNCTION data_changed();
