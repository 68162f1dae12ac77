-- update_sync, pause_sync, resume_sync, trigger_sync, delete_sync (README.md): their effect on nango.syncs, nango.jobs, nango.raw and mapped
-- tables.  One transaction, rolled back at the end, so nothing is ever
-- scheduled; now() is the same for the whole test.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS nango;
RESET client_min_messages;
\set ON_ERROR_ROLLBACK on
\set VERBOSITY default
BEGIN;
-- A fresh copy of the extension (rolled back at the end): ids start at 1.
DROP EXTENSION nango CASCADE;
CREATE EXTENSION nango;
SET LOCAL client_min_messages = notice;
CREATE VIEW pg_temp.s AS
  SELECT id, config, friendly_name, status, frequency, cron,
         CASE WHEN next_run_at = now() THEN 'now'
              ELSE to_char(next_run_at - now(), 'FMDD"d" HH24:MI:SS') END AS next_run,
         triggered_at = now() AS triggered_now, updated_at = now() AS updated_now,
         replace(mapped_table, id::text, '<id>') AS mapped_table,
         incremental_state
    FROM nango.syncs;

------------------------------------------------------------ update_sync
SELECT nango.add_sync('https://api.example.com/contacts',
  '{"frequency": 15, "unique_key": "id", "headers": {"Accept": "application/json"},
    "pizzly_connection_id": "user1", "pizzly_provider_config_key": "hubspot"}') AS id \gset
-- Pretend the sync has run: the next run is in 10 minutes, last change a day ago.
UPDATE nango.syncs SET next_run_at = now() + interval '10 minutes',
                       updated_at = now() - interval '1 day',
                       incremental_state = '{"cursor": 5}' WHERE id = :id;
SELECT config, frequency, next_run, updated_now FROM pg_temp.s WHERE id = :id;

-- Keys are merged; a key set to null is removed; method is normalized.
-- The schedule is unchanged, so next_run_at is too; updated_at moves.
SELECT nango.update_sync(:id, '{"method": "post", "headers": null, "friendly_name": "Contacts"}');
SELECT config, friendly_name, frequency, next_run, updated_now FROM pg_temp.s WHERE id = :id;

-- Nested objects are replaced as a whole, not merged.
SELECT nango.update_sync(:id, '{"headers": {"X-A": "1"}}');
SELECT nango.update_sync(:id, '{"headers": {"X-B": "2"}}');
SELECT config->'headers' AS headers FROM nango.syncs WHERE id = :id;

-- The same frequency written differently is no schedule change.
SELECT nango.update_sync(:id, '{"frequency": "15 minutes"}');
SELECT frequency, next_run FROM pg_temp.s WHERE id = :id;

-- A longer frequency keeps the pending run (the earlier of the two) ...
SELECT nango.update_sync(:id, '{"frequency": "2 hours"}');
SELECT frequency, next_run FROM pg_temp.s WHERE id = :id;
-- ... a shorter one brings it forward to now + the new frequency.
SELECT nango.update_sync(:id, '{"frequency": "2 minutes"}');
SELECT frequency, next_run FROM pg_temp.s WHERE id = :id;

-- frequency and cron are refused together, also after merging; replacing
-- one with the other takes a null for the old key.
SELECT nango.update_sync(:id, '{"cron": "*/5 * * * *"}');
UPDATE nango.syncs SET next_run_at = now() + interval '1 day' WHERE id = :id;
SELECT nango.update_sync(:id, '{"cron": "*/5 * * * *", "frequency": null}');
SELECT frequency, cron, next_run_at = nango.cron_next('*/5 * * * *', now()) AS next_is_cron_tick
  FROM nango.syncs WHERE id = :id;
SELECT nango.update_sync(:id, '{"cron": null}');
SELECT config ? 'cron' AS has_cron, frequency, cron FROM nango.syncs WHERE id = :id;

-- The whole config is revalidated: nothing changes on a refusal.
SELECT config AS before FROM nango.syncs WHERE id = :id \gset
SELECT nango.update_sync(:id, '{"delete_mode": "soft", "unique_key": null}');
SELECT nango.update_sync(:id, '{"pizzly_provider_config_key": null}');
SELECT nango.update_sync(:id, '{"uniq_key": "email"}');
SELECT nango.update_sync(:id, '{"max_total": 0}');
SELECT nango.update_sync(:id, '{"mapped_table": "nango.raw"}');
SELECT nango.update_sync(:id, '[1]');
SELECT nango.update_sync(:id, '"x"');
SELECT config = :'before' AS unchanged FROM nango.syncs WHERE id = :id;

