-- Health at a glance (README.md, docs/tables.md): nango.sync_status (health,
-- last job, failures, errors, raw rows, visibility per role),
-- nango.job_progress, nango.cancel_job's refusals, nango.redact_url, and a
-- COMMENT on every function, table, view and column of the extension.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS nango;
RESET client_min_messages;
\set ON_ERROR_ROLLBACK on
\set VERBOSITY default
BEGIN;
-- A fresh copy of the extension (rolled back at the end): ids start at 1.
DROP EXTENSION nango CASCADE;
CREATE EXTENSION nango;

-- Every function, table, view and column of the extension has a comment
-- (shown by \df+ and \d+).  Objects added later without one show up here.
SELECT kind, name FROM (
  SELECT CASE c.relkind WHEN 'v' THEN 'view' ELSE 'table' END AS kind, c.oid::regclass::text AS name
    FROM pg_depend d JOIN pg_class c ON d.classid = 'pg_class'::regclass AND d.objid = c.oid
   WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
     AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'nango')
     AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
     AND obj_description(c.oid, 'pg_class') IS NULL
  UNION ALL
  SELECT 'column', c.oid::regclass::text || '.' || quote_ident(a.attname)
    FROM pg_depend d JOIN pg_class c ON d.classid = 'pg_class'::regclass AND d.objid = c.oid
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
   WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
     AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'nango')
     AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
     AND col_description(c.oid, a.attnum) IS NULL
  UNION ALL
  SELECT 'function', p.oid::regprocedure::text
    FROM pg_depend d JOIN pg_proc p ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
   WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
     AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'nango')
     AND obj_description(p.oid, 'pg_proc') IS NULL
) missing ORDER BY 1, 2;

-- nango.redact_url: the password and secret-looking query values are hidden.
SELECT nango.redact_url('https://me:pa55@api.example.com/v1/items?api_key=s3cret&page=2&access_token=t0k');

CREATE ROLE nango_test_alice;
CREATE ROLE nango_test_bob;
GRANT CREATE ON SCHEMA nango TO nango_test_alice;

-- Alice's syncs: one never run, one ok, one failing, one paused.
SET ROLE nango_test_alice;
SELECT nango.add_sync('https://api.example.com/never?api_key=s3cret&page=1',
                      '{"friendly_name": "never", "frequency": "15 minutes"}') AS never \gset
SELECT nango.add_sync('https://api.example.com/ok',
                      '{"friendly_name": "ok", "cron": "*/5 * * * *", "unique_key": "id"}') AS ok \gset
SELECT nango.add_sync('https://api.example.com/failing',
                      '{"friendly_name": "failing", "frequency": 30, "auto_mapping": false}') AS failing \gset
SELECT nango.add_sync('https://api.example.com/paused', '{"friendly_name": "paused"}') AS paused \gset
SELECT nango.pause_sync(:paused);
RESET ROLE;
SET ROLE nango_test_bob;
SELECT nango.add_sync('https://api.example.com/bob', '{"friendly_name": "bob"}') AS bob \gset
RESET ROLE;

-- Jobs and raw rows, written here by the superuser as jobs would.
INSERT INTO nango.jobs (sync_id, status, ended_at, error_message) VALUES
  (:never, 'cancelled', now(), 'canceling statement due to user request'),
  (:ok, 'failed', now(), 'HTTP 500 from GET https://api.example.com/ok'),
  (:ok, 'succeeded', now(), NULL),
  (:failing, 'succeeded', now(), NULL),
  (:failing, 'failed', now(), 'HTTP 503 from GET https://api.example.com/failing'),
  (:failing, 'cancelled', now(), 'canceling statement due to user request'),
  (:failing, 'failed', now(), 'HTTP 500 from GET https://api.example.com/failing'),
  (:paused, 'failed', now(), 'HTTP 404 from GET https://api.example.com/paused'),
  (:bob, 'succeeded', now(), NULL);
INSERT INTO nango.raw (sync_id, unique_key, data, data_hash, deleted_at) VALUES
  (:ok, '1', '{"id": 1}', 'h1', NULL),
  (:ok, '2', '{"id": 2}', 'h2', NULL),
  (:ok, '3', '{"id": 3}', 'h3', now()),
  (:bob, '1', '{"id": 1}', 'h1', NULL);
SELECT id AS ok_job FROM nango.jobs WHERE sync_id = :ok AND status = 'succeeded' \gset
SELECT id AS bob_job FROM nango.jobs WHERE sync_id = :bob \gset

-- Alice sees her four syncs: never_run (a cancelled job neither fails nor
-- succeeds), ok (a success after a failure), failing (two failures since
-- the last success; the cancelled job between them is not one), paused
-- (no next run).  The URL's secret is redacted; schedule is as written.
SET ROLE nango_test_alice;
SELECT name, owner, url, status, health, last_job_status, consecutive_failures, last_error,
       last_job_id IS NOT NULL AS has_last_job, last_job_ended_at IS NOT NULL AS has_ended,
       last_success_at IS NOT NULL AS has_success, next_run_at IS NOT NULL AS has_next_run,
       running_job_id, running_pages, running_records, running_since,
       schedule, mapped_table, raw_rows
  FROM nango.sync_status ORDER BY sync_id;
SELECT last_job_id = :ok_job AS last_job_is_the_success FROM nango.sync_status WHERE sync_id = :ok;
-- Nothing runs: no job in progress, and none of bob's.
SELECT count(*) FROM nango.job_progress;

-- nango.cancel_job: a job that ended is not running (false); a job that
-- does not exist is an error.
SELECT nango.cancel_job(:ok_job);
SELECT nango.cancel_job(987654);
-- Alice may not cancel bob's job, whether it runs or not.
SELECT nango.cancel_job(:bob_job);
RESET ROLE;

-- Bob sees only his sync.
SET ROLE nango_test_bob;
SELECT name, health, raw_rows FROM nango.sync_status;
RESET ROLE;
-- A superuser sees every sync, and may "cancel" bob's finished job.
SELECT count(*) FROM nango.sync_status;
SELECT nango.cancel_job(:bob_job);

-- A running sync: health running, its job in the running_* columns.  Only
-- a job in progress counts (a job row left 'running' by nothing is not).
INSERT INTO nango.jobs (sync_id, status) VALUES (:ok, 'running');
SELECT health, running_job_id, last_job_id = :ok_job AS last_job_is_the_success
  FROM nango.sync_status WHERE sync_id = :ok;
ROLLBACK;
