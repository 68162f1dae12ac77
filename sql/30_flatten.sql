-- nango.flatten: every auto-mapping rule of docs/mapping.md, one record at a time.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS nango;
RESET client_min_messages;

-- The seed's example: nulls give no column, '_' joins paths, arrays by index.
SELECT * FROM nango.flatten('{"field": true, "parent": {"nested": "string_value"}, "nullField": null, "list": [1, 2]}')
 ORDER BY column_name;

-- '_' at every level, arrays at every level, empty containers give nothing.
SELECT * FROM nango.flatten('{"a": {"b": {"c": 1}}, "arr": [{"id": 1, "tags": ["x", "y"]}], "e": {}, "f": [], "g": [[1, [2]], null]}');

-- Bare scalars give no column; a bare array gives its indexes.
SELECT count(*) FROM nango.flatten('5');
SELECT count(*) FROM nango.flatten('"text"');
SELECT count(*) FROM nango.flatten('null');
SELECT * FROM nango.flatten('[true, "x"]');

-- Numbers: bigint when an integer in bigint's range, else numeric; all digits kept.
-- (jsonb itself reads 1e3 as the integer 1000 and -0 as 0, so those are bigint.)
SELECT * FROM nango.flatten('{"max": 9223372036854775807, "min": -9223372036854775808, "over": 9223372036854775808,
  "under": -9223372036854775809, "u64": 18446744073709551616, "exp": 1e3, "expfrac": 1.5e-3,
  "ts": 1672531200.0, "negzero": -0, "one": 1.0, "big": 123456789012345678901234567890.123456789,
  "tiny": 0.000000000000000000001}') ORDER BY column_name;

-- Strings stay text, however numeric they look.
SELECT * FROM nango.flatten('{"s1": "007", "s2": "1e5", "s3": "51", "s4": "2024-13-45", "s5": "", "s6": "true",
  "s7": "0x1A", "s8": " 42", "s9": "Infinity", "s10": "NaN"}') ORDER BY column_name;

-- Dates and timestamps: only exact ISO-8601 forms.
SELECT * FROM nango.flatten('{
  "d1": "2024-02-29", "d2": "2023-02-29", "d3": "2024-04-31", "d4": "0000-01-01", "d5": "2024-1-01",
  "t1": "2024-01-15T10:30:00Z", "t2": "2024-01-15T10:30:00+02:00", "t3": "2024-01-15T10:30:00",
  "t4": "2024-01-15T10:30:00.123456Z", "t5": "2024-01-15 10:30:00-0530", "t6": "2024-01-15T10:30Z",
  "t7": "2024-01-15T10:30:00.1234567Z", "t8": "2024-01-15T24:00:00Z", "t9": "2024-01-15T10:30:00+15:00",
  "t10": "Released 2024-01-15T10:30:00Z", "t11": "2024-01-15T10:30:00Z ", "t12": "2024-01-15T10:30:60Z",
  "t13": "2024-01-15T10:30:00+02", "t14": "2024-01-15t10:30:00z", "t15": "19/12/2022 09:54"}') ORDER BY column_name;

-- Booleans.
SELECT * FROM nango.flatten('{"yes": true, "no": false}') ORDER BY column_name;

-- Hostile keys: quotes, dots, spaces, emoji, SQL text; all kept as spelled.
SELECT column_name, column_type, value, length(column_name) AS len FROM nango.flatten(
  '{"a\"b": 1, "x.y": 2, "with space": 3, "😀": 4, "Robert\"); DROP TABLE nango.syncs; --": 5,
    "CamelCase": 6, "a''b": 7, "tab\there": 8, "newline\nkey": 9, "back\\slash": 10, "ü": {"ß": 11}}')
 ORDER BY column_name COLLATE "C";

-- Colliding paths get distinct names: the shallower path keeps the plain name,
-- the other gets a hash suffix of its path.
SELECT * FROM nango.flatten('{"a_b": 1, "a": {"b": 2}, "a.b": 3}') ORDER BY value;
SELECT * FROM nango.flatten('{"a": {"0": "obj"}, "a_0": "flat"}') ORDER BY value;
SELECT * FROM nango.flatten('[["x"], {"0": "y"}]') ORDER BY value;

-- The same record always gives the same names.
SELECT (SELECT array_agg(column_name ORDER BY value) FROM nango.flatten('{"a_b": 1, "a": {"b": 2}}'))
     = (SELECT array_agg(column_name ORDER BY value) FROM nango.flatten('{"a": {"b": 2}, "a_b": 1}')) AS stable;

-- System column names, PostgreSQL's system columns and the empty key are renamed.
SELECT * FROM nango.flatten('{"_nango_id": 1, "_nango_sync_id": 2, "_nango_job_id": 3, "_nango_emitted_at": 4,
  "_nango_unique_key": 5, "_nango_deleted_at": 6, "_nango_future": 7, "ctid": 8, "xmin": 9, "xmax": 10,
  "cmin": 11, "cmax": 12, "tableoid": 13, "oid": 14, "": 15, "CTID": 16}') ORDER BY value::int;
SELECT * FROM nango.flatten('{"": 1, "_": 2, "x": {"": 3}}') ORDER BY value::int;

-- Long names are cut to 63 bytes with a hash suffix, never inside a character.
SELECT column_name, octet_length(column_name) AS bytes, value FROM nango.flatten(
  json_build_object(repeat('k', 70), 1, repeat('k', 63), 2, repeat('k', 64), 3)::jsonb) ORDER BY value;
SELECT octet_length(column_name) AS bytes, column_name = convert_from(convert_to(column_name, 'UTF8'), 'UTF8') AS valid,
       left(column_name, 3), value
  FROM nango.flatten(json_build_object(repeat('é', 40), 1, 'x' || repeat('é', 40), 2, repeat('😀', 20), 3)::jsonb) ORDER BY value;
-- two long paths sharing their first 63 bytes stay distinct
SELECT count(DISTINCT column_name) FROM nango.flatten(
  json_build_object(repeat('p', 80) || 'one', 1, repeat('p', 80) || 'two', 2)::jsonb);

-- At most 500 columns.
SELECT count(*) FROM nango.flatten((SELECT jsonb_object_agg('k' || i, i) FROM generate_series(1, 600) i));
SELECT count(*) FROM nango.flatten((SELECT jsonb_agg(i) FROM generate_series(1, 501) i));

-- Deep nesting.
SELECT octet_length(column_name), left(column_name, 20), value
  FROM nango.flatten((SELECT (repeat('{"a":', 201) || '1' || repeat('}', 201))::jsonb));

-- NULL input gives nothing (the function is strict).
SELECT count(*) FROM nango.flatten(NULL);
