-- Hostile responses: a body that is not UTF-8, holds a raw NUL byte, is not
-- JSON, is nested 100,000 levels deep, or is huge fails only its own job,
-- with a clear message; the session and the next job carry on.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS nango CASCADE;
RESET client_min_messages;
CREATE EXTENSION nango;
SET nango.log_level = warning;
CREATE FUNCTION mock(path text) RETURNS text LANGUAGE sql
  AS $$ SELECT current_setting('nango_test.mock_url') || path $$;
CREATE FUNCTION unport(t text) RETURNS text LANGUAGE sql
  AS $$ SELECT regexp_replace(t, '127\.0\.0\.1:[0-9]+', 'mock', 'g') $$;
CREATE FUNCTION hostile(path text, config jsonb DEFAULT '{}',
  OUT status text, OUT fetched bigint, OUT error text)
LANGUAGE plpgsql SET client_min_messages = error AS $$
DECLARE jid bigint;
BEGIN
  jid := nango.run_sync(nango.add_sync(mock(path),
           '{"response_path": "data", "retries": 0}'::jsonb || config));
  SELECT j.status, j.fetched_count, unport(j.error_message) INTO status, fetched, error
    FROM nango.jobs j WHERE j.id = jid;
END $$;

SELECT * FROM hostile('/sec/rawnul');
SELECT * FROM hostile('/faults/latin1');
SELECT * FROM hostile('/faults/html');
SELECT * FROM hostile('/faults/malformed');
SELECT * FROM hostile('/sec/deeparray?depth=100000');
SELECT * FROM hostile('/faults/deep?depth=100000');
-- nesting that fits is stored and mapped
SELECT * FROM hostile('/sec/deeparray?depth=500');
SELECT * FROM hostile('/faults/deep?depth=500');
-- a huge body stops at nango.max_response_size, compressed or not
SET nango.max_response_size = '1MB';
SELECT * FROM hostile('/faults/big?kb=3000');
SELECT * FROM hostile('/faults/big?kb=3000&gzip=1');
RESET nango.max_response_size;
-- records that are not objects or arrays
SELECT * FROM hostile('/simple/items', '{"response_path": "data.0.name"}');

-- the session is fine and the next job works
SELECT * FROM hostile('/simple/items', '{"auto_mapping": false}');
SELECT count(*) AS failed_jobs FROM nango.jobs WHERE status = 'failed';
SELECT count(*) AS raw_rows FROM nango.raw;

DROP EXTENSION nango CASCADE;
DROP FUNCTION hostile(text, jsonb);
DROP FUNCTION unport(text);
DROP FUNCTION mock(text);
