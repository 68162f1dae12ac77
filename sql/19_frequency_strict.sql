-- frequency is strict (docs/config.md): a number of minutes, <number> <unit>
-- pairs, HH:MM:SS or an ISO-8601 duration; everything else is refused,
-- however PostgreSQL's interval input would read it.  A sync stored before
-- (when '*/5 * * * *' was read as 5 seconds) keeps working.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS nango;
RESET client_min_messages;
\set ON_ERROR_ROLLBACK on
\set SHOW_CONTEXT never
\set VERBOSITY default
BEGIN;
DROP EXTENSION nango CASCADE;
CREATE EXTENSION nango;
SET LOCAL client_min_messages = notice;
-- pg_temp.freq: the stored interval of a sync added with that frequency,
-- or the SQLSTATE and message of the refusal
CREATE FUNCTION pg_temp.freq(f jsonb) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  sid bigint; st text; msg text; hin text;
BEGIN
  sid := nango.add_sync('https://api.example.com/items', jsonb_build_object('frequency', f));
  RETURN (SELECT frequency::text FROM nango.syncs WHERE id = sid);
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, hin = PG_EXCEPTION_HINT;
  RETURN st || ': ' || msg || CASE WHEN hin <> '' THEN E'\nHINT: ' || hin ELSE '' END;
END $$;

-- Accepted.
SELECT f, pg_temp.freq(f::jsonb) FROM (VALUES
  ('15'), ('0.5'), ('"30 seconds"'), ('"15 minutes"'), ('"1h"'), ('"1 hour 30 minutes"'),
  ('"1h30m"'), ('"2 days"'), ('"1.5 days"'), ('"1 week"'), ('"2 W"'), ('"90 s"'),
  ('"5 min"'), ('"1 sec"'), ('" 1 hour "'), ('"01:30:00"'), ('"PT15M"'), ('"P1D"'),
  ('"PT1H30M"'), ('"P1W"')) AS v(f);

-- Refused.
SELECT f, pg_temp.freq(f::jsonb) FROM (VALUES
  ('"*/5 * * * *"'), ('"0 * * * *"'), ('"1 day 2"'), ('"@ 3"'), ('"1.5"'), ('"90"'),
  ('"1 mon"'), ('"1 month"'), ('"1 year"'), ('"P1M"'), ('"P1Y"'), ('"1 hour ago"'),
  ('"1,5 hours"'), ('"1 hour, 30 minutes"'), ('"-1 hour"'), ('"hour"'), ('"0 s"'),
  ('"PT0.5S"'), ('"00:00:00"'), ('"25:61:00"'), ('"1:30"'), ('"@1 hour"'),
  ('"99999999999999999999 weeks"')) AS v(f);

-- update_sync checks a frequency it changes as strictly.
SELECT nango.add_sync('https://api.example.com/items', '{"frequency": 15}') AS sid \gset
SELECT nango.update_sync(:sid, '{"frequency": "*/5 * * * *"}');

-- A sync stored with a frequency that is now refused (as 0.2 accepted it)
-- keeps its schedule, and update_sync of other keys keeps working.
UPDATE nango.syncs SET config = '{"frequency": "*/5 * * * *"}', frequency = '5 seconds'
  WHERE id = :sid;
SELECT nango.update_sync(:sid, '{"friendly_name": "legacy"}');
SELECT config, frequency FROM nango.syncs WHERE id = :sid;
-- changing the frequency itself needs one of the forms above
SELECT nango.update_sync(:sid, '{"frequency": "1 day 2"}');
SELECT nango.update_sync(:sid, '{"frequency": "5 minutes"}');
SELECT config, frequency FROM nango.syncs WHERE id = :sid;

-- A job of a sync stored with such a frequency and a body with DELETE (as
-- 0.2 accepted them) runs as before.
\i test/sql/engine_helpers.sql
SELECT add_paused(mock('/outcome/keys'), '{"response_path": "data", "auto_mapping": false}') AS old \gset
UPDATE nango.syncs SET config = config || '{"frequency": "*/5 * * * *", "method": "DELETE", "body": {"q": 1}}'
  WHERE id = :old;
SELECT run_quiet(:old);
SELECT nango.update_sync(:old, '{"method": "GET"}');
ROLLBACK;
