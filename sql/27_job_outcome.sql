-- Nothing is lost silently (docs/tables.md, docs/sync-modes.md): duplicate keys are
-- counted, skipped records are named in warnings, a job in which no record
-- had a usable key fails with a hint naming the key path the records have,
-- and the job row says what started it.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS nango CASCADE;
RESET client_min_messages;
CREATE EXTENSION nango;
SET nango.log_level = error;

\i test/sql/engine_helpers.sql
-- the last job of a sync, without ids, timestamps or the mock's port
CREATE FUNCTION last_job(sid bigint) RETURNS TABLE (
  status text, trigger text, fetched bigint, added bigint, unchanged bigint,
  skipped bigint, duplicate_count bigint, warnings text[], error_message text,
  error_detail text)
LANGUAGE sql AS $$
  SELECT status, trigger, fetched_count, added_count, unchanged_count, skipped_count,
         duplicate_count, warnings, error_message, unport(error_detail)
    FROM nango.jobs WHERE sync_id = sid ORDER BY id DESC LIMIT 1 $$;
\x on
SELECT mock_get('/__reset');

-- A key that every record has under another spelling: the job fails (it
-- would store nothing) and the hint names the key path the records have.
SELECT add_paused(mock('/outcome/issues?n=3'), '{"friendly_name": "wrong key",
  "response_path": "items", "unique_key": "ID", "paging_cursor_request_path": "cursor",
  "paging_cursor_metadata_response_path": "next"}') AS wrong \gset
SELECT run_quiet(:wrong);
SELECT * FROM last_job(:wrong);
SELECT count(*) AS rows FROM nango.raw WHERE sync_id = :wrong;
-- a nested key is suggested by its dot path
SELECT nango.update_sync(:wrong, '{"unique_key": "user.Login"}');
SELECT run_quiet(:wrong);
SELECT error_message, error_detail FROM last_job(:wrong);

-- A key whose value is an object in every record: no usable value at all.
SELECT nango.update_sync(:wrong, '{"unique_key": "user"}');
SELECT run_quiet(:wrong);
SELECT error_message, error_detail FROM last_job(:wrong);

-- GitHub-like issues with unique_key user.login: 87 issues by 7 users.  The
-- job succeeds, keeps each user's last issue and counts the 80 others as
-- duplicates, in the job row, its warnings and a WARNING to the caller.
SELECT add_paused(mock('/outcome/issues?n=87&users=7'), '{"friendly_name": "issues by user",
  "response_path": "items", "unique_key": "user.login", "paging_cursor_request_path": "cursor",
  "paging_cursor_metadata_response_path": "next"}') AS dup \gset
SELECT nango.run_sync(:dup) > 0 AS ran;
SELECT * FROM last_job(:dup);
-- the last version of each key is the one kept, in nango.raw and the mapped table
SELECT string_agg(unique_key || '=' || (data->>'number'), ', ' ORDER BY unique_key) AS kept
  FROM nango.raw WHERE sync_id = :dup;
SELECT string_agg(user_login || '=' || number, ', ' ORDER BY user_login) AS mapped
  FROM nango._nango_sync_:dup;
-- run again: the same 7 keys, the 80 duplicates counted again (each key's
-- earlier issues are written on the way to its last one: updated)
SELECT nango.run_sync(:dup) > 0 AS ran;
SELECT status, added, (SELECT updated_count FROM nango.jobs WHERE sync_id = :dup
                       ORDER BY id DESC LIMIT 1) AS updated, duplicate_count, warnings
  FROM last_job(:dup);

-- Records without a usable key are skipped, each kind named in warnings.
SELECT add_paused(mock('/outcome/keys'), '{"friendly_name": "some keys",
  "response_path": "data", "unique_key": "id", "auto_mapping": false}') AS some \gset
SELECT nango.run_sync(:some) > 0 AS ran;
SELECT * FROM last_job(:some);

-- A clean upsert job has no warnings and no duplicates.
SELECT add_paused(mock('/outcome/issues?n=5'), '{"response_path": "items",
  "unique_key": "id", "paging_cursor_request_path": "cursor",
  "paging_cursor_metadata_response_path": "next"}') AS clean \gset
SELECT nango.run_sync(:clean) > 0 AS ran;
SELECT status, trigger, added, duplicate_count, warnings FROM last_job(:clean);

-- Values that do not fit their column are named in warnings too.
SELECT add_paused(mock('/outcome/mismatch'), '{"friendly_name": "mismatch",
  "mapped_table": "outcome_mismatch", "response_path": "data", "unique_key": "id", "paging_cursor_request_path": "cursor",
  "paging_cursor_metadata_response_path": "next"}') AS mis \gset
SELECT nango.run_sync(:mis) > 0 AS ran;
SELECT status, added, (SELECT mismatch_count FROM nango.jobs WHERE sync_id = :mis) AS mismatch,
       warnings
  FROM last_job(:mis);

-- \u0000 replaced by U+FFFD.
SELECT add_paused(mock('/faults/nul'), '{"friendly_name": "nul",
  "response_path": "data", "auto_mapping": false}') AS nul \gset
SELECT nango.run_sync(:nul) > 0 AS ran;
SELECT status, warnings FROM last_job(:nul);

-- A failed job has no warnings: what they were about was rolled back.
SELECT nango.update_sync(:dup, '{"unique_key": "nothing"}');
SELECT run_quiet(:dup);
SELECT status, duplicate_count, warnings, error_message FROM last_job(:dup);

-- Every job of run_sync says trigger 'manual'.
SELECT DISTINCT trigger FROM nango.jobs;
\x off

-- Clean up: the mapped tables, and the helpers.
SET client_min_messages = warning;
SELECT count(nango.delete_sync(id, true)) AS deleted FROM nango.syncs;
RESET client_min_messages;
DROP FUNCTION last_job(bigint);
DROP FUNCTION sync_once(text, jsonb);
DROP FUNCTION run_quiet(bigint);
DROP FUNCTION mock_requests(text, text);
DROP FUNCTION unport(text);
DROP FUNCTION mock_get(text);
DROP FUNCTION mock(text);
DROP FUNCTION add_paused(text, jsonb);
