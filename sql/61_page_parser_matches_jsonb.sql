-- Response bodies are parsed by nango's own JSON parser when it can (see
-- src/jsonparse.c); the stored records must be exactly what jsonb_in
-- gives for the same text: key order, duplicate keys (the last wins),
-- escapes and surrogate pairs, numbers, literals, nesting, whitespace.
-- Invalid JSON still gets PostgreSQL's own error (tests 22_faults, 20_run_sync).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS nango;
RESET client_min_messages;
SET nango.log_level = warning;
CREATE FUNCTION pg_temp.sync_of(body text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE sid bigint;
BEGIN
  sid := nango.add_sync(current_setting('nango_test.mock_url') || '/perf/echo?b=' ||
           rtrim(translate(encode(convert_to(body, 'UTF8'), 'base64'), E'+/\n', '-_'), '='),
           '{"auto_mapping": false, "response_path": "results"}');
  PERFORM nango.pause_sync(sid);
  PERFORM nango.run_sync(sid);
  RETURN sid;
END $$;
CREATE TEMP TABLE body AS SELECT $json$ { "results" : [
 {"a": 1, "a": 2, "b": {"x": 1, "x": [1, 2], "y": null}},
 {"bb": 1, "a": 2, "ccc": 3, "B": 4, "\u00e9": 5, "": 6, "é": 7, "ab": 8, "aa": 9},
 {"s": "\"\\\/\b\f\n\r\t", "u": "\u00e9\u4e2d\ud83d\ude00\u0041", "raw": "é中😀", "del": "\u007f"},
 {"n": [0, -0, 1.5e10, -1.25E-3, 12345678901234567890123, 1e400, 0.000, 1E+2, 3.14159265358979323846, -7]},
 {"t": true, "f": false, "z": null, "e": {}, "ea": [], "nest": [[[{"k": [{}]}]]]},
 {"k01": 1, "k02": 2, "k03": 3, "k04": 4, "k05": 5, "k06": 6, "k07": 7, "k08": 8, "k09": 9,
  "k10": 10, "k11": 11, "k12": 12, "k13": 13, "k14": 14, "k15": 15, "k16": 16, "k17": 17,
  "k18": 18, "k03": "dup", "a": 0, "zzzzzzzzzzzzzzzzzzzzzz": 1, "k17": "dup2"},
	{	"ws"	:	[ 1 ,2	,
  3 ]	}	,
 "a string record", 42, null, [1, "two", {"three": 3}]
] } $json$::text AS t;
SELECT pg_temp.sync_of(t) AS sid FROM body \gset
-- one raw row per record, each equal (and equal as text) to jsonb_in's
SELECT count(*) AS records,
       count(*) FILTER (WHERE r.data = e.value) AS equal,
       count(*) FILTER (WHERE r.data::text = e.value::text) AS equal_text
  FROM (SELECT data, row_number() OVER (ORDER BY id) AS n FROM nango.raw WHERE sync_id = :sid) r
  JOIN body b ON true
  JOIN LATERAL jsonb_array_elements(b.t::jsonb -> 'results') WITH ORDINALITY AS e(value, n) ON e.n = r.n;
SELECT data FROM nango.raw WHERE sync_id = :sid ORDER BY id LIMIT 6;
-- byte for byte: the same records parsed by jsonb_in (a page nested deeper
-- than the fast parser goes falls back to it as a whole) get the same
-- content hash, which is computed over the binary jsonb
SELECT pg_temp.sync_of(regexp_replace(t, '\]\s*\}\s*$', ', ' || repeat('[', 1001) || repeat(']', 1001) || '] }'))
       AS slow_sid FROM body \gset
SELECT count(*) AS compared, count(*) FILTER (WHERE f.data_hash = s.data_hash) AS same_hash
  FROM (SELECT data_hash, row_number() OVER (ORDER BY id) AS n FROM nango.raw WHERE sync_id = :sid) f
  JOIN (SELECT data_hash, row_number() OVER (ORDER BY id) AS n FROM nango.raw WHERE sync_id = :slow_sid) s
    ON s.n = f.n;
SELECT nango.delete_sync(:slow_sid);
SELECT nango.delete_sync(:sid);
-- numbers numeric_in refuses (an exponent too large) or that are very long
-- are left to jsonb_in: the page fails with its error, or is stored as it
-- stores it
SET client_min_messages = error;
SELECT pg_temp.sync_of('{"results": [{"n": 9e99999999}]}') AS big_sid \gset
RESET client_min_messages;
SELECT status, error_message FROM nango.jobs WHERE sync_id = :big_sid;
SELECT pg_temp.sync_of('{"results": [{"n": 1e999, "m": ' || repeat('7', 1200) || '.5}]}') AS long_sid \gset
SELECT status, (SELECT data = ('{"n": 1e999, "m": ' || repeat('7', 1200) || '.5}')::jsonb
                  FROM nango.raw WHERE sync_id = :long_sid) AS same_as_jsonb_in
  FROM nango.jobs WHERE sync_id = :long_sid;
SELECT nango.delete_sync(:big_sid);
SELECT nango.delete_sync(:long_sid);
