-- Condition subtypes become a vocabulary, so that the same subtype is no longer split over several spellings
-- (plaque, vulgaris, plaque psoriasis). A subtype belongs to its condition: "plaque" is a form of psoriasis, not of
-- lupus, and the same word may mean different things for different conditions. A condition gets subtypes when its
-- evidence needs them (one INSERT in a new migration, and the same in Vocabularies/Vocabulary.cs); until then its
-- studies have none. Synonyms are accepted on input and stored as the code.

CREATE TABLE condition_subtypes (
    condition   text NOT NULL CHECK (condition = lower(condition) AND length(btrim(condition)) > 0),
    code        text NOT NULL CHECK (code ~ '^[a-z0-9]+(_[a-z0-9]+)*$'),
    label       text NOT NULL,
    sort_order  int NOT NULL,
    PRIMARY KEY (condition, code)
);

CREATE TABLE condition_subtype_synonyms (
    condition  text NOT NULL,
    synonym    text NOT NULL CHECK (synonym = lower(synonym) AND synonym = btrim(synonym)),
    code       text NOT NULL,
    PRIMARY KEY (condition, synonym),
    FOREIGN KEY (condition, code) REFERENCES condition_subtypes (condition, code)
);

INSERT INTO condition_subtypes (condition, code, label, sort_order) VALUES
    ('psoriasis', 'plaque',              'Plaque psoriasis (psoriasis vulgaris)', 1),
    ('psoriasis', 'scalp',               'Scalp psoriasis',                       2),
    ('psoriasis', 'guttate',             'Guttate psoriasis',                     3),
    ('psoriasis', 'pustular',            'Pustular psoriasis',                    4),
    ('psoriasis', 'erythrodermic',       'Erythrodermic psoriasis',               5),
    ('psoriasis', 'inverse',             'Inverse (flexural) psoriasis',          6),
    ('psoriasis', 'nail',                'Nail psoriasis',                        7),
    ('psoriasis', 'psoriatic_arthritis', 'Psoriatic arthritis',                   8),
    ('psoriasis', 'other',               'Other subtype',                         9);

INSERT INTO condition_subtype_synonyms (condition, synonym, code) VALUES
    ('psoriasis', 'vulgaris',                        'plaque'),
    ('psoriasis', 'psoriasis vulgaris',              'plaque'),
    ('psoriasis', 'plaque psoriasis',                'plaque'),
    ('psoriasis', 'chronic plaque',                  'plaque'),
    ('psoriasis', 'chronic plaque psoriasis',        'plaque'),
    ('psoriasis', 'scalp psoriasis',                 'scalp'),
    ('psoriasis', 'guttate psoriasis',               'guttate'),
    ('psoriasis', 'pustular psoriasis',              'pustular'),
    ('psoriasis', 'generalized pustular psoriasis',  'pustular'),
    ('psoriasis', 'generalised pustular psoriasis',  'pustular'),
    ('psoriasis', 'erythrodermic psoriasis',         'erythrodermic'),
    ('psoriasis', 'inverse psoriasis',               'inverse'),
    ('psoriasis', 'flexural psoriasis',              'inverse'),
    ('psoriasis', 'intertriginous psoriasis',        'inverse'),
    ('psoriasis', 'nail psoriasis',                  'nail'),
    ('psoriasis', 'psoriatic arthritis',             'psoriatic_arthritis'),
    ('psoriasis', 'psa',                             'psoriatic_arthritis');

-- A stored value as the API compares names: lower case, words joined by one space (psoriatic-arthritis, Psoriatic_Arthritis).
CREATE FUNCTION subtype_name(p_value text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT nullif(btrim(regexp_replace(lower(p_value), '[\s_-]+', ' ', 'g')), '')
$$;

CREATE FUNCTION canonical_subtype(p_condition text, p_value text) RETURNS text
LANGUAGE sql STABLE STRICT AS $$
    SELECT code FROM condition_subtypes WHERE condition = p_condition AND replace(code, '_', ' ') = subtype_name(p_value)
    UNION ALL
    SELECT code FROM condition_subtype_synonyms WHERE condition = p_condition AND synonym = subtype_name(p_value)
    LIMIT 1
$$;

-- Existing values: spellings of a known subtype become its code. Values that name no subtype of their condition
-- cannot be kept under the constraint below: for a condition with subtypes they become 'other', for a condition
-- without any they are cleared (its studies have no subtypes yet).
UPDATE studies s
SET condition_subtype = coalesce(
        canonical_subtype(s.condition, s.condition_subtype),
        CASE WHEN EXISTS (SELECT 1 FROM condition_subtypes c WHERE c.condition = s.condition) THEN 'other' END)
WHERE s.condition_subtype IS NOT NULL
  AND s.condition_subtype IS DISTINCT FROM canonical_subtype(s.condition, s.condition_subtype);

-- Reports waiting for moderation are published from their stored JSON: the same for them.
UPDATE submissions
SET report = CASE
        WHEN canonical_subtype(lower(btrim(report #>> '{patient,condition}')), report #>> '{patient,conditionSubtype}') IS NOT NULL
            THEN jsonb_set(report, '{patient,conditionSubtype}',
                           to_jsonb(canonical_subtype(lower(btrim(report #>> '{patient,condition}')), report #>> '{patient,conditionSubtype}')))
        WHEN EXISTS (SELECT 1 FROM condition_subtypes c WHERE c.condition = lower(btrim(report #>> '{patient,condition}')))
            THEN jsonb_set(report, '{patient,conditionSubtype}', '"other"')
        ELSE jsonb_set(report, '{patient,conditionSubtype}', 'null')
    END
WHERE jsonb_typeof(report #> '{patient,conditionSubtype}') = 'string'
  AND (report #>> '{patient,conditionSubtype}') IS DISTINCT FROM
      canonical_subtype(lower(btrim(report #>> '{patient,condition}')), report #>> '{patient,conditionSubtype}');

ALTER TABLE studies
    ADD CONSTRAINT studies_condition_subtype_fkey
    FOREIGN KEY (condition, condition_subtype) REFERENCES condition_subtypes (condition, code);
