-- Secrets live apart from configs (docs/security.md): nango.set_secret and
-- nango.drop_secret keep a role's secrets; ${secret:name} in the URL,
-- headers, query_params and body is replaced when a request is made, from
-- the sync owner's secrets, in the form each place needs; nobody reads a
-- value back through SQL; values never reach nango.jobs.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS nango CASCADE;
DROP ROLE IF EXISTS nango_test_sec_alice;
DROP ROLE IF EXISTS nango_test_sec_bob;
RESET client_min_messages;
CREATE EXTENSION nango;
SET nango.log_level = warning;
CREATE ROLE nango_test_sec_alice;
CREATE ROLE nango_test_sec_bob;
CREATE FUNCTION mock(path text) RETURNS text LANGUAGE sql
  AS $$ SELECT current_setting('nango_test.mock_url') || path $$;
-- the requests the mock received for a path (oldest first), as JSON; the
-- path is a query parameter: its % are written %25
CREATE FUNCTION mock_log(path text) RETURNS SETOF jsonb
LANGUAGE plpgsql AS $$
DECLARE sid bigint;
BEGIN
  sid := nango.add_sync(mock('/__requests?path=' || path), '{"auto_mapping": false}');
  PERFORM nango.run_sync(sid);
  RETURN QUERY SELECT r.data FROM nango.raw r WHERE r.sync_id = sid ORDER BY r.id;
  DELETE FROM nango.syncs WHERE id = sid;
END $$;
CREATE FUNCTION mock_reset() RETURNS void LANGUAGE plpgsql AS $$
DECLARE sid bigint;
BEGIN
  sid := nango.add_sync(mock('/__reset'), '{"auto_mapping": false}');
  PERFORM nango.run_sync(sid);
  DELETE FROM nango.syncs WHERE id = sid;
END $$;
-- runs a sync once (WARNINGs hidden: the job row shows the error)
CREATE FUNCTION run(sid bigint, OUT status text, OUT error text)
LANGUAGE plpgsql SET client_min_messages = error AS $$
DECLARE jid bigint;
BEGIN
  jid := nango.run_sync(sid);
  SELECT j.status, j.error_message INTO status, error FROM nango.jobs j WHERE j.id = jid;
END $$;
GRANT EXECUTE ON FUNCTION run(bigint) TO PUBLIC;
\set VERBOSITY default

-- Names are identifiers of at most 63 bytes; values are not null and have
-- at least 4 bytes.
SET ROLE nango_test_sec_alice;
SELECT nango.set_secret('bad-name', 'abcdef');
SELECT nango.set_secret('1abc', 'abcdef');
SELECT nango.set_secret('', 'abcdef');
SELECT nango.set_secret(repeat('a', 64), 'abcdef');
SELECT nango.set_secret(NULL, 'abcdef');
SELECT nango.set_secret('gh', NULL);
SELECT nango.set_secret('gh', 'abc');
SELECT nango.set_secret(repeat('a', 63), 'abcdef');
SELECT nango.drop_secret(repeat('a', 63));

-- set_secret replaces a secret of the same name.  The value has characters
-- that need escaping in a URL, a query and JSON.
SELECT nango.set_secret('gh', 'first-value');
SELECT nango.set_secret('gh', 'S3cr/+ &=?#"\%');
SELECT nango.set_secret('other_1', 'other-S3cr');
SELECT owner, name, created_at <= updated_at AS dates FROM nango.secrets ORDER BY name;

-- Nobody reads a value back through SQL, its owner included.
SELECT value FROM nango.secrets;
SELECT * FROM nango.secret_values;

-- A reference to a secret the owner does not have, or a malformed one, is
-- refused.
SELECT nango.add_sync(mock('/secrets/echo'), '{"headers": {"X-Key": "${secret:missing}"}}');
SELECT nango.add_sync(mock('/secrets/echo'), '{"query_params": {"k": "${secret:bad-name}"}}');
SELECT nango.add_sync(mock('/secrets/echo?k=${secret:missing}'), '{}');
SELECT nango.add_sync(mock('/secrets/echo'), '{"method": "POST", "body": {"a": ["${secret:missing}"]}}');

