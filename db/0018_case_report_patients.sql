-- The patients of a published case report, one row each (individual patient data). A report describes 1 to 50 patients;
-- when it is published, the study's participants, ages and sexes are derived from them, and so is each of its outcomes:
-- the sum of the patients' own results (each assessed 0 or 1) for one measure, intervention and timepoint. So an
-- outcome made from patients can never count more patients than the report describes; a constraint trigger checks the
-- sums at commit. Studies from seed files have no rows here.

CREATE TABLE study_patients (
    id                      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    study_id                bigint NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
    -- The patient's position in the report (0 is the first), as in the report's JSON paths (patients[1]).
    position                int NOT NULL CHECK (position BETWEEN 0 AND 49),
    label                   text,
    age                     numeric CHECK (age BETWEEN 0 AND 120),
    sex                     text CHECK (sex IN ('female', 'male', 'other', 'unknown')),
    condition               text NOT NULL CHECK (condition = lower(condition) AND length(btrim(condition)) > 0),
    condition_subtype       text,
    disease_duration_years  numeric CHECK (disease_duration_years BETWEEN 0 AND 120),
    country                 text,
    prior_treatments        text[] NOT NULL DEFAULT '{}',
    relapse_occurred        boolean NOT NULL,
    relapse_at_weeks        numeric CHECK (relapse_at_weeks BETWEEN 0 AND 5200),
    relapse_description     text,
    CONSTRAINT study_patients_position_unique UNIQUE (study_id, position),
    CONSTRAINT study_patients_condition_subtype_fkey FOREIGN KEY (condition, condition_subtype) REFERENCES condition_subtypes (condition, code),
    CONSTRAINT study_patients_duration_within_life CHECK (age IS NULL OR disease_duration_years IS NULL OR disease_duration_years <= age),
    CONSTRAINT study_patients_relapse_time_needs_relapse CHECK (relapse_occurred OR relapse_at_weeks IS NULL)
);

-- Severity scores before treatment, in the order the report gives them.
CREATE TABLE patient_baseline_scores (
    patient_id  bigint NOT NULL REFERENCES study_patients (id) ON DELETE CASCADE,
    position    int NOT NULL CHECK (position >= 0),
    measure     text NOT NULL REFERENCES measures (code) CHECK (measure IN ('pasi', 'bsa', 'pga', 'iga', 'dlqi', 'pssi')),
    value       numeric NOT NULL CHECK (value >= 0),
    scale_max   numeric CHECK (scale_max > 0),
    PRIMARY KEY (patient_id, position),
    CONSTRAINT patient_baseline_scores_range CHECK (CASE
        WHEN measure IN ('pasi', 'pssi') THEN value <= 72
        WHEN measure = 'bsa' THEN value <= 100
        WHEN measure = 'dlqi' THEN value <= 30
        ELSE scale_max IS NOT NULL AND value <= scale_max END)
);

-- One patient's own result, counted in one outcome of the study (outcome_id): the outcome's measure, intervention and
-- timepoint are the patient's; its assessed and responders are the sums over its patients.
CREATE TABLE patient_outcomes (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id      bigint NOT NULL REFERENCES study_patients (id) ON DELETE CASCADE,
    outcome_id      bigint NOT NULL REFERENCES outcomes (id) ON DELETE CASCADE,
    measure         text NOT NULL REFERENCES measures (code),
    timepoint       text,
    baseline_value  numeric,
    value           numeric,
    unit            text,
    scale_max       numeric CHECK (scale_max > 0),
    assessed        int NOT NULL CHECK (assessed IN (0, 1)),
    responders      int CHECK (responders IN (0, 1)),
    result          text,
    -- A patient counts at most once in each outcome.
    CONSTRAINT patient_outcomes_once_per_outcome UNIQUE (outcome_id, patient_id),
    CONSTRAINT patient_outcomes_responders_within_assessed CHECK (responders IS NULL OR responders <= assessed),
    CONSTRAINT patient_outcomes_pasi_range CHECK (measure NOT IN ('pasi', 'pssi')
        OR ((baseline_value IS NULL OR baseline_value BETWEEN 0 AND 72) AND (value IS NULL OR value BETWEEN 0 AND 72))),
    CONSTRAINT patient_outcomes_bsa_range CHECK (measure <> 'bsa'
        OR ((baseline_value IS NULL OR baseline_value BETWEEN 0 AND 100) AND (value IS NULL OR value BETWEEN 0 AND 100))),
    CONSTRAINT patient_outcomes_dlqi_range CHECK (measure <> 'dlqi'
        OR ((baseline_value IS NULL OR baseline_value BETWEEN 0 AND 30) AND (value IS NULL OR value BETWEEN 0 AND 30))),
    CONSTRAINT patient_outcomes_global_assessment_scale CHECK (measure NOT IN ('pga', 'iga')
        OR ((baseline_value IS NULL AND value IS NULL)
            OR (scale_max IS NOT NULL
                AND (baseline_value IS NULL OR baseline_value BETWEEN 0 AND scale_max)
                AND (value IS NULL OR value BETWEEN 0 AND scale_max))))
);

CREATE INDEX study_patients_study_id_idx ON study_patients (study_id);
CREATE INDEX patient_outcomes_patient_id_idx ON patient_outcomes (patient_id);

-- An outcome made from patients is their sum: assessed is the number of its patients assessed (so never more than the
-- patients described), responders the number responding (null when a patient's is unknown), the measure theirs, and
-- its patients belong to its study. Checked at commit, once the outcome and all its patients' rows are written.
CREATE FUNCTION check_outcome_is_sum_of_patients() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    checked_id bigint;
BEGIN
    -- Each branch names a column of one table only, so they are apart (PL/pgSQL resolves NEW's fields per statement).
    IF TG_TABLE_NAME = 'outcomes' THEN
        checked_id := NEW.id;
    ELSE
        checked_id := NEW.outcome_id;
    END IF;
    IF EXISTS (
        SELECT 1
        FROM outcomes o
        JOIN LATERAL (
            SELECT count(*) AS patients, sum(po.assessed) AS assessed, sum(po.responders) AS responders,
                   count(po.responders) AS known_responders,
                   bool_and(po.measure = o.measure AND p.study_id = o.study_id) AS consistent
            FROM patient_outcomes po JOIN study_patients p ON p.id = po.patient_id
            WHERE po.outcome_id = o.id
        ) sums ON sums.patients > 0
        WHERE o.id = checked_id
          AND (o.assessed IS DISTINCT FROM sums.assessed
               OR o.responders IS DISTINCT FROM CASE WHEN sums.known_responders = sums.patients THEN sums.responders END
               OR NOT sums.consistent))
    THEN
        RAISE EXCEPTION 'outcome % is not the sum of its patients'' results', checked_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'outcomes_sum_of_patients';
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER patient_outcomes_sum_to_outcome
    AFTER INSERT OR UPDATE ON patient_outcomes
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION check_outcome_is_sum_of_patients();

-- Outcomes are inserted in bulk by seed loads and benchmarks; only a change of counts is checked.
CREATE CONSTRAINT TRIGGER outcomes_sum_of_patients
    AFTER UPDATE OF assessed, responders, measure, study_id ON outcomes
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION check_outcome_is_sum_of_patients();
