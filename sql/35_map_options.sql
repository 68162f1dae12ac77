-- Mapping options (docs/mapping.md): fields (only these paths are mapped)
-- and arrays (columns per index, or one jsonb column per array), through
-- real syncs against test/mock/map_options.py, changed with update_sync,
-- and nango.flatten with the same options agreeing with a sync.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS nango CASCADE;
CREATE EXTENSION nango;
RESET client_min_messages;
SET TimeZone = 'UTC';

-- adds a sync of /mapping/options (overwrite mode) into its own table
-- nango.map_opts_<n>, paused
CREATE TEMP SEQUENCE tables;
CREATE FUNCTION pg_temp.add(extra jsonb DEFAULT '{}') RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE sid bigint;
BEGIN
  sid := nango.add_sync(current_setting('nango_test.mock_url') || '/mapping/options',
    jsonb_build_object('response_path', 'data', 'paging_cursor_request_path', 'cursor',
      'paging_cursor_metadata_response_path', 'next',
      'mapped_table', 'map_opts_' || nextval('tables')) || extra);
  PERFORM nango.pause_sync(sid);
  RETURN sid;
END $$;
CREATE FUNCTION pg_temp.run(sid bigint) RETURNS TABLE (status text, fetched bigint,
  mismatch bigint, error text) LANGUAGE plpgsql SET client_min_messages = error AS $$
DECLARE jid bigint;
BEGIN
  jid := nango.run_sync(sid);
  RETURN QUERY SELECT j.status, j.fetched_count, j.mismatch_count, j.error_message
    FROM nango.jobs j WHERE j.id = jid;
END $$;
CREATE FUNCTION pg_temp.cols(t regclass) RETURNS TABLE (col name, type text) LANGUAGE sql AS $$
  SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
   WHERE attrelid = t AND attnum > 0 AND NOT attisdropped AND attname !~ '^_nango_' ORDER BY attnum $$;

-- fields: a leaf, an object path (everything under it), an array path
-- (every element), a key with a dot in the array form, and a path that no
-- record has (no column).  nango.raw still keeps whole records.
SELECT pg_temp.add('{"fields": ["id", "properties", "labels", ["@odata.type"], "nope.missing"]}') AS sid \gset
SELECT mapped_table AS tbl FROM nango.syncs WHERE id = :sid \gset
SELECT * FROM pg_temp.run(:sid);
SELECT * FROM pg_temp.cols(:'tbl');
SELECT id, properties_email, properties_phone, labels_0_name, labels_1_name, "@odata.type"
  FROM :tbl ORDER BY id;
SELECT data ? 'tags' AS raw_has_tags, data->'matrix' AS raw_matrix
  FROM nango.raw WHERE sync_id = :sid ORDER BY unique_key NULLS FIRST, id LIMIT 1;
-- a leaf inside an object, a leaf inside an array element
SELECT pg_temp.add('{"fields": ["properties.email", "labels.0.color"]}') AS sid \gset
SELECT * FROM pg_temp.run(:sid);
SELECT * FROM pg_temp.cols((SELECT mapped_table FROM nango.syncs WHERE id = :sid));

-- arrays: jsonb: each array is one jsonb column named after its path,
-- holding the array as received (arrays of objects, of mixed scalars,
-- nested arrays, the empty array, an array inside an object).
SELECT pg_temp.add('{"arrays": "jsonb"}') AS sid \gset
SELECT mapped_table AS tbl FROM nango.syncs WHERE id = :sid \gset
SELECT * FROM pg_temp.run(:sid);
SELECT * FROM pg_temp.cols(:'tbl');
SELECT id, labels, tags, matrix, nested_deep FROM :tbl ORDER BY id;
SELECT pg_typeof(labels), labels->0->>'name' AS first_label, jsonb_array_length(matrix) AS matrix_len
  FROM :tbl WHERE id = 1;
-- with fields: an array path gives its jsonb column; a leaf inside an
-- array is still reached element by element
SELECT pg_temp.add('{"arrays": "jsonb", "fields": ["id", "tags", "labels.0.name"]}') AS sid \gset
SELECT * FROM pg_temp.run(:sid);
SELECT * FROM pg_temp.cols((SELECT mapped_table FROM nango.syncs WHERE id = :sid));

