-- Mapped timestamps are computed without timestamptz_in: the instant must
-- be exactly what timestamptz_in gives for every form the mapping accepts
-- (T or space, seconds or not, 1-6 fraction digits, Z, offsets with and
-- without a colon, hours only, no zone meaning UTC, dates as midnight UTC,
-- leap days, the first and last years).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS nango;
RESET client_min_messages;
SET TimeZone = 'America/New_York';
CREATE TEMP TABLE samples (i serial, s text);
INSERT INTO samples (s) VALUES
  ('2024-01-15T10:30:00Z'), ('2024-01-15T10:30:00.5Z'), ('2024-01-15T10:30:00.123456Z'),
  ('2024-01-15T10:30:00.000001+05:30'), ('2024-01-15 23:59:59.99-08:00'),
  ('2024-02-29T00:00Z'), ('2024-01-15T10:30'), ('2024-01-15T10:30:07.25'),
  ('2024-07-01t12:00:00z'), ('2024-07-01T12:00:00+0130'), ('2024-07-01T12:00:00-03'),
  ('2024-07-01T12:00:00+14:00'), ('2000-02-29'), ('0001-01-01T00:00:00Z'),
  ('9999-12-31T23:59:59.999999Z'), ('1970-01-01'), ('1899-12-31T23:59:59-00:30');
SELECT count(*) FROM nango._map_records(6001, NULL, NULL, 1,
  (SELECT array_agg(jsonb_build_object('k', i, 'ts', s) ORDER BY i) FROM samples));
SELECT pg_catalog.format_type(atttypid, atttypmod) FROM pg_attribute
 WHERE attrelid = 'nango._nango_sync_6001'::regclass AND attname = 'ts';
-- every row equal to timestamptz_in's reading (zoneless as UTC, a date as midnight UTC)
SELECT count(*) AS rows,
       count(*) FILTER (WHERE m.ts = (CASE WHEN s.s ~ '^\d{4}-\d\d-\d\d$' THEN s.s || ' 00:00:00+00'
                                      WHEN s.s ~ '(Z|z|[+-]\d\d(:?\d\d)?)$' THEN s.s
                                      ELSE s.s || '+00' END)::timestamptz) AS equal
  FROM nango._nango_sync_6001 m JOIN samples s ON s.i = m.k;
SET TimeZone = 'UTC';
SELECT m.k, m.ts FROM nango._nango_sync_6001 m ORDER BY m.k;
SELECT nango._map_drop(6001, NULL);
