-- Evidence schema: sources, studies, review inclusions, interventions and outcomes.
-- Controlled vocabularies are tables, so a new product, route or measure is one INSERT in a
-- new migration, and every coded column is a foreign key to its vocabulary.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE study_designs (
    code        text PRIMARY KEY,
    label       text NOT NULL,
    is_review   boolean NOT NULL DEFAULT false,
    sort_order  int NOT NULL
);

INSERT INTO study_designs (code, label, is_review, sort_order) VALUES
    ('systematic_review',    'Systematic review',                true,  1),
    ('meta_analysis',        'Meta-analysis',                    true,  2),
    ('narrative_review',     'Narrative review',                 true,  3),
    ('rct',                  'Randomised controlled trial',      false, 4),
    ('non_randomised_trial', 'Non-randomised controlled trial',  false, 5),
    ('single_arm_trial',     'Single-arm trial',                 false, 6),
    ('case_series',          'Case series',                      false, 7),
    ('case_report',          'Case report',                      false, 8),
    ('preclinical',          'Preclinical study',                false, 9);

CREATE TABLE products (
    code  text PRIMARY KEY,
    label text NOT NULL
);

INSERT INTO products (code, label) VALUES
    ('msc_cells',                 'Mesenchymal stem/stromal cells'),
    ('stromal_vascular_fraction', 'Stromal vascular fraction'),
    ('conditioned_medium',        'Conditioned medium (secretome)'),
    ('exosomes',                  'Exosomes / extracellular vesicles'),
    ('other',                     'Other');

CREATE TABLE cell_sources (
    code  text PRIMARY KEY,
    label text NOT NULL
);

INSERT INTO cell_sources (code, label) VALUES
    ('umbilical_cord',              'Umbilical cord'),
    ('adipose',                     'Adipose tissue'),
    ('bone_marrow',                 'Bone marrow'),
    ('gingiva',                     'Gingiva'),
    ('placenta',                    'Placenta'),
    ('dental_pulp',                 'Dental pulp'),
    ('amniotic',                    'Amnion / amniotic fluid'),
    ('embryonic_stem_cell_derived', 'Embryonic stem cell derived'),
    ('other',                       'Other'),
    ('unknown',                     'Not reported');

CREATE TABLE routes (
    code  text PRIMARY KEY,
    label text NOT NULL
);

INSERT INTO routes (code, label) VALUES
    ('intravenous',     'Intravenous'),
    ('subcutaneous',    'Subcutaneous'),
    ('intradermal',     'Intradermal'),
    ('intralesional',   'Intralesional'),
    ('topical',         'Topical'),
    ('intramuscular',   'Intramuscular'),
    ('intra_articular', 'Intra-articular'),
    ('other',           'Other');

CREATE TABLE measures (
    code         text PRIMARY KEY,
    label        text NOT NULL,
    -- Valid range of a score on this instrument; null where the value is not a score.
    min_value    numeric,
    max_value    numeric,
    is_response  boolean NOT NULL DEFAULT false
);

INSERT INTO measures (code, label, min_value, max_value, is_response) VALUES
    ('pasi',              'Psoriasis Area and Severity Index',           0, 72,  false),
    ('pasi_40',           'PASI-40 (at least 40 % improvement)',        null, null, true),
    ('pasi_50',           'PASI-50 (at least 50 % improvement)',        null, null, true),
    ('pasi_75',           'PASI-75 (at least 75 % improvement)',        null, null, true),
    ('pasi_90',           'PASI-90 (at least 90 % improvement)',        null, null, true),
    ('pasi_100',          'PASI-100 (complete clearance)',              null, null, true),
    ('bsa',               'Body surface area affected (%)',             0, 100, false),
    ('pga',               'Physician Global Assessment',                0, null, false),
    ('iga',               'Investigator Global Assessment',             0, null, false),
    ('dlqi',              'Dermatology Life Quality Index',             0, 30,  false),
    ('pssi',              'Psoriasis Scalp Severity Index',             0, 72,  false),
    ('clinical_response', 'Clinical response as reported',             null, null, true),
    ('relapse_free',      'Relapse-free',                               null, null, true),
    ('adverse_events',    'Adverse events',                             null, null, false),
    ('other',             'Other',                                      null, null, false);

