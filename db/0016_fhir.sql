-- The FHIR facade: when each study last changed (meta.lastUpdated, and _since of the bulk export), when the data
-- version last moved, and bulk export jobs with their files.

-- A study's updated_at moves with any change to it or its children: interventions, outcomes and review links already
-- rewrite the study's derived columns (db/0006_study_summary.sql), and that update now touches updated_at too.
CREATE FUNCTION touch_updated_at() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;

CREATE TRIGGER studies_touch BEFORE UPDATE ON studies
    FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
CREATE TRIGGER sources_touch BEFORE UPDATE ON sources
    FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

-- The time of the current data version: meta.lastUpdated of resources that are not one study's (code systems, syntheses).
ALTER TABLE data_version ADD COLUMN changed_at timestamptz NOT NULL DEFAULT now();

CREATE OR REPLACE FUNCTION bump_data_version() RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
    next_version bigint;
BEGIN
    UPDATE data_version SET version = version + 1, changed_at = now() WHERE id = 1 RETURNING version INTO next_version;
    PERFORM pg_notify('evidence_changed', next_version::text);
    RETURN next_version;
END
$$;

-- Bulk export (FHIR Bulk Data Access): a job is queued by any API instance and run by whichever instance claims it
-- first (FOR UPDATE SKIP LOCKED); a running job whose heartbeat stops is claimed again. Its files are stored here,
-- as gzip members of about a megabyte each, so that any instance serves them and the data is one consistent snapshot.
CREATE TABLE fhir_export_jobs (
    id                uuid PRIMARY KEY,
    status            text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'completed', 'failed')),
    request_url       text NOT NULL,
    -- The FHIR base the request came through, for the absolute links inside the resources.
    base_url          text NOT NULL,
    types             text[] NOT NULL CHECK (cardinality(types) > 0),
    since             timestamptz,
    transaction_time  timestamptz,
    data_version      bigint,
    resources_done    bigint NOT NULL DEFAULT 0,
    resources_total   bigint,
    error             text,
    attempts          int NOT NULL DEFAULT 0,
    created_at        timestamptz NOT NULL DEFAULT now(),
    heartbeat_at      timestamptz,
    completed_at      timestamptz,
    expires_at        timestamptz NOT NULL
);

CREATE INDEX fhir_export_jobs_queued_idx ON fhir_export_jobs (created_at) WHERE status IN ('queued', 'running');

CREATE TABLE fhir_export_files (
    job_id         uuid NOT NULL REFERENCES fhir_export_jobs (id) ON DELETE CASCADE,
    resource_type  text NOT NULL,
    part           int NOT NULL,
    resources      int NOT NULL,
    data           bytea NOT NULL,
    PRIMARY KEY (job_id, resource_type, part)
);
