-- Syncs by name: friendly_name is unique per owner, put_sync is the
-- idempotent add_sync, and every function that takes a sync id also takes
-- the caller's own sync's name.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS nango CASCADE;
DROP ROLE IF EXISTS names_alice;
DROP ROLE IF EXISTS names_bob;
RESET client_min_messages;
CREATE EXTENSION nango;
SET nango.log_level = warning;
\i test/sql/engine_helpers.sql
SELECT mock_get('/__reset');
-- pg_temp.try: runs a statement; shows the SQLSTATE and message of an error
CREATE FUNCTION pg_temp.try(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; msg text; hin text;
BEGIN
  EXECUTE stmt;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, hin = PG_EXCEPTION_HINT;
  RETURN st || ': ' || msg || CASE WHEN hin <> '' THEN E'\nHINT: ' || hin ELSE '' END;
END $$;

-- A name is unique per owner: a second sync of the same name is refused.
SELECT nango.add_sync(mock('/simple/items'),
  '{"friendly_name": "contacts", "response_path": "data", "unique_key": "id"}') AS contacts \gset
SELECT pg_temp.try($$SELECT nango.add_sync('https://api.example.com/other', '{"friendly_name": "contacts"}')$$);
-- also when update_sync would rename another sync to it
SELECT nango.add_sync('https://api.example.com/other', '{"friendly_name": "other"}') AS other \gset
SELECT pg_temp.try(format($$SELECT nango.update_sync(%s, '{"friendly_name": "contacts"}')$$, :other));
SELECT friendly_name FROM nango.syncs ORDER BY id;

-- Every function takes the name in place of the id.
SELECT nango.pause_sync('contacts');
SELECT status FROM nango.syncs WHERE id = :contacts;
SELECT nango.update_sync('contacts', '{"frequency": "2 hours"}');
SELECT frequency FROM nango.syncs WHERE id = :contacts;
SELECT nango.trigger_sync('contacts');
SELECT status, triggered_at IS NOT NULL AS triggered FROM nango.syncs WHERE id = :contacts;
SELECT nango.resume_sync('contacts');
SELECT status FROM nango.syncs WHERE id = :contacts;
SELECT nango.pause_sync('contacts');
SELECT nango.run_sync('contacts') > 0 AS ran;
SELECT status, fetched_count, added_count FROM nango.jobs WHERE sync_id = :contacts;
-- a name nobody has; a quoted id still names the id
SELECT pg_temp.try($$SELECT nango.pause_sync('no such sync')$$);
DO $$
BEGIN
  PERFORM nango.resume_sync((SELECT id::text FROM nango.syncs WHERE friendly_name = 'contacts'));
END $$;
SELECT status FROM nango.syncs WHERE id = :contacts;
-- a sync whose name is a number is found by its name first
SELECT nango.update_sync(:other, '{"friendly_name": "1"}');
SELECT nango.pause_sync('1');
SELECT friendly_name, status FROM nango.syncs WHERE id = :other;

-- put_sync: run twice, one sync; the second replaces url and config as a
-- whole (keys of the first that the second lacks are gone).
SELECT nango.put_sync('tickets', 'https://api.example.com/v1/tickets',
  '{"frequency": "1 hour", "unique_key": "id", "metadata": {"team": "a"}}') AS t1 \gset
SELECT nango.put_sync('tickets', 'https://api.example.com/v2/tickets',
  '{"frequency": "30 minutes"}') AS t2 \gset
SELECT :t1 = :t2 AS same_sync, count(*) AS syncs_named_tickets
  FROM nango.syncs WHERE friendly_name = 'tickets';
SELECT url, config, frequency FROM nango.syncs WHERE id = :t1;
-- the config may repeat the name, not name another
SELECT nango.put_sync('tickets', 'https://api.example.com/v2/tickets', '{"friendly_name": "tickets"}') = :t1 AS same;
SELECT pg_temp.try($$SELECT nango.put_sync('tickets', 'https://api.example.com/v2/tickets', '{"friendly_name": "other name"}')$$);
-- a bad config changes nothing
SELECT pg_temp.try($$SELECT nango.put_sync('tickets', 'https://api.example.com/v3/tickets', '{"frequency": "soon"}')$$) ~ '^22' AS refused;
SELECT url FROM nango.syncs WHERE id = :t1;
SELECT pg_temp.try($$SELECT nango.put_sync(NULL, 'https://api.example.com/x')$$);
SELECT pg_temp.try($$SELECT nango.put_sync('', 'https://api.example.com/x')$$);
-- the incremental state stays while the URL and the incremental keys stay,
-- and is forgotten when the URL changes (a different data set)
SELECT nango.put_sync('tickets', 'https://api.example.com/v2/tickets',
  '{"unique_key": "id", "incremental_cursor_path": "updated_at", "incremental_request_path": "since"}') = :t1 AS same;
UPDATE nango.syncs SET incremental_state = '{"cursor": 5}' WHERE id = :t1;
SELECT nango.put_sync('tickets', 'https://api.example.com/v2/tickets',
  '{"unique_key": "id", "incremental_cursor_path": "updated_at", "incremental_request_path": "since", "frequency": "2 hours"}') = :t1 AS same;
SELECT incremental_state FROM nango.syncs WHERE id = :t1;
SELECT nango.put_sync('tickets', 'https://api.example.com/v4/tickets',
  '{"unique_key": "id", "incremental_cursor_path": "updated_at", "incremental_request_path": "since", "frequency": "2 hours"}') = :t1 AS same;
SELECT incremental_state FROM nango.syncs WHERE id = :t1;

-- Names belong to their owner: bob may use alice's names for his own
-- syncs, and a name never finds another role's sync.
CREATE ROLE names_alice;
CREATE ROLE names_bob;
SET ROLE names_alice;
SELECT nango.put_sync('contacts', 'https://api.example.com/alice', '{"auto_mapping": false}') AS alice_contacts \gset
SET ROLE names_bob;
SELECT nango.put_sync('contacts', 'https://api.example.com/bob', '{"auto_mapping": false}') AS bob_contacts \gset
SELECT :alice_contacts <> :bob_contacts AS distinct_syncs;
SELECT nango.pause_sync('contacts');
RESET ROLE;
SELECT s.owner, unport(s.url) AS url, s.status FROM nango.syncs s
 WHERE friendly_name = 'contacts' ORDER BY s.owner::text COLLATE "C", s.id;
SET ROLE names_bob;
-- bob's delete by name deletes his own sync only
SELECT nango.delete_sync('contacts');
SELECT pg_temp.try($$SELECT nango.delete_sync('contacts')$$);
RESET ROLE;
SELECT s.owner, unport(s.url) AS url FROM nango.syncs s WHERE friendly_name = 'contacts' ORDER BY s.id;

-- delete_sync by name, with drop_data
SELECT nango.delete_sync('contacts', true);
SELECT count(*) FROM nango.syncs WHERE id = :contacts;
SELECT to_regclass('nango._nango_sync_' || :contacts) AS mapped_table_dropped;

SET client_min_messages = warning;
DROP EXTENSION nango CASCADE;
DROP OWNED BY names_alice, names_bob;
DROP ROLE names_alice;
DROP ROLE names_bob;
DROP FUNCTION sync_once(text, jsonb);
DROP FUNCTION run_quiet(bigint);
DROP FUNCTION mock_requests(text, text);
DROP FUNCTION unport(text);
DROP FUNCTION mock_get(text);
DROP FUNCTION mock(text);
DROP FUNCTION add_paused(text, jsonb);
