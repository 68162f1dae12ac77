-- Pages of new rows go into mapped tables without an INSERT statement only
-- when that is the same as the INSERT; everything else takes the INSERT:
-- triggers fire, defaults of user columns apply, constraints hold,
-- existing keys are updated, rows too big are skipped one by one.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS nango;
RESET client_min_messages;
SET TimeZone = 'UTC';
-- plain table: new keys inserted, then a page with a known key updates it
SELECT * FROM nango._map_records(6201, NULL, NULL, 1,
  ARRAY['{"id": 1, "v": "a"}', '{"id": 2, "v": "b"}']::jsonb[], ARRAY['1', '2']);
SELECT * FROM nango._map_records(6201, NULL, NULL, 2,
  ARRAY['{"id": 2, "v": "b2"}', '{"id": 3, "v": "c"}']::jsonb[], ARRAY['2', '3']);
SELECT _nango_id, _nango_job_id, _nango_unique_key, id, v, _nango_deleted_at IS NULL AS live
  FROM nango._nango_sync_6201 ORDER BY _nango_unique_key;
-- a trigger on the mapped table fires for every row
CREATE TABLE trig_log (k text);
CREATE FUNCTION log_row() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN INSERT INTO trig_log VALUES (NEW._nango_unique_key); RETURN NEW; END $$;
CREATE TRIGGER t AFTER INSERT ON nango._nango_sync_6201 FOR EACH ROW EXECUTE FUNCTION log_row();
SELECT * FROM nango._map_records(6201, NULL, NULL, 3,
  ARRAY['{"id": 4, "v": "d"}', '{"id": 5, "v": "e"}']::jsonb[], ARRAY['4', '5']);
SELECT k FROM trig_log ORDER BY k;
DROP TRIGGER t ON nango._nango_sync_6201;
-- a column the user added, with a default: the default applies
ALTER TABLE nango._nango_sync_6201 ADD COLUMN note text DEFAULT 'user default';
SELECT * FROM nango._map_records(6201, NULL, NULL, 4, ARRAY['{"id": 6, "v": "f"}']::jsonb[], ARRAY['6']);
SELECT _nango_unique_key, v, note FROM nango._nango_sync_6201 WHERE _nango_unique_key = '6';
ALTER TABLE nango._nango_sync_6201 DROP COLUMN note;
-- a CHECK constraint and a NOT NULL the user added still hold
ALTER TABLE nango._nango_sync_6201 ADD CONSTRAINT v_short CHECK (length(v) < 3);
\set VERBOSITY terse
SELECT * FROM nango._map_records(6201, NULL, NULL, 5, ARRAY['{"id": 7, "v": "too long"}']::jsonb[], ARRAY['7']);
ALTER TABLE nango._nango_sync_6201 DROP CONSTRAINT v_short;
ALTER TABLE nango._nango_sync_6201 ALTER COLUMN v SET NOT NULL;
SELECT * FROM nango._map_records(6201, NULL, NULL, 6, ARRAY['{"id": 8}']::jsonb[], ARRAY['8']);
\set VERBOSITY default
ALTER TABLE nango._nango_sync_6201 ALTER COLUMN v DROP NOT NULL;
-- a dropped column, and a row too big for the index: skipped, the others kept
ALTER TABLE nango._nango_sync_6201 ADD COLUMN gone int;
ALTER TABLE nango._nango_sync_6201 DROP COLUMN gone;
SELECT * FROM nango._map_records(6201, NULL, NULL, 7,
  ARRAY['{"id": 9, "v": "i"}', '{"id": 10, "v": "j"}']::jsonb[], ARRAY['9', '10']);
CREATE INDEX v_idx ON nango._nango_sync_6201 (v);
SELECT * FROM nango._map_records(6201, NULL, NULL, 8,
  ARRAY['{"id": 11, "v": "k"}', jsonb_build_object('id', 12, 'v', (SELECT string_agg(md5(i::text), '') FROM generate_series(1, 300) i))]::jsonb[],
  ARRAY['11', '12']);
SELECT _nango_unique_key, length(v) FROM nango._nango_sync_6201 WHERE _nango_job_id >= 7 ORDER BY _nango_unique_key;
SELECT count(*) AS rows, count(DISTINCT _nango_id) AS ids FROM nango._nango_sync_6201;
SELECT nango._map_drop(6201, NULL);
DROP TABLE trig_log;
DROP FUNCTION log_row();
