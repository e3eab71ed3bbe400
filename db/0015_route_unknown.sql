-- Registry records and abstracts often name the product but not how it is given. The route is required,
-- so without this value such a study would need a guessed route; 'unknown' says it was not reported,
-- as it already does for cell sources and donors.
INSERT INTO routes (code, label) VALUES ('unknown', 'Not reported');
