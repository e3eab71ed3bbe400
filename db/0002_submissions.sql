-- Contributed case reports, their moderation, and the API keys of contributors and curators.

CREATE TABLE api_keys (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL CHECK (length(btrim(name)) > 0),
    role        text NOT NULL CHECK (role IN ('contributor', 'curator')),
    -- SHA-256 of the key; the key itself is shown once, when it is created, and never stored.
    key_hash    bytea NOT NULL UNIQUE CHECK (length(key_hash) = 32),
    -- The first characters of the key, so that people can tell their keys apart.
    key_prefix  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

CREATE TABLE submissions (
    id                         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    status                     text NOT NULL DEFAULT 'submitted' CHECK (status IN ('submitted', 'published', 'rejected')),
    -- The validated case report exactly as accepted.
    report                     jsonb NOT NULL,
    title                      text NOT NULL,
    doi                        text,
    pmid                       text,
    submitted_by               bigint NOT NULL REFERENCES api_keys (id),
    idempotency_key            text,
    request_hash               text,
    -- Set when an existing study has a near-identical title: for the curator to look at.
    similar_study_id           bigint REFERENCES studies (id) ON DELETE SET NULL,
    similar_title_score        real,
    study_id                   bigint REFERENCES studies (id) ON DELETE SET NULL,
    submitted_at               timestamptz NOT NULL DEFAULT now(),
    updated_at                 timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT submissions_idempotency_key_per_submitter UNIQUE (submitted_by, idempotency_key),
    CONSTRAINT submissions_published_has_study CHECK (status <> 'published' OR study_id IS NOT NULL),
    CONSTRAINT submissions_idempotency_has_hash CHECK (idempotency_key IS NULL OR request_hash IS NOT NULL)
);

CREATE INDEX submissions_status_idx ON submissions (status, id);
CREATE INDEX submissions_submitted_by_idx ON submissions (submitted_by, id);
CREATE INDEX submissions_doi_idx ON submissions (lower(doi)) WHERE doi IS NOT NULL;
CREATE INDEX submissions_pmid_idx ON submissions (pmid) WHERE pmid IS NOT NULL;

-- Every change of state: who, when, from, to, and why.
CREATE TABLE submission_events (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    submission_id  bigint NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
    actor_key_id   bigint NOT NULL REFERENCES api_keys (id),
    from_status    text CHECK (from_status IN ('submitted', 'published', 'rejected')),
    to_status      text NOT NULL CHECK (to_status IN ('submitted', 'published', 'rejected')),
    reason         text,
    at             timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX submission_events_submission_idx ON submission_events (submission_id, id);

-- A published submission's study remembers where it came from.
ALTER TABLE studies ADD COLUMN submission_id bigint REFERENCES submissions (id) ON DELETE SET NULL;

-- Near-identical titles are found by trigram similarity.
CREATE INDEX studies_title_trgm_idx ON studies USING gin (title gin_trgm_ops);
