-- Relevance ranking reads candidates from the text index in eight buckets (id % 8), one partial index each.
-- A word found in a fifth of a million studies yields 200,000 row pointers from one index, and gathering them is
-- most of the cost of a search; the first bucket alone yields enough candidates at an eighth of that cost, and the
-- next buckets are read only when it does not. The full index stays for filtering, sorting by other keys and totals.
-- The number of buckets is StudyQueries.SearchBuckets in the API; the two must agree.
CREATE INDEX studies_search_bucket0_idx ON studies USING gin (search_vector) WHERE id % 8 = 0;
CREATE INDEX studies_search_bucket1_idx ON studies USING gin (search_vector) WHERE id % 8 = 1;
CREATE INDEX studies_search_bucket2_idx ON studies USING gin (search_vector) WHERE id % 8 = 2;
CREATE INDEX studies_search_bucket3_idx ON studies USING gin (search_vector) WHERE id % 8 = 3;
CREATE INDEX studies_search_bucket4_idx ON studies USING gin (search_vector) WHERE id % 8 = 4;
CREATE INDEX studies_search_bucket5_idx ON studies USING gin (search_vector) WHERE id % 8 = 5;
CREATE INDEX studies_search_bucket6_idx ON studies USING gin (search_vector) WHERE id % 8 = 6;
CREATE INDEX studies_search_bucket7_idx ON studies USING gin (search_vector) WHERE id % 8 = 7;
