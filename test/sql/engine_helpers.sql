-- Helpers shared by the engine's pg_regress tests (included with \i).
-- adds a sync, paused so that only run_sync runs it (not the worker)
CREATE FUNCTION add_paused(url text, config jsonb) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE sid bigint;
BEGIN
  sid := nango.add_sync(url, config);
  PERFORM nango.pause_sync(sid);
  RETURN sid;
END $$;
CREATE FUNCTION mock(path text) RETURNS text LANGUAGE sql
  AS $$ SELECT current_setting('nango_test.mock_url') || path $$;
-- calls a control URL of the mock through a throwaway sync
CREATE FUNCTION mock_get(path text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE sid bigint;
BEGIN
  sid := add_paused(mock(path), '{"auto_mapping": false}');
  PERFORM nango.run_sync(sid);
  DELETE FROM nango.syncs WHERE id = sid;
END $$;
-- the query strings (or bodies) the mock received for a path, oldest first
CREATE FUNCTION mock_requests(path text, what text DEFAULT 'query') RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE sid bigint;
BEGIN
  sid := add_paused(mock('/__requests?path=' || path), '{"auto_mapping": false}');
  PERFORM nango.run_sync(sid);
  RETURN QUERY SELECT r.data->>what FROM nango.raw r WHERE r.sync_id = sid ORDER BY r.id;
  DELETE FROM nango.syncs WHERE id = sid;
END $$;
CREATE FUNCTION unport(t text) RETURNS text LANGUAGE sql
  AS $$ SELECT regexp_replace(t, '127\.0\.0\.1:[0-9]+', 'mock', 'g') $$;
-- adds a sync (no mapping), runs it once, shows the job (WARNINGs hidden:
-- their text has the mock's port; the job row shows the error instead)
CREATE FUNCTION sync_once(path text, config jsonb,
  OUT sync_id bigint, OUT status text, OUT pages bigint, OUT fetched bigint,
  OUT added bigint, OUT updated bigint, OUT unchanged bigint, OUT skipped bigint,
  OUT error text)
LANGUAGE plpgsql SET client_min_messages = error AS $$
DECLARE jid bigint;
BEGIN
  PERFORM mock_get('/__reset');
  sync_id := add_paused(mock(path), '{"auto_mapping": false}'::jsonb || config);
  jid := nango.run_sync(sync_id);
  SELECT j.status, j.page_count, j.fetched_count, j.added_count, j.updated_count,
         j.unchanged_count, j.skipped_count, unport(j.error_message)
    INTO status, pages, fetched, added, updated, unchanged, skipped, error
    FROM nango.jobs j WHERE j.id = jid;
END $$;
-- runs a sync quietly (see sync_once); returns the job's status
CREATE FUNCTION run_quiet(sid bigint) RETURNS text LANGUAGE plpgsql
  SET client_min_messages = error AS $$
DECLARE jid bigint;
BEGIN
  jid := nango.run_sync(sid);
  RETURN (SELECT status FROM nango.jobs WHERE id = jid);
END $$;