-- An alias replaces the key it stands for.
SELECT nango.update_sync(:id, '{"nango_connection_id": "user2"}');
SELECT config->'pizzly_connection_id' AS pizzly, config->'nango_connection_id' AS nango
  FROM nango.syncs WHERE id = :id;

-- Derived columns follow: friendly_name, mapped_table.
SELECT nango.update_sync(:id, '{"friendly_name": null, "mapped_table": "crm.\"Contacts\""}');
SELECT friendly_name, mapped_table FROM pg_temp.s WHERE id = :id;
SELECT nango.update_sync(:id, '{"auto_mapping": false}');
SELECT mapped_table FROM pg_temp.s WHERE id = :id;
SELECT nango.update_sync(:id, '{"auto_mapping": null, "mapped_table": null}');
SELECT mapped_table FROM pg_temp.s WHERE id = :id;

-- The incremental state is kept while the incremental keys stay the same,
-- and forgotten when they change.
SELECT nango.update_sync(:id, '{"incremental_cursor_path": "updated_at", "incremental_request_path": "since"}');
UPDATE nango.syncs SET incremental_state = '{"cursor": "2024-01-01"}' WHERE id = :id;
SELECT nango.update_sync(:id, '{"max_total": 10}');
SELECT incremental_state FROM nango.syncs WHERE id = :id;
SELECT nango.update_sync(:id, '{"incremental_cursor_path": "modified_at"}');
SELECT incremental_state FROM nango.syncs WHERE id = :id;

-- An empty change is a no-op apart from updated_at; a NULL config does nothing.
SELECT config AS before FROM nango.syncs WHERE id = :id \gset
SELECT nango.update_sync(:id, '{}');
SELECT nango.update_sync(:id, NULL);
SELECT config = :'before' AS unchanged FROM nango.syncs WHERE id = :id;

-- A sync that does not exist.
SELECT nango.update_sync(-1, '{}');
SELECT nango.update_sync(9223372036854775807, '{"frequency": 5}');

------------------------------------------------------------ pause / resume / trigger
SELECT nango.add_sync('https://api.example.com/deals', '{"frequency": "1 day"}') AS id2 \gset
UPDATE nango.syncs SET next_run_at = now() + interval '3 hours', updated_at = now() - interval '1 day'
 WHERE id = :id2;

-- trigger: runs once as soon as possible, schedule unchanged.
SELECT nango.trigger_sync(:id2);
SELECT status, next_run, triggered_now, updated_now FROM pg_temp.s WHERE id = :id2;

-- pause: no scheduled run; a pending trigger is forgotten; twice is fine.
SELECT nango.pause_sync(:id2);
SELECT status, next_run, triggered_now, updated_now FROM pg_temp.s WHERE id = :id2;
SELECT nango.pause_sync(:id2);
SELECT status FROM nango.syncs WHERE id = :id2;

-- update_sync keeps a paused sync paused.
SELECT nango.update_sync(:id2, '{"frequency": "1 hour"}');
SELECT status, frequency, next_run FROM pg_temp.s WHERE id = :id2;

-- trigger on a paused sync: it runs once and stays paused.
SELECT nango.trigger_sync(:id2);
SELECT status, triggered_now FROM pg_temp.s WHERE id = :id2;

-- resume: active and due now.
UPDATE nango.syncs SET updated_at = now() - interval '1 day', retry_attempt = 2 WHERE id = :id2;
SELECT nango.resume_sync(:id2);
SELECT s.status, s.next_run, n.next_run_at <= now() AS due, s.updated_now, n.retry_attempt
  FROM pg_temp.s s JOIN nango.syncs n USING (id) WHERE id = :id2;
-- resume on an active sync also makes it due now.
UPDATE nango.syncs SET next_run_at = now() + interval '1 hour' WHERE id = :id2;
SELECT nango.resume_sync(:id2);
SELECT status, next_run FROM pg_temp.s WHERE id = :id2;

SELECT nango.pause_sync(0);
SELECT nango.resume_sync(0);
SELECT nango.trigger_sync(0);
SELECT nango.pause_sync(NULL) IS NULL AS strict;

