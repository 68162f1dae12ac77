-- A mapped table that lost every row of its sync (dropped, or emptied by
-- its owner) gets them back from nango.raw at the sync's next job, also
-- the records that did not change upstream; a table that still has rows
-- of the sync is left as it is.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS nango CASCADE;
RESET client_min_messages;
CREATE EXTENSION nango;
SET nango.log_level = warning;
SELECT setval('nango.syncs_id_seq', 6800, false);

\i test/sql/engine_helpers.sql
SELECT mock_get('/__reset');

-- runs the sync, shows its job (no ids or timestamps)
CREATE FUNCTION pg_temp.run(sid bigint) RETURNS TABLE (status text, added bigint,
  updated bigint, unchanged bigint, deleted bigint, warnings text[]) LANGUAGE plpgsql
  SET client_min_messages = error AS $$
DECLARE jid bigint;
BEGIN
  jid := nango.run_sync(sid);
  RETURN QUERY SELECT j.status, j.added_count, j.updated_count, j.unchanged_count,
    j.deleted_count, j.warnings FROM nango.jobs j WHERE j.id = jid;
END $$;

SELECT add_paused(mock('/hubspot/crm/v3/objects/contacts?limit=3'),
  '{"response_path": "results", "unique_key": "id", "paging_cursor_request_path": "after",
    "paging_cursor_metadata_response_path": "paging.next.after",
    "headers": {"Authorization": "Bearer t"}, "mapped_table": "restore_contacts"}') AS sid \gset
SELECT * FROM pg_temp.run(:sid);
SELECT count(*) FROM nango.restore_contacts;

-- the owner empties the table: the next job, with nothing changed
-- upstream, writes every row again, with the values a first job wrote
CREATE TEMP TABLE before AS SELECT * FROM nango.restore_contacts;
DELETE FROM nango.restore_contacts;
SELECT * FROM pg_temp.run(:sid);
SELECT count(*) AS differ FROM (
  (SELECT id, properties_email, properties_createdate, "createdAt", archived, _nango_unique_key,
          _nango_sync_id FROM before
   EXCEPT SELECT id, properties_email, properties_createdate, "createdAt", archived,
          _nango_unique_key, _nango_sync_id FROM nango.restore_contacts)
  UNION ALL
  (SELECT id, properties_email, properties_createdate, "createdAt", archived, _nango_unique_key,
          _nango_sync_id FROM nango.restore_contacts
   EXCEPT SELECT id, properties_email, properties_createdate, "createdAt", archived,
          _nango_unique_key, _nango_sync_id FROM before)) d;

-- the table is dropped: created again and filled
DROP TABLE nango.restore_contacts;
SELECT * FROM pg_temp.run(:sid);
SELECT count(*), count(DISTINCT _nango_unique_key) FROM nango.restore_contacts;

-- one row gone, the others there: nothing is restored (a row the owner
-- deleted comes back when its record changes upstream)
DELETE FROM nango.restore_contacts WHERE id = '51';
SELECT * FROM pg_temp.run(:sid);
SELECT count(*) FROM nango.restore_contacts;

-- a record deleted upstream (delete_mode soft) is not brought back: only
-- live rows of nango.raw are restored, and the job's own changes apply
SELECT nango.update_sync(:sid, '{"delete_mode": "soft"}');
SELECT nango.pause_sync(:sid);
SELECT mock_get('/hubspot/__dataset?name=v2');
SELECT * FROM pg_temp.run(:sid);
DELETE FROM nango.restore_contacts;
SELECT * FROM pg_temp.run(:sid);
SELECT id, properties_lastname, _nango_deleted_at IS NOT NULL AS deleted
  FROM nango.restore_contacts ORDER BY id;
SELECT mock_get('/__reset');

DROP EXTENSION nango CASCADE;
DROP FUNCTION run_quiet(bigint);
DROP FUNCTION sync_once(text, jsonb);
DROP FUNCTION mock_requests(text, text);
DROP FUNCTION unport(text);
DROP FUNCTION mock_get(text);
DROP FUNCTION mock(text);
DROP FUNCTION add_paused(text, jsonb);
