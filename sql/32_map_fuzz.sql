-- Property test of the mapping with random JSON (fixed seed): deep nesting,
-- hostile and colliding keys, every scalar kind, types changing from page to
-- page.  Every page must map (or fail with a clear message), and afterwards
-- every value of every record must be in its column exactly, or be NULL
-- there and counted as a mismatch; names must be valid and distinct.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS nango;
RESET client_min_messages;
SET TimeZone = 'UTC';

CREATE FUNCTION pg_temp.rand_key() RETURNS text LANGUAGE sql AS $$
  SELECT CASE WHEN random() < 0.75 THEN
    (ARRAY['id', 'a', 'b', 'a_b', 'a.b', '', ' ', repeat('x', 70), repeat('x', 70) || 'y', '😀', '"', '''',
           'ctid', '_nango_id', 'SELECT', 'ü', 'k_1', 'k', '1', '0', 'é' || repeat('é', 40)])[1 + floor(random() * 21)::int]
  ELSE substr(md5(random()::text), 1, floor(random() * 6)::int) END $$;

CREATE FUNCTION pg_temp.rand_scalar() RETURNS jsonb LANGUAGE sql AS $$
  SELECT CASE floor(random() * 12)::int
    WHEN 0 THEN 'null'::jsonb
    WHEN 1 THEN to_jsonb(random() < 0.5)
    WHEN 2 THEN to_jsonb(floor(random() * 2000000)::bigint - 1000000)
    WHEN 3 THEN (ARRAY['9223372036854775807', '-9223372036854775808', '9223372036854775808',
                       '18446744073709551616', '0', '-0', '1e3'])[1 + floor(random() * 7)::int]::jsonb
    WHEN 4 THEN (ARRAY['1.5', '-0.25', '1e-7', '1672531200.5', '3.0', '123456789012345678901234567890.5'])[1 + floor(random() * 6)::int]::jsonb
    WHEN 5 THEN to_jsonb((ARRAY['2024-01-15', '2024-02-29', '2023-02-29', '0001-01-01', '9999-12-31'])[1 + floor(random() * 5)::int])
    WHEN 6 THEN to_jsonb((ARRAY['2024-01-15T10:30:00Z', '2024-01-15T10:30:00.123+05:30', '2024-01-15 10:30:00',
                                '2024-01-15T10:30:00.1234567Z', '2024-01-15T25:00:00Z', '9999-12-31T23:59:59-14:00'])[1 + floor(random() * 6)::int])
    WHEN 7 THEN to_jsonb((ARRAY['007', '1e5', '51', 'true', '', ' ', 'NaN', '2024-13-45'])[1 + floor(random() * 8)::int])
    ELSE to_jsonb(substr(repeat(md5(random()::text) || '😀"''\ é', 3), 1 + floor(random() * 10)::int, floor(random() * 40)::int))
  END $$;

CREATE FUNCTION pg_temp.rand_value(depth int) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE r float8 := random(); o jsonb; n int;
BEGIN
  IF depth < 14 AND r < 0.2 THEN
    o := '{}';
    n := floor(random() * 5)::int;
    FOR i IN 1 .. n LOOP o := o || jsonb_build_object(pg_temp.rand_key(), pg_temp.rand_value(depth + 1)); END LOOP;
    RETURN o;
  ELSIF depth < 14 AND r < 0.32 THEN
    o := '[]';
    n := floor(random() * 4)::int;
    FOR i IN 1 .. n LOOP o := o || jsonb_build_array(pg_temp.rand_value(depth + 1)); END LOOP;
    RETURN o;
  END IF;
  RETURN pg_temp.rand_scalar();
END $$;

-- Every scalar of a record with its path.
CREATE FUNCTION pg_temp.leaves(j jsonb, p jsonb DEFAULT '[]') RETURNS TABLE (path jsonb, v jsonb)
LANGUAGE sql AS $$
  SELECT p, j WHERE jsonb_typeof(j) NOT IN ('object', 'array')
  UNION ALL
  SELECT l.* FROM jsonb_each(CASE WHEN jsonb_typeof(j) = 'object' THEN j ELSE '{}' END) e,
       LATERAL pg_temp.leaves(e.value, p || to_jsonb(e.key)) l
  UNION ALL
  SELECT l.* FROM jsonb_array_elements(CASE WHEN jsonb_typeof(j) = 'array' THEN j ELSE '[]' END) WITH ORDINALITY a(value, i),
       LATERAL pg_temp.leaves(a.value, p || to_jsonb(a.i - 1)) l $$;

-- Whether a stored (non-null) value is exactly the JSON value v.
CREATE FUNCTION pg_temp.same(type text, stored jsonb, v jsonb) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  IF stored IS NULL OR stored = 'null' THEN RETURN NULL; END IF;
  RETURN CASE type
    WHEN 'text' THEN stored #>> '{}' = v #>> '{}'
    WHEN 'boolean' THEN stored = v
    WHEN 'bigint' THEN jsonb_typeof(v) = 'number' AND (stored #>> '{}')::numeric = (v #>> '{}')::numeric
    WHEN 'numeric' THEN jsonb_typeof(v) = 'number' AND (stored #>> '{}')::numeric = (v #>> '{}')::numeric
    WHEN 'date' THEN jsonb_typeof(v) = 'string' AND (stored #>> '{}')::date = (v #>> '{}')::date
    WHEN 'timestamp with time zone' THEN jsonb_typeof(v) = 'string'
      AND (stored #>> '{}')::timestamptz = (v #>> '{}')::timestamptz
    ELSE false END;
EXCEPTION WHEN OTHERS THEN
  RETURN false;
END $$;

CREATE TABLE fuzz_input (tbl text, key text, rec jsonb);
CREATE TABLE fuzz_result (tbl text, page int, mismatch bigint, skipped bigint, error text);

-- Two tables: 12 (past the column cap) and 3 pages of 25 random records.
SELECT setseed(0.4242);
DO $$
DECLARE recs jsonb[]; keys text[]; res record; rec jsonb; t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['public.fuzz_a', 'public.fuzz_b'] LOOP
    FOR page IN 1 .. CASE t WHEN 'public.fuzz_a' THEN 12 ELSE 3 END LOOP
      recs := '{}'; keys := '{}';
      FOR i IN 1 .. 25 LOOP
        rec := '{}';
        FOR j IN 1 .. floor(random() * 9)::int LOOP
          rec := rec || jsonb_build_object(pg_temp.rand_key(), pg_temp.rand_value(0));
        END LOOP;
        recs := recs || rec;
        keys := keys || (page || '-' || i);
        INSERT INTO fuzz_input VALUES (t, page || '-' || i, rec);
      END LOOP;
      BEGIN
        SELECT * INTO res FROM nango._map_records(950, t, NULL, page, recs, keys);
        INSERT INTO fuzz_result VALUES (t, page, res.mismatch, res.skipped, NULL);
      EXCEPTION WHEN OTHERS THEN
        INSERT INTO fuzz_result VALUES (t, page, 0, 0, SQLSTATE || ': ' || SQLERRM);
      END;
    END LOOP;
  END LOOP;
END $$;

-- Every page mapped (an error would be listed here with its message).
SELECT tbl, count(*) AS pages, count(error) AS failed, string_agg(DISTINCT error, '; ') AS errors
  FROM fuzz_result GROUP BY tbl ORDER BY tbl;

-- The input really is varied.
SELECT count(*) > 1000 AS many_leaves, count(DISTINCT path) > 200 AS many_paths,
       count(DISTINCT jsonb_typeof(v)) AS scalar_kinds, max(jsonb_array_length(path)) > 5 AS deep
  FROM fuzz_input, pg_temp.leaves(rec);

-- Every record has its row; names are valid, distinct and bound to distinct paths.
SELECT i.tbl, count(*) AS records, count(*) FILTER (WHERE m.key IS NULL) AS missing
  FROM fuzz_input i
  LEFT JOIN (SELECT 'public.fuzz_a' AS tbl, _nango_unique_key AS key FROM public.fuzz_a
             UNION ALL SELECT 'public.fuzz_b', _nango_unique_key FROM public.fuzz_b) m USING (tbl, key)
 GROUP BY i.tbl ORDER BY 1;

CREATE TEMP VIEW fuzz_cols AS
  SELECT c.relnamespace::regnamespace || '.' || c.relname AS tbl, a.attname::text AS col, format_type(a.atttypid, NULL) AS type,
         substr(col_description(c.oid, a.attnum), 12)::jsonb AS path
    FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
   WHERE c.oid IN ('public.fuzz_a'::regclass, 'public.fuzz_b'::regclass) AND a.attnum > 0 AND NOT a.attisdropped
     AND col_description(c.oid, a.attnum) LIKE 'nango path %';
SELECT tbl, count(*) AS columns, count(DISTINCT path) AS paths, max(octet_length(col)) <= 63 AS short,
       bool_and(col NOT IN ('_nango_id', '_nango_sync_id', '_nango_job_id', '_nango_emitted_at', '_nango_unique_key',
                           '_nango_deleted_at', 'ctid', 'xmin', 'xmax', 'cmin', 'cmax', 'tableoid', 'oid', '')) AS safe
  FROM fuzz_cols GROUP BY tbl ORDER BY tbl;

-- Every value is in its column exactly, or NULL there and counted as a mismatch.
CREATE TEMP TABLE fuzz_check AS
  SELECT i.tbl, i.key, l.path, l.v, c.col, c.type,
         CASE i.tbl WHEN 'public.fuzz_a' THEN (SELECT to_jsonb(zza) FROM public.fuzz_a zza WHERE zza._nango_unique_key = i.key)
                    ELSE (SELECT to_jsonb(zzb) FROM public.fuzz_b zzb WHERE zzb._nango_unique_key = i.key) END -> c.col AS stored
    FROM fuzz_input i CROSS JOIN LATERAL pg_temp.leaves(i.rec) l
    LEFT JOIN fuzz_cols c ON c.tbl = i.tbl AND c.path = l.path
   WHERE l.v <> 'null';
SELECT tbl,
       count(*) FILTER (WHERE col IS NULL) AS unmapped,
       count(*) FILTER (WHERE stored = 'null') AS null_in_column,
       (SELECT sum(mismatch) FROM fuzz_result r WHERE r.tbl = f.tbl) AS mismatch_count,
       count(*) FILTER (WHERE NOT pg_temp.same(type, stored, v)) AS wrong_values
  FROM fuzz_check f GROUP BY tbl ORDER BY tbl;
-- numeric-looking strings never land in number columns, and no value changed kind
SELECT count(*) AS strings_in_number_columns FROM fuzz_check
 WHERE type IN ('bigint', 'numeric') AND stored <> 'null' AND jsonb_typeof(v) <> 'number';

-- A second pass over the same data maps the same way: names are stable.
CREATE TEMP TABLE cols_before AS SELECT * FROM fuzz_cols;
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT tbl, array_agg(rec ORDER BY key) AS recs, array_agg(key ORDER BY key) AS keys
             FROM fuzz_input GROUP BY tbl LOOP
    PERFORM nango._map_records(950, r.tbl, NULL, 99, r.recs, r.keys);
  END LOOP;
END $$;
SELECT count(*) AS changed_columns FROM (
  (SELECT tbl, col, path::text FROM fuzz_cols EXCEPT SELECT tbl, col, path::text FROM cols_before)
  UNION ALL
  (SELECT tbl, col, path::text FROM cols_before EXCEPT SELECT tbl, col, path::text FROM fuzz_cols)) d;

DROP VIEW fuzz_cols;
DROP TABLE public.fuzz_a, public.fuzz_b, fuzz_input, fuzz_result;
