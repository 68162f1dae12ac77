-- A Retry-After above the cap (60 s) is waited for up to the cap, then the
-- request is retried (the retry counts toward "retries").  Slow: one minute.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS nango CASCADE;
RESET client_min_messages;
CREATE EXTENSION nango;
SET nango.log_level = warning;
SELECT nango.add_sync(current_setting('nango_test.mock_url') || '/edge/ratelimit?id=cap',
  '{"response_path": "data", "retries": 1, "auto_mapping": false}') AS sid \gset
SELECT nango.pause_sync(:sid);
SELECT clock_timestamp() AS t0 \gset
SELECT nango.run_sync(:sid) > 0 AS ran;
SELECT clock_timestamp() - :'t0' >= interval '59 seconds' AS waited_the_cap,
       clock_timestamp() - :'t0' < interval '120 seconds' AS not_longer;
SELECT status, page_count, fetched_count, error_message FROM nango.jobs WHERE sync_id = :sid;
-- with no retries left, the 429 fails the job at once
SELECT nango.add_sync(current_setting('nango_test.mock_url') || '/edge/ratelimit?id=none',
  '{"response_path": "data", "retries": 0, "auto_mapping": false}') AS sid2 \gset
SELECT nango.pause_sync(:sid2);
SELECT clock_timestamp() AS t1 \gset
SET client_min_messages = error;
SELECT nango.run_sync(:sid2) > 0 AS ran;
RESET client_min_messages;
SELECT clock_timestamp() - :'t1' < interval '10 seconds' AS at_once;
SELECT status, regexp_replace(error_message, '127\.0\.0\.1:[0-9]+', 'mock') AS error_message
  FROM nango.jobs WHERE sync_id = :sid2;
SET client_min_messages = warning;
DROP EXTENSION nango CASCADE;
