-- Synthesis turns a score (PASI and the like) into a response patient by patient: for an outcome made from several
-- patients it reads each patient's own baseline and value. This index finds the patients' results for one measure
-- without reading the others (relapse, adverse events, responder counts), and answers from the index alone.
CREATE INDEX patient_outcomes_measure_idx ON patient_outcomes (measure, outcome_id) INCLUDE (assessed, baseline_value, value);