------------------------------------------------------------ delete_sync
-- Jobs and raw rows go with the sync.
INSERT INTO nango.jobs (sync_id, status) VALUES (:id2, 'succeeded'), (:id2, 'failed');
INSERT INTO nango.raw (sync_id, unique_key, data, data_hash)
  VALUES (:id2, '1', '{"id": 1}', 'h1'), (:id2, '2', '{"id": 2}', 'h2');
SELECT (SELECT count(*) FROM nango.jobs WHERE sync_id = :id2) AS jobs,
       (SELECT count(*) FROM nango.raw WHERE sync_id = :id2) AS raw;
SELECT nango.delete_sync(:id2);
SELECT (SELECT count(*) FROM nango.syncs WHERE id = :id2) AS syncs,
       (SELECT count(*) FROM nango.jobs WHERE sync_id = :id2) AS jobs,
       (SELECT count(*) FROM nango.raw WHERE sync_id = :id2) AS raw;
SELECT nango.delete_sync(:id2);
SELECT nango.delete_sync(:id2, true);

-- drop_data: a table shared by two syncs loses one sync's rows, and is
-- dropped with the last sync that uses it once it is empty.
CREATE SCHEMA crm;
CREATE TABLE crm.shared (_nango_id bigserial, _nango_sync_id bigint, name text);
SELECT nango.add_sync('https://api.example.com/a', '{"mapped_table": "crm.shared"}') AS a \gset
SELECT nango.add_sync('https://api.example.com/b', '{"mapped_table": "crm.shared"}') AS b \gset
INSERT INTO crm.shared (_nango_sync_id, name) VALUES (:a, 'a1'), (:a, 'a2'), (:b, 'b1');
SELECT nango.delete_sync(:a, true);
SELECT name FROM crm.shared ORDER BY name;
SELECT nango.delete_sync(:b, true);
SELECT to_regclass('crm.shared') IS NULL AS dropped;

-- Without drop_data the mapped table and its rows stay.
CREATE TABLE crm.kept (_nango_sync_id bigint, name text);
SELECT nango.add_sync('https://api.example.com/c', '{"mapped_table": "crm.kept"}') AS c \gset
INSERT INTO crm.kept VALUES (:c, 'c1');
SELECT nango.delete_sync(:c);
SELECT name FROM crm.kept;

-- Rows left by a sync deleted without drop_data keep the table.
SELECT nango.add_sync('https://api.example.com/d', '{"mapped_table": "crm.kept"}') AS d \gset
INSERT INTO crm.kept VALUES (:d, 'd1');
SELECT nango.delete_sync(:d, true);
SELECT name FROM crm.kept;

-- The default table nango._nango_sync_<id> is dropped too.
SELECT nango.add_sync('https://api.example.com/e') AS e \gset
SELECT format('CREATE TABLE nango._nango_sync_%s (_nango_sync_id bigint, v int)', :e) \gexec
SELECT format('INSERT INTO nango._nango_sync_%s VALUES (%s, 1)', :e, :e) \gexec
SELECT nango.delete_sync(:e, true);
SELECT count(*) AS left_over FROM pg_class WHERE relname = '_nango_sync_' || :e;

-- A missing mapped table is fine; a table that is not nango's (no
-- _nango_sync_id column) is left alone; auto_mapping false maps nothing.
SELECT nango.add_sync('https://api.example.com/f', '{"mapped_table": "crm.never_created"}') AS f \gset
SELECT nango.delete_sync(:f, true);
CREATE TABLE crm.foreign_table (id int);
INSERT INTO crm.foreign_table VALUES (1);
SELECT nango.add_sync('https://api.example.com/g', '{"mapped_table": "crm.foreign_table"}') AS g \gset
SELECT nango.delete_sync(:g, true);
SELECT count(*) FROM crm.foreign_table;
SELECT nango.add_sync('https://api.example.com/h', '{"auto_mapping": false}') AS h \gset
SELECT nango.delete_sync(:h, true);
SELECT count(*) FROM nango.syncs WHERE id IN (:f, :g, :h);

-- A table another object depends on is not dropped: the whole call fails.
CREATE TABLE crm.viewed (_nango_sync_id bigint);
CREATE VIEW crm.v AS SELECT * FROM crm.viewed;
SELECT nango.add_sync('https://api.example.com/i', '{"mapped_table": "crm.viewed"}') AS i \gset
SELECT nango.delete_sync(:i, true);
SELECT count(*) FROM nango.syncs WHERE id = :i;

ROLLBACK;
