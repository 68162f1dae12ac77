-- Timestamp forms (docs/mapping.md) at their edges: 'T' or a space between
-- date and time, 0 to 9 fraction digits, Z, an offset, no zone (UTC).  At
-- most 6 fraction digits map to timestamptz (more would lose precision:
-- text).  Types from nango.flatten, stored values through
-- nango._map_records (the calls a job makes).
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS nango CASCADE;
CREATE EXTENSION nango;
RESET client_min_messages;
SET TimeZone = 'UTC';
CREATE TEMP TABLE forms (k text, v text);
INSERT INTO forms VALUES
  ('space_nozone', '2020-03-17 11:39:14'),
  ('t_nozone', '2020-03-17T11:39:14'),
  ('space_z', '2020-03-17 11:39:14Z'),
  ('t_z', '2020-03-17T11:39:14Z'),
  ('t_lower', '2020-03-17t11:39:14z'),
  ('space_offset', '2020-03-17 11:39:14+05:45'),
  ('t_offset', '2020-03-17T11:39:14+05:45'),
  ('t_offset_neg', '2020-03-17T11:39:14-03:30'),
  ('t_offset_hhmm', '2020-03-17T11:39:14+0545'),
  ('t_minutes', '2020-03-17T11:39Z'),
  ('f1_z', '2020-03-17T11:39:14.8Z'),
  ('f2_z', '2020-03-17T11:39:14.83Z'),
  ('f3_z', '2020-03-17T11:39:14.831Z'),
  ('f4_z', '2020-03-17T11:39:14.8310Z'),
  ('f5_z', '2020-03-17T11:39:14.83107Z'),
  ('f6_z', '2020-03-17T11:39:14.831070Z'),
  ('f6_space_nozone', '2020-03-17 11:39:14.831070'),
  ('f6_offset', '2020-03-17T11:39:14.000001+05:45'),
  ('f7_z', '2026-06-18T08:05:17.8310706Z'),
  ('f7_space_nozone', '2026-06-18 08:05:17.8310706'),
  ('f8_offset', '2026-06-18T08:05:17.83107061+05:45'),
  ('f9_z', '2026-06-18T08:05:17.831070612Z'),
  ('f0_dot', '2020-03-17T11:39:14.Z'),
  ('two_spaces', '2020-03-17  11:39:14'),
  ('space_before_zone', '2020-03-17T11:39:14 Z'),
  ('bad_day', '2020-02-30 10:00:00'),
  ('bad_hour', '2020-03-17 24:00:00'),
  ('date', '2020-03-17');

-- The type of each form, and nango.flatten's value.
SELECT f.k, x.column_type, x.value
  FROM forms f, nango.flatten(jsonb_build_object(f.k, f.v)) x ORDER BY f.k;

-- One record of every form into a mapped table: the columns' types and the
-- stored instants (zoneless forms are UTC; fractions kept to the microsecond).
SELECT * FROM nango._map_records(3601, NULL, NULL, 1,
  ARRAY[(SELECT jsonb_object_agg(k, v) FROM forms)]);
SELECT a.attname AS k, format_type(a.atttypid, a.atttypmod) AS type,
       CASE WHEN a.atttypid = 'timestamptz'::regtype
            THEN to_char((row_to_json(t)->>a.attname)::timestamptz, 'YYYY-MM-DD HH24:MI:SS.US TZH:TZM')
            ELSE row_to_json(t)->>a.attname END AS stored
  FROM pg_attribute a, nango._nango_sync_3601 t
 WHERE a.attrelid = 'nango._nango_sync_3601'::regclass AND a.attnum > 0
   AND a.attname !~ '^_nango' ORDER BY a.attname;

-- The two forms of the same instant, with 'T' and with a space, in one
-- column across pages: both timestamptz, equal.
SELECT * FROM nango._map_records(3602, NULL, NULL, 1, ARRAY['{"at": "2020-03-17T11:39:14"}']::jsonb[]);
SELECT * FROM nango._map_records(3602, NULL, NULL, 1, ARRAY['{"at": "2020-03-17 11:39:14"}']::jsonb[]);
SELECT format_type(atttypid, atttypmod) FROM pg_attribute
 WHERE attrelid = 'nango._nango_sync_3602'::regclass AND attname = 'at';
SELECT count(DISTINCT at) AS distinct_instants, min(at) FROM nango._nango_sync_3602;
-- a 7-digit fraction on a later page does not fit the timestamptz column:
-- NULL there, one mismatch (it stays in nango.raw)
SELECT * FROM nango._map_records(3602, NULL, NULL, 1, ARRAY['{"at": "2026-06-18T08:05:17.8310706Z"}']::jsonb[]);

SET client_min_messages = warning;
DROP EXTENSION nango CASCADE;
