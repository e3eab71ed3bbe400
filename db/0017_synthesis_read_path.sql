-- The synthesis reads a few numbers of every study in scope, which at a million studies can be hundreds of thousands of
-- rows. These indexes let it read them from the indexes alone (index-only scans), never the wide rows of studies
-- (titles, summaries, search documents) or outcomes (quotes), and find the studies of a cell source and route together.

CREATE INDEX studies_synthesis_idx ON studies (id) INCLUDE (design, status, year, participants);
CREATE INDEX studies_condition_synthesis_idx ON studies (condition, id) INCLUDE (design, status, year, participants);

CREATE INDEX interventions_cell_source_route_idx ON interventions (cell_source, route, study_id) INCLUDE (id);

-- Replaces outcomes_measure_idx (measure, study_id): the same key, with the columns the synthesis reads.
CREATE INDEX outcomes_synthesis_idx ON outcomes (measure, study_id)
    INCLUDE (id, intervention_id, timepoint_weeks, baseline_value, value, assessed, responders, evidence);
DROP INDEX outcomes_measure_idx;
