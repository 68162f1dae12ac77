-- Secrets that an API echoes back in another form than they were sent are
-- redacted too: JSON-escaped (\/, \u002b, every character as \u00XX),
-- percent-encoded (%2F or %2f, + for a space) and base64 (the token alone,
-- or in a Basic header with a user name in front, either alphabet).
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS nango CASCADE;
RESET client_min_messages;
CREATE EXTENSION nango;
SET nango.log_level = warning;
\i test/sql/engine_helpers.sql
CREATE FUNCTION creds() RETURNS jsonb LANGUAGE sql
  AS $$ SELECT '{"response_path": "data", "retries": 0, "headers":
    {"Authorization": "Bearer ya29.a0/Abc+def==xyz", "X-Api-Key": "xk/S3CRET+two words"}}'::jsonb $$;
-- the forms /scope/echo writes the two header values in
CREATE FUNCTION forms(OUT form text, OUT written text) RETURNS SETOF record LANGUAGE sql AS $$
  VALUES ('json \/ and \u002b', 'ya29.a0\/Abc\u002bdef==xyz'),
         ('json, every character', '\u0078\u006b\u002f\u0053\u0033\u0043\u0052\u0045\u0054\u002B\u0074\u0077\u006f\u0020\u0077\u006f\u0072\u0064\u0073'),
         ('percent, + for space', 'Bearer+ya29.a0%2FAbc%2Bdef%3D%3Dxyz'),
         ('percent, lower case', 'xk%2fS3CRET%2btwo%20words'),
         ('base64', 'eWEyOS5hMC9BYmMrZGVmPT14eXo='),
         ('base64 of someone:token', 'c29tZW9uZTp5YTI5LmEwL0FiYytkZWY9PXh5eg=='),
         ('base64url', 'eGsvUzNDUkVUK3R3byB3b3Jkcw') $$;

-- The API's answer holds every form (as a record, which is data: stored as
-- is, JSON escapes decoded by jsonb).
SELECT status, error FROM sync_once('/scope/echo?ok=1', creds());
SELECT f.form, strpos(r.data::text, f.written) > 0 AS in_answer
  FROM forms() f, nango.raw r WHERE r.sync_id = (SELECT max(id) FROM nango.syncs)
  AND f.form !~ '^json';
SELECT r.data->>'auth_json' AS auth_json, r.data->>'key_json' AS key_json
  FROM nango.raw r WHERE r.sync_id = (SELECT max(id) FROM nango.syncs);

-- The same answer as an error: the job row shows none of them.
SELECT sync_id AS sid, status, error FROM sync_once('/scope/echo', creds()) \gset
SELECT :'status' AS status, :'error' AS error;
SELECT unport(error_detail) AS detail FROM nango.jobs WHERE sync_id = :sid;
SELECT f.form, strpos(j.error_message || j.error_detail, f.written) > 0 AS leaked
  FROM forms() f, nango.jobs j WHERE j.sync_id = :sid;
-- nor a piece of the secrets
SELECT count(*) AS pieces FROM nango.jobs j
  WHERE j.sync_id = :sid AND (j.error_detail ~ 'ya29|Abc|S3CRET|two|words' OR j.error_detail ~ 'xyz');

-- A Basic header: its user:password and the password are secrets too, in
-- every form.
SELECT sync_id AS sid2 FROM sync_once('/scope/echo', '{"response_path": "data", "retries": 0,
  "headers": {"Authorization": "Basic dXNlcjpwYXNzLVMzQ1JFVA=="}}') \gset
SELECT unport(error_detail) AS detail FROM nango.jobs WHERE sync_id = :sid2;

-- Texts without secrets are left alone.
SELECT sync_id AS sid3 FROM sync_once('/faults/status?code=400', '{"response_path": "data", "retries": 0,
  "headers": {"X-Api-Key": "unrelated-S3CRET"}}') \gset
SELECT unport(error_detail) AS detail FROM nango.jobs WHERE sync_id = :sid3;

DROP EXTENSION nango CASCADE;
DROP FUNCTION forms();
DROP FUNCTION creds();
DROP FUNCTION sync_once(text, jsonb);
DROP FUNCTION run_quiet(bigint);
DROP FUNCTION mock_requests(text, text);
DROP FUNCTION unport(text);
DROP FUNCTION mock_get(text);
DROP FUNCTION mock(text);
DROP FUNCTION add_paused(text, jsonb);