CREATE TABLE sources (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title        text NOT NULL CHECK (length(btrim(title)) > 0),
    authors      text[] NOT NULL DEFAULT '{}',
    journal      text,
    year         int CHECK (year BETWEEN 1800 AND 2200),
    volume       text,
    issue        text,
    pages        text,
    doi          text CHECK (doi ~ '^10\.\d{4,9}/\S+$'),
    pmid         text CHECK (pmid ~ '^[1-9][0-9]{0,9}$'),
    registry_id  text,
    url          text CHECK (url ~* '^https?://'),
    -- The seed file this source was loaded from; null for sources added through the API.
    seed_file    text UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- DOIs are case-insensitive by definition.
CREATE UNIQUE INDEX sources_doi_key ON sources (lower(doi));
CREATE UNIQUE INDEX sources_pmid_key ON sources (pmid);
CREATE UNIQUE INDEX sources_registry_id_key ON sources (registry_id);

CREATE TABLE studies (
    id                      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key                     text NOT NULL UNIQUE CHECK (key ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    source_id               bigint REFERENCES sources (id) ON DELETE RESTRICT,
    title                   text NOT NULL CHECK (length(btrim(title)) > 0),
    design                  text NOT NULL REFERENCES study_designs (code),
    status                  text NOT NULL DEFAULT 'published' CHECK (status IN ('published', 'registered')),
    condition               text NOT NULL CHECK (condition = lower(condition) AND length(btrim(condition)) > 0),
    condition_subtype       text CHECK (condition_subtype = lower(condition_subtype)),
    country                 text,
    participants            int CHECK (participants >= 0),
    age_min                 numeric CHECK (age_min BETWEEN 0 AND 120),
    age_max                 numeric CHECK (age_max BETWEEN 0 AND 120),
    age_mean                numeric CHECK (age_mean BETWEEN 0 AND 120),
    male_count              int CHECK (male_count >= 0),
    female_count            int CHECK (female_count >= 0),
    population_description  text,
    follow_up_weeks         numeric CHECK (follow_up_weeks >= 0),
    summary                 text,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT studies_age_order CHECK (age_min IS NULL OR age_max IS NULL OR age_min <= age_max),
    CONSTRAINT studies_sex_counts_within_participants
        CHECK (participants IS NULL OR coalesce(male_count, 0) + coalesce(female_count, 0) <= participants),
    search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', title), 'A') ||
        setweight(to_tsvector('english', condition || ' ' || coalesce(condition_subtype, '')), 'B') ||
        setweight(to_tsvector('english', coalesce(summary, '')), 'C')
    ) STORED
);

CREATE INDEX studies_source_id_idx ON studies (source_id);
CREATE INDEX studies_condition_idx ON studies (condition, condition_subtype);
CREATE INDEX studies_design_idx ON studies (design);
CREATE INDEX studies_search_vector_idx ON studies USING gin (search_vector);

-- Which primary studies a review covered.
CREATE TABLE review_inclusions (
    review_study_id    bigint NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
    included_study_id  bigint NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
    PRIMARY KEY (review_study_id, included_study_id),
    CONSTRAINT review_inclusions_not_itself CHECK (review_study_id <> included_study_id)
);

CREATE INDEX review_inclusions_included_idx ON review_inclusions (included_study_id);

CREATE TABLE interventions (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    study_id        bigint NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
    key             text NOT NULL,
    product         text NOT NULL REFERENCES products (code),
    cell_source     text NOT NULL DEFAULT 'unknown' REFERENCES cell_sources (code),
    donor           text NOT NULL DEFAULT 'unknown' CHECK (donor IN ('autologous', 'allogeneic', 'unknown')),
    route           text NOT NULL REFERENCES routes (code),
    dose_value      numeric CHECK (dose_value > 0),
    dose_unit       text,
    dose_text       text,
    administrations int CHECK (administrations >= 1),
    schedule        text,
    cotreatment     text,
    description     text,
    UNIQUE (study_id, key),
    CONSTRAINT interventions_dose_has_unit CHECK (dose_value IS NULL OR dose_unit IS NOT NULL)
);

CREATE INDEX interventions_study_id_idx ON interventions (study_id);
CREATE INDEX interventions_product_idx ON interventions (product, study_id);
CREATE INDEX interventions_cell_source_idx ON interventions (cell_source, study_id);
CREATE INDEX interventions_route_idx ON interventions (route, study_id);

CREATE TABLE outcomes (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    study_id         bigint NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
    intervention_id  bigint REFERENCES interventions (id) ON DELETE CASCADE,
    measure          text NOT NULL REFERENCES measures (code),
    timepoint        text,
    timepoint_weeks  numeric CHECK (timepoint_weeks >= 0),
    baseline_value   numeric,
    value            numeric,
    unit             text,
    scale_max        numeric CHECK (scale_max > 0),
    assessed         int CHECK (assessed >= 0),
    responders       int CHECK (responders >= 0),
    result           text,
    quote            text NOT NULL CHECK (length(btrim(quote)) > 0),
    evidence         text NOT NULL DEFAULT 'primary' CHECK (evidence IN ('primary', 'secondary')),
    source_note      text,
    CONSTRAINT outcomes_responders_within_assessed CHECK (responders IS NULL OR assessed IS NULL OR responders <= assessed),
    CONSTRAINT outcomes_secondary_names_its_source CHECK (evidence = 'primary' OR source_note IS NOT NULL),
    CONSTRAINT outcomes_pasi_range CHECK (measure NOT IN ('pasi', 'pssi')
        OR ((baseline_value IS NULL OR baseline_value BETWEEN 0 AND 72) AND (value IS NULL OR value BETWEEN 0 AND 72))),
    CONSTRAINT outcomes_bsa_range CHECK (measure <> 'bsa'
        OR ((baseline_value IS NULL OR baseline_value BETWEEN 0 AND 100) AND (value IS NULL OR value BETWEEN 0 AND 100))),
    CONSTRAINT outcomes_dlqi_range CHECK (measure <> 'dlqi'
        OR ((baseline_value IS NULL OR baseline_value BETWEEN 0 AND 30) AND (value IS NULL OR value BETWEEN 0 AND 30))),
    CONSTRAINT outcomes_global_assessment_scale CHECK (measure NOT IN ('pga', 'iga')
        OR ((baseline_value IS NULL AND value IS NULL)
            OR (scale_max IS NOT NULL
                AND (baseline_value IS NULL OR baseline_value BETWEEN 0 AND scale_max)
                AND (value IS NULL OR value BETWEEN 0 AND scale_max))))
);

CREATE INDEX outcomes_study_id_idx ON outcomes (study_id);
CREATE INDEX outcomes_intervention_id_idx ON outcomes (intervention_id);
CREATE INDEX outcomes_measure_idx ON outcomes (measure, study_id);

-- Which seed files were loaded, so that loading again skips files that did not change.
CREATE TABLE seed_files (
    name        text PRIMARY KEY,
    sha256      text NOT NULL,
    loaded_at   timestamptz NOT NULL DEFAULT now()
);
