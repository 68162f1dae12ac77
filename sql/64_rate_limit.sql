-- Rate limits (docs/config.md): the rate_limit config key is validated;
-- a sync's requests never exceed it (requests that would, wait); a
-- response announcing its budget spent (X-RateLimit-Remaining: 0 with
-- X-RateLimit-Reset as Unix time or seconds, RateLimit-Remaining: 0 with
-- RateLimit-Reset) makes the next request wait for the reset, so the API
-- sees no early request and answers no 429; a reset further away than
-- nango.max_rate_limit_wait fails the job with a clear message.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS nango CASCADE;
DROP SCHEMA IF EXISTS nango CASCADE; -- and the mapped tables left: ids start at 1
RESET client_min_messages;
CREATE EXTENSION nango;
SET nango.log_level = warning;
CREATE FUNCTION mock(path text) RETURNS text LANGUAGE sql
  AS $$ SELECT current_setting('nango_test.mock_url') || path $$;
-- what the mock's rate-limit routes recorded for id
CREATE FUNCTION report(id text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE sid bigint; r jsonb;
BEGIN
  sid := nango.add_sync(mock('/rl/report?id=' || id), '{"auto_mapping": false}');
  PERFORM nango.run_sync(sid);
  SELECT data INTO r FROM nango.raw WHERE sync_id = sid;
  PERFORM nango.delete_sync(sid);
  RETURN r;
END $$;
-- the most requests of times (Unix seconds) in any window [t, t + width)
CREATE FUNCTION max_in_window(times jsonb, width float8) RETURNS bigint LANGUAGE sql AS $$
  SELECT coalesce(max((SELECT count(*) FROM jsonb_array_elements_text(times) b
                        WHERE b::float8 >= a::float8 AND b::float8 < a::float8 + width)), 0)
    FROM jsonb_array_elements_text(times) a $$;
-- runs a sync once (WARNINGs hidden: the job row shows the error)
CREATE FUNCTION run(sid bigint, OUT status text, OUT error text)
LANGUAGE plpgsql SET client_min_messages = error AS $$
DECLARE jid bigint;
BEGIN
  jid := nango.run_sync(sid);
  SELECT j.status, regexp_replace(j.error_message, '127\.0\.0\.1:[0-9]+', 'mock', 'g')
    INTO status, error FROM nango.jobs j WHERE j.id = jid;
END $$;
\set paging '"response_path": "data", "paging_cursor_metadata_response_path": "next", "paging_cursor_request_path": "page"'

-- validation
\set ON_ERROR_STOP 0
SELECT nango.add_sync(mock('/x'), '{"rate_limit": 10}');
SELECT nango.add_sync(mock('/x'), '{"rate_limit": {"requests": 10}}');
SELECT nango.add_sync(mock('/x'), '{"rate_limit": {"per": "1s"}}');
SELECT nango.add_sync(mock('/x'), '{"rate_limit": {"requests": 10, "per": "1s", "burst": 3}}');
SELECT nango.add_sync(mock('/x'), '{"rate_limit": {"requests": 0, "per": "1s"}}');
SELECT nango.add_sync(mock('/x'), '{"rate_limit": {"requests": 2.5, "per": "1s"}}');
SELECT nango.add_sync(mock('/x'), '{"rate_limit": {"requests": "10", "per": "1s"}}');
SELECT nango.add_sync(mock('/x'), '{"rate_limit": {"requests": 10, "per": "sometimes"}}');
SELECT nango.add_sync(mock('/x'), '{"rate_limit": {"requests": 10, "per": 0}}');
SELECT nango.add_sync(mock('/x'), '{"rate_limit": {"requests": 10, "per": "40 days"}}');
SELECT nango.add_sync(mock('/x'), '{"rate_limit": {"requests": 10, "per": true}}');
SELECT nango.add_sync(mock('/x'), '{"rate_limits": {"requests": 10, "per": "1s"}}');
\set ON_ERROR_STOP 1
SELECT nango.add_sync(mock('/x'), '{"rate_limit": {"requests": 100, "per": "10 seconds"}}') AS a,
       nango.add_sync(mock('/y'), '{"rate_limit": {"requests": 5, "per": 2.5}}') AS b \gset
SELECT id = :a AS first, config->'rate_limit' AS stored FROM nango.syncs ORDER BY id;
SET client_min_messages = warning;  -- a table of an earlier test's sync 1 may stay
SELECT nango.delete_sync(id) FROM nango.syncs;
RESET client_min_messages;

-- a sync's own limit: 12 pages at 4 per second take 2 seconds at least and
-- no window of a second holds more than 4 of them
SELECT nango.add_sync(mock('/rl/pages?id=own&pages=12'),
  ('{"auto_mapping": false, "rate_limit": {"requests": 4, "per": "1 second"}, ' || :'paging' || '}')::jsonb) AS sid \gset
SELECT nango.pause_sync(:sid);
SELECT * FROM run(:sid);
SELECT jsonb_array_length(r->'times') AS requests,
       max_in_window(r->'times', 0.95) <= 4 AS within_limit,
       (r->'times'->>11)::float8 - (r->'times'->>0)::float8 >= 1.9 AS spread_over_2s
  FROM report('own') r;

-- an announced spent budget: the next request waits for the reset, in all
-- three forms of the headers (each sync with its own credentials: a budget
-- is shared by the requests sending the same credentials to a host)
SELECT count(nango.pause_sync(nango.add_sync(mock('/rl/spent?id=' || s || '&style=' || s || '&reset=3'),
  ('{"auto_mapping": false, "retries": 0, "headers": {"Authorization": "Bearer ' || s || '"}, '
   || :'paging' || '}')::jsonb))) AS added
  FROM (VALUES ('x'), ('xs'), ('ietf')) v(s);
SELECT s AS style, (run(id)).status,
       (SELECT count(*) FROM nango.raw WHERE sync_id = id) AS records
  FROM (VALUES ('x'), ('xs'), ('ietf')) v(s)
  JOIN nango.syncs ON url LIKE '%style=' || s || '&%' ORDER BY 1;
SELECT s AS style, r->'statuses' AS statuses, r->'early' AS early,
       (r->'times'->>1)::float8 - (r->'times'->>0)::float8 >= 2 AS waited
  FROM (VALUES ('x'), ('xs'), ('ietf')) v(s), report(s) r ORDER BY 1;

-- a reset beyond nango.max_rate_limit_wait [15min] fails the job, and the
-- request is not sent
SELECT nango.add_sync(mock('/rl/spent?id=far&style=ietf&reset=3600'),
  ('{"auto_mapping": false, "retries": 0, "headers": {"X-Api-Key": "far-key"}, '
   || :'paging' || '}')::jsonb) AS sid \gset
SELECT nango.pause_sync(:sid);
SELECT * FROM run(:sid);
SELECT jsonb_array_length(r->'times') AS requests FROM report('far') r;
-- the setting is honoured: at 2 s, a reset 3 s ahead fails the job too
SET nango.max_rate_limit_wait = '2s';
SELECT nango.add_sync(mock('/rl/spent?id=short&style=xs&reset=3'),
  ('{"auto_mapping": false, "retries": 0, "headers": {"X-Api-Key": "short-key"}, '
   || :'paging' || '}')::jsonb) AS sid \gset
SELECT nango.pause_sync(:sid);
SELECT * FROM run(:sid);
RESET nango.max_rate_limit_wait;
-- other credentials to the same host have their own budget: not blocked
SELECT jsonb_array_length(r->'times') AS requests FROM report('short') r;

SET client_min_messages = warning;
DROP EXTENSION nango CASCADE;