-- update_sync changes both; columns already created stay (and are no
-- longer filled), new ones are added.
SELECT pg_temp.add('{"fields": ["id", "tags"]}') AS sid \gset
SELECT mapped_table AS tbl FROM nango.syncs WHERE id = :sid \gset
SELECT * FROM pg_temp.run(:sid);
SELECT * FROM pg_temp.cols(:'tbl');
SELECT nango.update_sync(:sid, '{"arrays": "jsonb", "fields": ["id", "tags", "properties.email"]}');
SELECT config->'fields' AS fields, config->'arrays' AS arrays FROM nango.syncs WHERE id = :sid;
SELECT * FROM pg_temp.run(:sid);
SELECT * FROM pg_temp.cols(:'tbl');
SELECT id, tags_0, tags, properties_email FROM :tbl ORDER BY id;
SELECT nango.update_sync(:sid, '{"arrays": null, "fields": null}');
SELECT * FROM pg_temp.run(:sid);
SELECT count(*) AS columns FROM pg_temp.cols(:'tbl');
SELECT id, tags_0, tags, matrix_0_1 FROM :tbl ORDER BY id;

-- nango.flatten with options agrees with a sync on columns and types (the
-- table of a sync of the first record only).
SELECT '{"arrays": "jsonb", "fields": ["id", "properties", "labels", "matrix", "archived", ["@odata.type"]]}' AS opts \gset
SELECT pg_temp.add(:'opts'::jsonb || '{"max_total": 1}') AS sid \gset
SELECT * FROM pg_temp.run(:sid);
SELECT * FROM nango.flatten((SELECT data FROM nango.raw WHERE sync_id = :sid), :'opts');
SELECT f.column_name, f.column_type, c.col, c.type
  FROM nango.flatten((SELECT data FROM nango.raw WHERE sync_id = :sid), :'opts') f
  FULL JOIN pg_temp.cols((SELECT mapped_table FROM nango.syncs WHERE id = :sid)) c ON c.col = f.column_name
 WHERE f.column_type IS DISTINCT FROM c.type;
-- without options, and with NULL options, as the one-argument form
SELECT count(*) FROM nango.flatten('{"a": [1, [2]], "b": {"c": null}}', NULL);
SELECT (SELECT array_agg(f) FROM nango.flatten('{"a": [1, [2]]}') f)
     = (SELECT array_agg(f) FROM nango.flatten('{"a": [1, [2]]}', '{}') f) AS same;

-- Refused: clear messages with SQLSTATE 22023.
CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; msg text; hin text;
BEGIN
  EXECUTE q;
  RETURN 'accepted';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, hin = PG_EXCEPTION_HINT;
  RETURN st || ': ' || msg || coalesce(E'\n  hint: ' || nullif(hin, ''), '');
END $$;
SELECT pg_temp.try(q) FROM unnest(ARRAY[
  $$SELECT pg_temp.add('{"fields": "id"}')$$,
  $$SELECT pg_temp.add('{"fields": []}')$$,
  $$SELECT pg_temp.add('{"fields": ["id", 3]}')$$,
  $$SELECT pg_temp.add('{"fields": ["a..b"]}')$$,
  $$SELECT pg_temp.add('{"fields": [["a", -1]]}')$$,
  $$SELECT pg_temp.add('{"arrays": "json"}')$$,
  $$SELECT pg_temp.add('{"arrays": true}')$$,
  $$SELECT pg_temp.add('{"field": ["id"]}')$$,
  $$SELECT pg_temp.add('{"fields": ["id"]}') FROM nango.update_sync($$ || (SELECT max(id) FROM nango.syncs) || $$, '{"arrays": "JSONB"}')$$,
  $$SELECT * FROM nango.flatten('{"a": 1}', '{"fields": ["a"], "mapped_table": "t"}')$$,
  $$SELECT * FROM nango.flatten('{"a": 1}', '[]')$$,
  $$SELECT * FROM nango.flatten('{"a": 1}', '{"arrays": "rows"}')$$]) AS q;

SET client_min_messages = warning;
DROP EXTENSION nango CASCADE;
