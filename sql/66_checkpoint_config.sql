-- The checkpoint config key (docs/config.md#checkpoint): a boolean, for
-- upsert syncs only (refused with overwrite mode, with a hint), child
-- syncs included; nango.checkpoint_interval is at least one second.  A
-- checkpoint of a sync goes when its config changes.
SET client_min_messages = error;
CREATE EXTENSION IF NOT EXISTS nango;
RESET client_min_messages;
\set ON_ERROR_ROLLBACK on
\set SHOW_CONTEXT never
BEGIN;
-- A fresh copy of the extension (rolled back at the end): ids start at 1.
SET LOCAL client_min_messages = error;
DROP EXTENSION nango CASCADE;
DROP SCHEMA IF EXISTS nango CASCADE;
CREATE EXTENSION nango;
RESET client_min_messages;
-- pg_temp.try: runs a statement, showing the SQLSTATE of a refusal.
CREATE FUNCTION pg_temp.try(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  st text; msg text; hin text;
BEGIN
  EXECUTE stmt;
  RETURN 'accepted';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, hin = PG_EXCEPTION_HINT;
  RETURN st || ': ' || msg || CASE WHEN hin <> '' THEN E'\nHINT: ' || hin ELSE '' END;
END $$;

-- overwrite mode (no unique_key): refused, with a hint
SELECT pg_temp.try($$SELECT nango.add_sync('https://api.example.com/items', '{"checkpoint": true}')$$);
-- not a boolean
SELECT pg_temp.try($$SELECT nango.add_sync('https://api.example.com/items', '{"unique_key": "id", "checkpoint": "yes"}')$$);
-- upsert modes: accepted (false is accepted anywhere)
SELECT pg_temp.try($$SELECT nango.add_sync('https://api.example.com/items', '{"unique_key": "id", "checkpoint": true, "friendly_name": "parent"}')$$);
SELECT pg_temp.try($$SELECT nango.add_sync('https://api.example.com/other', '{"checkpoint": false}')$$);
SELECT config->'checkpoint' FROM nango.syncs ORDER BY id;
-- a child sync: accepted (it checkpoints between parent records)
SELECT pg_temp.try($$SELECT nango.add_sync('https://api.example.com/items/${parent.id}/notes', '{"unique_key": "id", "parent": {"sync": "parent"}, "checkpoint": true}')$$);
SELECT config->'checkpoint' FROM nango.syncs WHERE config ? 'parent';
-- update_sync to overwrite mode while checkpoint is on, or checkpoint on an overwrite sync
SELECT pg_temp.try($$SELECT nango.update_sync(1, '{"unique_key": null}')$$);
SELECT pg_temp.try($$SELECT nango.update_sync(2, '{"checkpoint": true}')$$);

-- a config change discards the sync's checkpoint
INSERT INTO nango.checkpoints (sync_id, job_id, config_hash, page, fetched, paging)
VALUES (1, 0, 'x', 10, 20, '{}');
SELECT count(*) FROM nango.checkpoints;
SELECT nango.update_sync(1, '{"max_total": 1000}');
SELECT count(*) FROM nango.checkpoints;
ROLLBACK;

-- nango.checkpoint_interval: 30 seconds unless set, at least 1 second
SHOW nango.checkpoint_interval;
ALTER SYSTEM SET nango.checkpoint_interval = 0;
ALTER SYSTEM SET nango.checkpoint_interval = '500ms';