-- The secret in the URL's path and query, a header (inside a value),
-- query_params and the body at any depth.
SELECT nango.add_sync(mock('/secrets/echo/${secret:gh}/x?k=${secret:gh}'),
  '{"friendly_name": "uses gh", "auto_mapping": false, "response_path": "data", "method": "POST",
    "headers": {"Authorization": "Bearer ${secret:gh}", "X-Other": "${secret:other_1}"},
    "query_params": {"q": "${secret:gh}", "unknown": "${other.id}"},
    "body": {"a": {"b": ["x ${secret:gh} y", 1]}, "k": "${secret:gh}"}}') AS sid \gset
-- the stored config holds only the references
SELECT regexp_replace(url, '127\.0\.0\.1:[0-9]+', 'mock') AS url, config->'headers' AS headers
  FROM nango.syncs WHERE id = :sid;
RESET ROLE;
SELECT mock_reset();
SET ROLE nango_test_sec_alice;
SELECT * FROM run(:sid);
RESET ROLE;
SELECT data->>'path' AS path, data->>'query' AS query,
       data->'headers'->>'authorization' AS authorization, data->'headers'->>'x-other' AS x_other,
       (data->>'body')::jsonb->'a'->'b'->>0 AS body_b0, (data->>'body')::jsonb->>'k' AS body_k
  FROM mock_log('/secrets/echo/S3cr%252F%252B%2520%2526%253D%253F%2523%2522%255C%2525/x') AS r(data);

-- A superuser's run_sync of alice's sync uses alice's secrets, not its own.
SELECT nango.set_secret('gh', 'superuser-value');
SELECT mock_reset();
SELECT * FROM run(:sid);
SELECT data->'headers'->>'authorization' AS authorization
  FROM mock_log('/secrets/echo/S3cr%252F%252B%2520%2526%253D%253F%2523%2522%255C%2525/x') AS r(data);
-- superusers see every role's names, and the values through the table
SELECT owner, name FROM nango.secrets ORDER BY owner::text, name;
SELECT owner, name, value FROM nango.secret_values ORDER BY owner::text, name;
SELECT nango.drop_secret('gh');

-- Another role sees neither the value nor the name of alice's secrets, and
-- cannot use them: ${secret:gh} means its own secret.
SET ROLE nango_test_sec_bob;
SELECT count(*) AS secrets_seen FROM nango.secrets;
SELECT count(*) FROM nango.secret_values;
SELECT nango.add_sync(mock('/secrets/echo'), '{"headers": {"X-Key": "${secret:gh}"}}');
SELECT nango.drop_secret('gh');
RESET ROLE;

-- A failing request that echoes the secret: nango.jobs shows REDACTED.
SET ROLE nango_test_sec_alice;
SELECT nango.add_sync(mock('/secrets/fail/${secret:gh}?k=${secret:gh}'),
  '{"friendly_name": "fails", "auto_mapping": false, "retries": 0, "method": "POST",
    "headers": {"X-Key": "${secret:gh}"}, "query_params": {"q": "${secret:gh}"},
    "body": {"k": "${secret:gh}"}}') AS fail_sid \gset
SELECT status FROM run(:fail_sid);
SELECT position('REDACTED' IN error_detail) > 0 AS redacted FROM nango.jobs WHERE sync_id = :fail_sid;
RESET ROLE;
SELECT count(*) AS jobs_with_secret FROM nango.jobs
 WHERE concat(error_message, error_detail, warnings::text) ~ 'S3cr';

-- update_sync checks the references too (of the owner's secrets).
SET ROLE nango_test_sec_alice;
SELECT nango.update_sync(:sid, '{"headers": {"X-Key": "${secret:missing}"}}');
RESET ROLE;
SELECT nango.update_sync(:sid, '{"headers": {"X-Key": "${secret:other_1}", "X-Missing": "${secret:nope}"}}');

-- drop_secret of a secret in use works, with a NOTICE naming the syncs;
-- their jobs then fail with a clear message.
SET ROLE nango_test_sec_alice;
SELECT nango.drop_secret('gh');
SELECT nango.drop_secret('gh');
SELECT * FROM run(:sid);
SELECT name FROM nango.secrets;
RESET ROLE;

DROP EXTENSION nango CASCADE;
DROP FUNCTION run(bigint);
DROP FUNCTION mock_log(text);
DROP FUNCTION mock_reset();
DROP FUNCTION mock(text);
DROP ROLE nango_test_sec_alice;
DROP ROLE nango_test_sec_bob;
