-- nango upgrade script from 0.2.0 to 0.3.0 (ALTER EXTENSION nango UPDATE).
--
-- Brings a database created with nango 0.2.0 to exactly what
-- CREATE EXTENSION nango creates in 0.3.0 (src/sql/*.sql), keeping every
-- sync, job and row.  Every schema change made in src/sql/ since 0.2.0
-- belongs here too; test/t/070_upgrade.pl compares both catalogs.

\echo Use "ALTER EXTENSION nango UPDATE TO '0.3.0'" to load this file. \quit

-- nango.jobs: duplicate keys, what started the job, and warnings of jobs
-- that succeeded (SPEC 3).  The view selecting every column of nango.jobs is
-- made again so that it shows them, as a fresh install's does.
ALTER TABLE nango.jobs
    ADD COLUMN duplicate_count bigint NOT NULL DEFAULT 0,
    ADD COLUMN trigger text
        CHECK (trigger IN ('schedule', 'manual', 'trigger', 'resume', 'retry',
                           'parent', 'resume_checkpoint')),
    ADD COLUMN warnings text[];
COMMENT ON COLUMN nango.jobs.duplicate_count IS 'Records whose unique key an earlier record of the same job already had (the last version is kept)';
COMMENT ON COLUMN nango.jobs.trigger IS 'What started the job: schedule, manual (run_sync), trigger, resume, retry, parent, resume_checkpoint';
COMMENT ON COLUMN nango.jobs.warnings IS 'What a user should know about a job that still succeeded (skipped or duplicate keys, mismatches, ...)';
CREATE OR REPLACE VIEW nango._nango_jobs WITH (security_invoker = true) AS
    SELECT * FROM nango.jobs;

-- A sync's friendly_name is its name, unique per owner.  Where an owner has
-- several syncs of one name, the oldest keeps it and the others get " #<id>"
-- appended.
UPDATE nango.syncs s SET friendly_name = s.friendly_name OPERATOR(pg_catalog.||) ' #' OPERATOR(pg_catalog.||) s.id
 WHERE EXISTS (SELECT 1 FROM nango.syncs o
                WHERE o.owner OPERATOR(pg_catalog.=) s.owner
                  AND o.friendly_name OPERATOR(pg_catalog.=) s.friendly_name
                  AND o.id OPERATOR(pg_catalog.<) s.id);
CREATE UNIQUE INDEX syncs_owner_name_idx ON nango.syncs (owner, friendly_name)
    WHERE friendly_name IS NOT NULL;

-- Syncs by name: put_sync, and the name (text) in place of the id.
CREATE FUNCTION nango.put_sync(name text, url text, config jsonb DEFAULT '{}')
RETURNS bigint
AS 'MODULE_PATHNAME', 'nango_put_sync'
LANGUAGE C VOLATILE;

CREATE FUNCTION nango.update_sync(name text, config jsonb)
RETURNS void
AS 'MODULE_PATHNAME', 'nango_update_sync_by_name'
LANGUAGE C VOLATILE STRICT;

CREATE FUNCTION nango.pause_sync(name text)
RETURNS void
AS 'MODULE_PATHNAME', 'nango_pause_sync_by_name'
LANGUAGE C VOLATILE STRICT;

CREATE FUNCTION nango.resume_sync(name text)
RETURNS void
AS 'MODULE_PATHNAME', 'nango_resume_sync_by_name'
LANGUAGE C VOLATILE STRICT;

CREATE FUNCTION nango.trigger_sync(name text)
RETURNS void
AS 'MODULE_PATHNAME', 'nango_trigger_sync_by_name'
LANGUAGE C VOLATILE STRICT;

CREATE FUNCTION nango.delete_sync(name text, drop_data boolean DEFAULT false)
RETURNS void
AS 'MODULE_PATHNAME', 'nango_delete_sync_by_name'
LANGUAGE C VOLATILE STRICT;

CREATE FUNCTION nango.run_sync(name text)
RETURNS bigint
AS 'MODULE_PATHNAME', 'nango_run_sync_by_name'
LANGUAGE C VOLATILE STRICT;

COMMENT ON FUNCTION nango.put_sync(text, text, jsonb) IS 'Creates the caller''s sync called name, or replaces the url and whole config of the caller''s sync of that name; returns its id';
COMMENT ON FUNCTION nango.update_sync(text, jsonb) IS 'update_sync of the caller''s sync with this friendly_name';
COMMENT ON FUNCTION nango.pause_sync(text) IS 'pause_sync of the caller''s sync with this friendly_name';
COMMENT ON FUNCTION nango.resume_sync(text) IS 'resume_sync of the caller''s sync with this friendly_name';
COMMENT ON FUNCTION nango.trigger_sync(text) IS 'trigger_sync of the caller''s sync with this friendly_name';
COMMENT ON FUNCTION nango.delete_sync(text, boolean) IS 'delete_sync of the caller''s sync with this friendly_name';
COMMENT ON FUNCTION nango.run_sync(text) IS 'run_sync of the caller''s sync with this friendly_name';

GRANT EXECUTE ON FUNCTION nango.put_sync(text, text, jsonb), nango.update_sync(text, jsonb),
    nango.pause_sync(text), nango.resume_sync(text), nango.trigger_sync(text),
    nango.delete_sync(text, boolean), nango.run_sync(text)
    TO PUBLIC;

-- A dry run of a sync's config: the first pages as a job would fetch them.
CREATE FUNCTION nango.preview(url text, config jsonb DEFAULT '{}', pages integer DEFAULT 1,
                              OUT page integer, OUT request text, OUT http_status integer,
                              OUT record_count integer, OUT next_request text, OUT stop_reason text,
                              OUT first_record jsonb, OUT columns jsonb)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'nango_preview'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION nango.preview(text, jsonb, integer) IS 'Fetches up to pages pages (at most 10) as a job of this config would, and stores nothing: one row per page with the request, status, records, next request, stop reason, first record and the columns auto-mapping would create';
GRANT EXECUTE ON FUNCTION nango.preview(text, jsonb, integer) TO PUBLIC;
-- Health at a glance (SPEC 2 and 3): nango.sync_status, nango.job_progress,
-- nango.cancel_job (src/sql/50_monitor.sql), and comments on every object
-- (src/sql/90_comments.sql).

-- The last successful job of a sync, found without reading its failures.
CREATE INDEX jobs_succeeded_idx ON nango.jobs (sync_id, id) WHERE status = 'succeeded';

CREATE FUNCTION nango.redact_url(url text)
RETURNS text
AS 'MODULE_PATHNAME', 'nango_redact_url_sql'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION nango.redact_url(text) IS
    'A URL as nango shows it: the password and the values of secret-looking query parameters replaced by REDACTED';

CREATE FUNCTION nango.get_job_progress(OUT job_id bigint, OUT sync_id bigint, OUT pid integer,
                                       OUT dboid oid, OUT trigger text, OUT started_at timestamptz,
                                       OUT page_count bigint, OUT fetched_count bigint,
                                       OUT current_request text, OUT waiting_for text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'nango_get_job_progress'
LANGUAGE C VOLATILE STRICT;

COMMENT ON FUNCTION nango.get_job_progress() IS
    'The jobs running now, from shared memory, that the current role may see (the rows of nango.job_progress)';

CREATE FUNCTION nango.cancel_job(job_id bigint)
RETURNS boolean
AS 'MODULE_PATHNAME', 'nango_cancel_job'
LANGUAGE C VOLATILE STRICT;

COMMENT ON FUNCTION nango.cancel_job(bigint) IS
    'Cancels a running job (it ends as cancelled); false when the job is not running';

-- One row per job running now, in any database, session or worker.
CREATE VIEW nango.job_progress WITH (security_invoker = true) AS
    SELECT p.job_id, p.sync_id, p.pid, d.datname AS database, p.trigger, p.started_at,
           p.page_count, p.fetched_count, p.current_request, p.waiting_for
      FROM nango.get_job_progress() p
      LEFT JOIN pg_catalog.pg_database d ON d.oid = p.dboid;

COMMENT ON VIEW nango.job_progress IS 'One row per job running now, in any session or worker (empty without shared_preload_libraries)';
COMMENT ON COLUMN nango.job_progress.job_id IS 'The running job (nango.jobs.id)';
COMMENT ON COLUMN nango.job_progress.sync_id IS 'Its sync';
COMMENT ON COLUMN nango.job_progress.pid IS 'Process running it: a job worker, or the backend that called nango.run_sync';
COMMENT ON COLUMN nango.job_progress.database IS 'Database of the job';
COMMENT ON COLUMN nango.job_progress.trigger IS 'What started the job (nango.jobs.trigger)';
COMMENT ON COLUMN nango.job_progress.started_at IS 'When the job started';
COMMENT ON COLUMN nango.job_progress.page_count IS 'Pages fetched and stored so far';
COMMENT ON COLUMN nango.job_progress.fetched_count IS 'Records fetched so far';
COMMENT ON COLUMN nango.job_progress.current_request IS 'Method and URL (secrets redacted) of the latest request';
COMMENT ON COLUMN nango.job_progress.waiting_for IS 'api, rate_limit, retry, store, or NULL when not waiting';

-- One row per sync: what a person asks first.
CREATE VIEW nango.sync_status WITH (security_invoker = true) AS
    SELECT s.id AS sync_id,
           s.friendly_name AS name,
           s.owner,
           nango.redact_url(s.url) AS url,
           s.status,
           CASE WHEN p.job_id IS NOT NULL THEN 'running'
                WHEN s.status = 'paused' THEN 'paused'
                WHEN f.n > 0 THEN 'failing'
                WHEN ok.id IS NOT NULL THEN 'ok'
                ELSE 'never_run' END AS health,
           l.id AS last_job_id,
           l.status AS last_job_status,
           l.ended_at AS last_job_ended_at,
           ok.ended_at AS last_success_at,
           f.n AS consecutive_failures,
           CASE WHEN l.status <> 'succeeded' THEN l.error_message END AS last_error,
           CASE WHEN s.status = 'active'
                THEN LEAST(s.next_run_at, s.retry_at) END AS next_run_at,
           p.job_id AS running_job_id,
           p.page_count AS running_pages,
           p.fetched_count AS running_records,
           p.started_at AS running_since,
           COALESCE(s.config ->> 'cron', s.config ->> 'frequency',
                    s.cron, s.frequency::pg_catalog.text) AS schedule,
           s.mapped_table,
           (SELECT pg_catalog.count(*) FROM nango.raw r
             WHERE r.sync_id = s.id AND r.deleted_at IS NULL) AS raw_rows
      FROM nango.syncs s
      LEFT JOIN LATERAL (SELECT j.id, j.status, j.ended_at, j.error_message FROM nango.jobs j
                          WHERE j.sync_id = s.id
                            AND j.status <> 'running'
                          ORDER BY j.id DESC LIMIT 1) l ON true
      LEFT JOIN LATERAL (SELECT j.id, j.ended_at FROM nango.jobs j
                          WHERE j.sync_id = s.id
                            AND j.status = 'succeeded'
                          ORDER BY j.id DESC LIMIT 1) ok ON true
      CROSS JOIN LATERAL (SELECT pg_catalog.count(*) AS n FROM nango.jobs j
                           WHERE j.sync_id = s.id
                             AND j.id > COALESCE(ok.id, 0)
                             AND j.status = 'failed') f
      LEFT JOIN (SELECT DISTINCT ON (jp.sync_id) jp.sync_id, jp.job_id, jp.page_count,
                        jp.fetched_count, jp.started_at
                   FROM nango.job_progress jp
                  WHERE jp.database = pg_catalog.current_database()
                  ORDER BY jp.sync_id, jp.job_id DESC) p ON p.sync_id = s.id;

COMMENT ON VIEW nango.sync_status IS 'One row per sync: its health, last job, running job and schedule';
COMMENT ON COLUMN nango.sync_status.sync_id IS 'The sync (nango.syncs.id)';
COMMENT ON COLUMN nango.sync_status.name IS 'Its friendly_name';
COMMENT ON COLUMN nango.sync_status.owner IS 'Role that owns the sync';
COMMENT ON COLUMN nango.sync_status.url IS 'The sync URL, secrets redacted';
COMMENT ON COLUMN nango.sync_status.status IS 'active or paused';
COMMENT ON COLUMN nango.sync_status.health IS 'running (a job runs now), paused, failing (failed jobs since the last success), ok, or never_run (no job succeeded or failed yet)';
COMMENT ON COLUMN nango.sync_status.last_job_id IS 'The last job that ended';
COMMENT ON COLUMN nango.sync_status.last_job_status IS 'Its status: succeeded, failed or cancelled';
COMMENT ON COLUMN nango.sync_status.last_job_ended_at IS 'When it ended';
COMMENT ON COLUMN nango.sync_status.last_success_at IS 'When the last successful job ended';
COMMENT ON COLUMN nango.sync_status.consecutive_failures IS 'Failed jobs since the last successful one';
COMMENT ON COLUMN nango.sync_status.last_error IS 'Error message of the last job that ended, when it did not succeed';
COMMENT ON COLUMN nango.sync_status.next_run_at IS 'Next scheduled run or automatic retry (NULL when paused)';
COMMENT ON COLUMN nango.sync_status.running_job_id IS 'The job running now (nango.job_progress), or NULL';
COMMENT ON COLUMN nango.sync_status.running_pages IS 'Pages the running job has fetched so far';
COMMENT ON COLUMN nango.sync_status.running_records IS 'Records the running job has fetched so far';
COMMENT ON COLUMN nango.sync_status.running_since IS 'When the running job started';
COMMENT ON COLUMN nango.sync_status.schedule IS 'frequency or cron as written in the config (the default frequency when none)';
COMMENT ON COLUMN nango.sync_status.mapped_table IS 'Table the sync maps its records to';
COMMENT ON COLUMN nango.sync_status.raw_rows IS 'Live (not deleted) rows of the sync in nango.raw';

GRANT EXECUTE ON FUNCTION nango.redact_url(text), nango.get_job_progress(),
    nango.cancel_job(bigint) TO PUBLIC;
GRANT SELECT ON nango.job_progress, nango.sync_status TO PUBLIC;

COMMENT ON COLUMN nango.syncs.id IS 'Sync id';
COMMENT ON COLUMN nango.syncs.owner IS 'Role that added the sync; its jobs run with its rights';
COMMENT ON COLUMN nango.syncs.url IS 'URL of the first request (secrets only as ${secret:name} references)';
COMMENT ON COLUMN nango.syncs.config IS 'The config as validated (jsonb)';
COMMENT ON COLUMN nango.syncs.friendly_name IS 'Name of the sync, unique per owner; usable in place of the id';
COMMENT ON COLUMN nango.syncs.status IS 'active or paused';
COMMENT ON COLUMN nango.syncs.frequency IS 'Interval between scheduled runs (NULL with cron)';
COMMENT ON COLUMN nango.syncs.cron IS 'Five-field cron expression in UTC (NULL with frequency)';
COMMENT ON COLUMN nango.syncs.next_run_at IS 'When the next scheduled run is due';
COMMENT ON COLUMN nango.syncs.mapped_table IS 'Table the records are mapped to (auto-mapping)';
COMMENT ON COLUMN nango.syncs.incremental_state IS 'Highest incremental cursor value of the last successful job';
COMMENT ON COLUMN nango.syncs.created_at IS 'When the sync was added';
COMMENT ON COLUMN nango.syncs.updated_at IS 'When the sync was last changed';

COMMENT ON COLUMN nango.jobs.id IS 'Job id';
COMMENT ON COLUMN nango.jobs.sync_id IS 'The sync the job ran';
COMMENT ON COLUMN nango.jobs.status IS 'running, succeeded, failed or cancelled';
COMMENT ON COLUMN nango.jobs.attempt IS '1 for the first try of a run; an automatic retry is a new job with attempt + 1';
COMMENT ON COLUMN nango.jobs.started_at IS 'When the job started';
COMMENT ON COLUMN nango.jobs.ended_at IS 'When the job ended (NULL while running)';
COMMENT ON COLUMN nango.jobs.error_message IS 'Why the job failed or was cancelled (secrets redacted)';
COMMENT ON COLUMN nango.jobs.error_detail IS 'Where it failed: page, request (secrets redacted), HTTP status, response body excerpt';
COMMENT ON COLUMN nango.jobs.page_count IS 'Pages fetched';
COMMENT ON COLUMN nango.jobs.fetched_count IS 'Records fetched';
COMMENT ON COLUMN nango.jobs.added_count IS 'Records added';
COMMENT ON COLUMN nango.jobs.updated_count IS 'Records changed';
COMMENT ON COLUMN nango.jobs.deleted_count IS 'Records deleted or soft-deleted';
COMMENT ON COLUMN nango.jobs.unchanged_count IS 'Records received unchanged';
COMMENT ON COLUMN nango.jobs.skipped_count IS 'Records without a usable unique key, and mapped rows too big to store';
COMMENT ON COLUMN nango.jobs.mismatch_count IS 'Values not stored in the mapped table because their type did not fit their column';

COMMENT ON COLUMN nango.raw.id IS 'Row id';
COMMENT ON COLUMN nango.raw.sync_id IS 'The sync the record belongs to';
COMMENT ON COLUMN nango.raw.job_id IS 'The job that last wrote the record';
COMMENT ON COLUMN nango.raw.unique_key IS 'Value of the sync''s unique_key in the record (NULL without one)';
COMMENT ON COLUMN nango.raw.data IS 'The record as received';
COMMENT ON COLUMN nango.raw.metadata IS 'The sync''s metadata attached to the record';
COMMENT ON COLUMN nango.raw.data_hash IS 'Hash of the record''s content, independent of key order';
COMMENT ON COLUMN nango.raw.emitted_at IS 'When the record was last added or changed';
COMMENT ON COLUMN nango.raw.deleted_at IS 'When the record was soft-deleted (NULL: live)';

COMMENT ON VIEW nango._nango_syncs IS 'The rows of nango.syncs under the seed''s name';
COMMENT ON COLUMN nango._nango_syncs.id IS 'Sync id';
COMMENT ON COLUMN nango._nango_syncs.owner IS 'Role that added the sync; its jobs run with its rights';
COMMENT ON COLUMN nango._nango_syncs.url IS 'URL of the first request (secrets only as ${secret:name} references)';
COMMENT ON COLUMN nango._nango_syncs.config IS 'The config as validated (jsonb)';
COMMENT ON COLUMN nango._nango_syncs.friendly_name IS 'Name of the sync, unique per owner; usable in place of the id';
COMMENT ON COLUMN nango._nango_syncs.status IS 'active or paused';
COMMENT ON COLUMN nango._nango_syncs.frequency IS 'Interval between scheduled runs (NULL with cron)';
COMMENT ON COLUMN nango._nango_syncs.cron IS 'Five-field cron expression in UTC (NULL with frequency)';
COMMENT ON COLUMN nango._nango_syncs.next_run_at IS 'When the next scheduled run is due';
COMMENT ON COLUMN nango._nango_syncs.mapped_table IS 'Table the records are mapped to (auto-mapping)';
COMMENT ON COLUMN nango._nango_syncs.incremental_state IS 'Highest incremental cursor value of the last successful job';
COMMENT ON COLUMN nango._nango_syncs.created_at IS 'When the sync was added';
COMMENT ON COLUMN nango._nango_syncs.updated_at IS 'When the sync was last changed';
COMMENT ON COLUMN nango._nango_syncs.triggered_at IS 'Set by nango.trigger_sync: run once as soon as a worker is free, schedule unchanged';
COMMENT ON COLUMN nango._nango_syncs.retry_attempt IS 'Automatic retries already made for the current failed run';

COMMENT ON VIEW nango._nango_jobs IS 'The rows of nango.jobs under the seed''s name';
COMMENT ON COLUMN nango._nango_jobs.id IS 'Job id';
COMMENT ON COLUMN nango._nango_jobs.sync_id IS 'The sync the job ran';
COMMENT ON COLUMN nango._nango_jobs.status IS 'running, succeeded, failed or cancelled';
COMMENT ON COLUMN nango._nango_jobs.attempt IS '1 for the first try of a run; an automatic retry is a new job with attempt + 1';
COMMENT ON COLUMN nango._nango_jobs.started_at IS 'When the job started';
COMMENT ON COLUMN nango._nango_jobs.ended_at IS 'When the job ended (NULL while running)';
COMMENT ON COLUMN nango._nango_jobs.error_message IS 'Why the job failed or was cancelled (secrets redacted)';
COMMENT ON COLUMN nango._nango_jobs.error_detail IS 'Where it failed: page, request (secrets redacted), HTTP status, response body excerpt';
COMMENT ON COLUMN nango._nango_jobs.page_count IS 'Pages fetched';
COMMENT ON COLUMN nango._nango_jobs.fetched_count IS 'Records fetched';
COMMENT ON COLUMN nango._nango_jobs.added_count IS 'Records added';
COMMENT ON COLUMN nango._nango_jobs.updated_count IS 'Records changed';
COMMENT ON COLUMN nango._nango_jobs.deleted_count IS 'Records deleted or soft-deleted';
COMMENT ON COLUMN nango._nango_jobs.unchanged_count IS 'Records received unchanged';
COMMENT ON COLUMN nango._nango_jobs.skipped_count IS 'Records without a usable unique key, and mapped rows too big to store';
COMMENT ON COLUMN nango._nango_jobs.mismatch_count IS 'Values not stored in the mapped table because their type did not fit their column';
COMMENT ON COLUMN nango._nango_jobs.pid IS 'Process id of the backend or worker that runs the job';
COMMENT ON COLUMN nango._nango_jobs.duplicate_count IS 'Records whose unique key an earlier record of the same job already had (the last version is kept)';
COMMENT ON COLUMN nango._nango_jobs.trigger IS 'What started the job: schedule, manual (run_sync), trigger, resume, retry, parent, resume_checkpoint';
COMMENT ON COLUMN nango._nango_jobs.warnings IS 'What a user should know about a job that still succeeded (skipped or duplicate keys, mismatches, ...)';

COMMENT ON VIEW nango._nango_raw IS 'The rows of nango.raw under the seed''s name';
COMMENT ON COLUMN nango._nango_raw.id IS 'Row id';
COMMENT ON COLUMN nango._nango_raw.sync_id IS 'The sync the record belongs to';
COMMENT ON COLUMN nango._nango_raw.job_id IS 'The job that last wrote the record';
COMMENT ON COLUMN nango._nango_raw.unique_key IS 'Value of the sync''s unique_key in the record (NULL without one)';
COMMENT ON COLUMN nango._nango_raw.data IS 'The record as received';
COMMENT ON COLUMN nango._nango_raw.metadata IS 'The sync''s metadata attached to the record';
COMMENT ON COLUMN nango._nango_raw.data_hash IS 'Hash of the record''s content, independent of key order';
COMMENT ON COLUMN nango._nango_raw.emitted_at IS 'When the record was last added or changed';
COMMENT ON COLUMN nango._nango_raw.deleted_at IS 'When the record was soft-deleted (NULL: live)';

COMMENT ON FUNCTION nango.add_sync(text, jsonb) IS 'Adds a sync of the calling role and schedules its first run now; returns its id';
COMMENT ON FUNCTION nango.update_sync(bigint, jsonb) IS 'Merges keys into a sync''s config (a key set to null is removed) and revalidates it';
COMMENT ON FUNCTION nango.pause_sync(bigint) IS 'No scheduled runs of the sync until resumed; a running job finishes';
COMMENT ON FUNCTION nango.resume_sync(bigint) IS 'Puts a paused sync back on schedule, and runs it now';
COMMENT ON FUNCTION nango.trigger_sync(bigint) IS 'Runs the sync as soon as a worker is free (at commit); the schedule is unchanged';
COMMENT ON FUNCTION nango.delete_sync(bigint, boolean) IS 'Cancels a running job of the sync, then removes the sync, its jobs and raw rows (with drop_data, its mapped rows too)';
COMMENT ON FUNCTION nango.run_sync(bigint) IS 'Runs one job of the sync now, in this session; returns the job id';
COMMENT ON FUNCTION nango.flatten(jsonb) IS 'Shows how auto-mapping maps one record: column names, types and values';
COMMENT ON FUNCTION nango._map_records(bigint, text, jsonb, bigint, jsonb[], text[], boolean) IS 'Internal (tests): writes records into a mapped table as one job page would';
COMMENT ON FUNCTION nango._map_drop(bigint, text) IS 'Internal (tests): what delete_sync with drop_data does to the mapped table';
COMMENT ON FUNCTION nango._map_delete(bigint, text, text[], boolean) IS 'Internal (tests): removes (hard) or marks (soft) keys in a mapped table';
-- nango.flatten with the mapping options "fields" and "arrays" (SPEC 11).
CREATE FUNCTION nango.flatten(record jsonb, options jsonb,
                              OUT column_name text, OUT column_type text, OUT value text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'nango_flatten_options'
LANGUAGE C IMMUTABLE;
COMMENT ON FUNCTION nango.flatten(jsonb, jsonb) IS
    'Shows how auto-mapping would map one record under the mapping options "fields" and "arrays" of a sync''s config';
GRANT EXECUTE ON FUNCTION nango.flatten(jsonb, jsonb) TO PUBLIC;
-- Secrets and Pizzly connection grants (SPEC section 9): as in
-- src/sql/50_credentials.sql.
-- A role's secrets, used in configs as ${secret:name}.  Nobody but the
-- extension owner (and superusers) reads this table: roles see their names
-- and dates through the view nango.secrets, never a value.
CREATE TABLE nango.secret_values (
    owner            regrole NOT NULL,
    name             text NOT NULL,
    value            text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at       timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (owner, name)
);
COMMENT ON TABLE nango.secret_values IS 'Secrets set with nango.set_secret (values readable by superusers only; roles see nango.secrets)';
COMMENT ON COLUMN nango.secret_values.owner IS 'The role whose secret it is (the one that set it)';
COMMENT ON COLUMN nango.secret_values.name IS 'The name used in configs as ${secret:name}';
COMMENT ON COLUMN nango.secret_values.value IS 'The secret value, substituted when a request is made';
COMMENT ON COLUMN nango.secret_values.created_at IS 'When the secret was first set';
COMMENT ON COLUMN nango.secret_values.updated_at IS 'When the secret was last set';
REVOKE ALL ON nango.secret_values FROM PUBLIC;
-- pg_dump carries the secrets, so that a restored database has working syncs.
SELECT pg_catalog.pg_extension_config_dump('nango.secret_values', '');

CREATE VIEW nango.secrets WITH (security_barrier = true) AS
    SELECT owner, name, created_at, updated_at
      FROM nango.secret_values
     WHERE pg_catalog.pg_has_role(owner, 'USAGE');
COMMENT ON VIEW nango.secrets IS 'The names and dates of the secrets of the roles whose privileges the caller has (never the values)';
COMMENT ON COLUMN nango.secrets.owner IS 'The role whose secret it is';
COMMENT ON COLUMN nango.secrets.name IS 'The name used in configs as ${secret:name}';
COMMENT ON COLUMN nango.secrets.created_at IS 'When the secret was first set';
COMMENT ON COLUMN nango.secrets.updated_at IS 'When the secret was last set';
GRANT SELECT ON nango.secrets TO PUBLIC;

-- Which roles may use which Pizzly connection (granted by a superuser).
CREATE TABLE nango.connection_grants (
    provider_config_key text NOT NULL,
    connection_id    text NOT NULL,
    grantee          regrole NOT NULL,
    granted_by       regrole NOT NULL,
    granted_at       timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (provider_config_key, connection_id, grantee)
);
COMMENT ON TABLE nango.connection_grants IS 'Pizzly connections a superuser allowed roles to use (nango.grant_connection)';
COMMENT ON COLUMN nango.connection_grants.provider_config_key IS 'The Pizzly provider configuration key of the connection';
COMMENT ON COLUMN nango.connection_grants.connection_id IS 'The Pizzly connection id';
COMMENT ON COLUMN nango.connection_grants.grantee IS 'The role allowed to use it (and every role that has its privileges)';
COMMENT ON COLUMN nango.connection_grants.granted_by IS 'The superuser that granted it';
COMMENT ON COLUMN nango.connection_grants.granted_at IS 'When it was granted';
ALTER TABLE nango.connection_grants ENABLE ROW LEVEL SECURITY;
CREATE POLICY connection_grants_grantee ON nango.connection_grants
    USING (pg_catalog.pg_has_role(grantee, 'USAGE'));
REVOKE ALL ON nango.connection_grants FROM PUBLIC;
GRANT SELECT ON nango.connection_grants TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('nango.connection_grants', '');

CREATE FUNCTION nango.set_secret(name text, value text)
RETURNS void
AS 'MODULE_PATHNAME', 'nango_set_secret'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION nango.set_secret(text, text) IS
    'Stores one of the caller''s secrets (replacing one of the same name), used in configs as ${secret:name}';

CREATE FUNCTION nango.drop_secret(name text)
RETURNS void
AS 'MODULE_PATHNAME', 'nango_drop_secret'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION nango.drop_secret(text) IS
    'Removes one of the caller''s secrets (a NOTICE names the syncs that use it)';

CREATE FUNCTION nango.grant_connection(provider_config_key text, connection_id text, grantee regrole)
RETURNS void
AS 'MODULE_PATHNAME', 'nango_grant_connection'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION nango.grant_connection(text, text, regrole) IS
    'Superuser only: lets a role (and every role with its privileges) use a Pizzly connection';

CREATE FUNCTION nango.revoke_connection(provider_config_key text, connection_id text, grantee regrole)
RETURNS void
AS 'MODULE_PATHNAME', 'nango_revoke_connection'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION nango.revoke_connection(text, text, regrole) IS
    'Superuser only: takes back a grant of nango.grant_connection';

-- grant_connection and revoke_connection refuse non-superusers themselves,
-- with a message that says so.
GRANT EXECUTE ON FUNCTION nango.set_secret(text, text), nango.drop_secret(text),
    nango.grant_connection(text, text, regrole), nango.revoke_connection(text, text, regrole)
    TO PUBLIC;

-- Pizzly syncs of roles that are not superusers keep working: their owners
-- are granted the connections they already use, by the extension owner.
INSERT INTO nango.connection_grants (provider_config_key, connection_id, grantee, granted_by)
SELECT DISTINCT k.provider_config_key, k.connection_id, s.owner,
       (SELECT e.extowner::pg_catalog.regrole FROM pg_catalog.pg_extension e WHERE e.extname = 'nango')
  FROM nango.syncs s
  JOIN pg_catalog.pg_roles r ON r.oid = s.owner
 CROSS JOIN LATERAL (SELECT COALESCE(s.config OPERATOR(pg_catalog.->>) 'pizzly_provider_config_key',
                                     s.config OPERATOR(pg_catalog.->>) 'nango_provider_config_key') AS provider_config_key,
                            COALESCE(s.config OPERATOR(pg_catalog.->>) 'pizzly_connection_id',
                                     s.config OPERATOR(pg_catalog.->>) 'nango_connection_id') AS connection_id) k
 WHERE NOT r.rolsuper AND k.provider_config_key IS NOT NULL AND k.connection_id IS NOT NULL
ON CONFLICT DO NOTHING;
-- nango.syncs.resumed_at: tells the worker that a run was asked for by
-- nango.resume_sync, so that its job's trigger is 'resume'.
ALTER TABLE nango.syncs ADD COLUMN resumed_at timestamptz;
COMMENT ON COLUMN nango.syncs.resumed_at IS 'Set by nango.resume_sync: the next run (trigger resume) is asked for; cleared when it starts';

-- The launcher finds due retries and triggered runs through an index, as it
-- finds due scheduled runs (syncs_due_idx), instead of scanning every sync.
CREATE INDEX syncs_retry_idx ON nango.syncs (retry_at) WHERE status = 'active';
CREATE INDEX syncs_triggered_idx ON nango.syncs (triggered_at) WHERE triggered_at IS NOT NULL;

-- Checkpoints of long jobs (docs/config.md#checkpoint, docs/tables.md): a
-- worker job of a sync with "checkpoint": true commits, at least every
-- nango.checkpoint_interval, what it stored and where its paging is, so
-- that the next job of the sync resumes there.  Written by the job engine
-- (src/engine/checkpoint.c) as the extension owner.

ALTER TABLE nango.jobs ADD COLUMN resumed_at_page integer;
COMMENT ON COLUMN nango.jobs.resumed_at_page IS 'The page of its pass the job started at when it resumed after a checkpoint (trigger resume_checkpoint), for a child sync the parent record of its pass (in key order) it started at; NULL when it started at the beginning';
CREATE OR REPLACE VIEW nango._nango_jobs WITH (security_invoker = true) AS
    SELECT * FROM nango.jobs;
COMMENT ON COLUMN nango._nango_jobs.resumed_at_page IS 'The page of its pass the job started at when it resumed after a checkpoint (trigger resume_checkpoint), for a child sync the parent record of its pass (in key order) it started at; NULL when it started at the beginning';

CREATE TABLE nango.checkpoints (
    sync_id          bigint PRIMARY KEY REFERENCES nango.syncs (id) ON DELETE CASCADE,
    job_id           bigint NOT NULL,
    config_hash      text NOT NULL,
    page             integer NOT NULL,
    fetched          bigint NOT NULL,
    paging           jsonb NOT NULL,
    incremental_highest jsonb,
    saved_at         timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE nango.checkpoints IS 'The last checkpoint of each sync with checkpoint true whose pass is not complete: where its next job resumes';
COMMENT ON COLUMN nango.checkpoints.sync_id IS 'The sync';
COMMENT ON COLUMN nango.checkpoints.job_id IS 'The job that wrote the checkpoint';
COMMENT ON COLUMN nango.checkpoints.config_hash IS 'Hash of the URL and config the pass runs with: a checkpoint of another config is not used';
COMMENT ON COLUMN nango.checkpoints.page IS 'The last page of the pass stored and committed (for a child sync: the parent records the pass has done); the next job starts after it';
COMMENT ON COLUMN nango.checkpoints.fetched IS 'Records fetched in the pass up to that page (for max_total)';
COMMENT ON COLUMN nango.checkpoints.paging IS 'What the pager needs for the next page: cursor, offset, page number or next URL (the sync''s secrets in it replaced by markers); for a child sync, parent_key: the key of the last parent record done';
COMMENT ON COLUMN nango.checkpoints.incremental_highest IS 'The highest incremental cursor value seen in the pass so far, for a child sync per parent record done (stored as the sync''s state when the pass completes)';
COMMENT ON COLUMN nango.checkpoints.saved_at IS 'When the checkpoint was committed';
ALTER TABLE nango.checkpoints ENABLE ROW LEVEL SECURITY;
CREATE POLICY checkpoints_owner ON nango.checkpoints
    USING (sync_id IN (SELECT s.id FROM nango.syncs s));
REVOKE ALL ON nango.checkpoints FROM PUBLIC;
GRANT SELECT ON nango.checkpoints TO PUBLIC;

CREATE TABLE nango.checkpoint_keys (
    sync_id          bigint NOT NULL REFERENCES nango.checkpoints (sync_id) ON DELETE CASCADE,
    unique_key       text COLLATE "C" NOT NULL,
    PRIMARY KEY (sync_id, unique_key)
);
COMMENT ON TABLE nango.checkpoint_keys IS 'Unique keys seen by the committed part of a checkpointed pass of a sync with delete_mode: the keys not to delete when the pass completes';
COMMENT ON COLUMN nango.checkpoint_keys.sync_id IS 'The sync (its row of nango.checkpoints)';
COMMENT ON COLUMN nango.checkpoint_keys.unique_key IS 'A unique key seen in the pass';
ALTER TABLE nango.checkpoint_keys ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON nango.checkpoint_keys FROM PUBLIC;

-- Page memos (docs/config.md#skip_unchanged_pages, docs/tables.md): what an
-- upsert sync's job saw on each page of its last pass, so that the next job
-- can skip a page the API answers unchanged (304 Not Modified, or the same
-- body) without parsing, hashing or storing its records.  Written by the job
-- engine (src/engine/pagememo.c) as the extension owner, in the job's
-- transaction; no role but the extension owner reads or writes it.
CREATE TABLE nango.page_memos (
    sync_id          bigint NOT NULL REFERENCES nango.syncs (id) ON DELETE CASCADE,
    page             integer NOT NULL,
    request_hash     text NOT NULL,
    etag             text,
    last_modified    text,
    body_hash        text NOT NULL,
    records          integer NOT NULL,
    keys             text[] COLLATE "C",
    paging           jsonb NOT NULL,
    saved_at         timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (sync_id, page)
);
COMMENT ON TABLE nango.page_memos IS 'Per page of the last pass of an upsert sync with skip_unchanged_pages: what the page was, so that an unchanged page is skipped by the next job';
COMMENT ON COLUMN nango.page_memos.sync_id IS 'The sync';
COMMENT ON COLUMN nango.page_memos.page IS 'The page number within the pass (1 is the first page)';
COMMENT ON COLUMN nango.page_memos.request_hash IS 'Hash of the page''s request as sent (method, URL, body), the sync''s secrets replaced by markers: a memo is used only for the same request';
COMMENT ON COLUMN nango.page_memos.etag IS 'The ETag the API sent with the page, sent back as If-None-Match; NULL when none';
COMMENT ON COLUMN nango.page_memos.last_modified IS 'The Last-Modified the API sent with the page, sent back as If-Modified-Since; NULL when none';
COMMENT ON COLUMN nango.page_memos.body_hash IS 'Hash of the response body, Link header and final URL: an answer with the same hash is the same page';
COMMENT ON COLUMN nango.page_memos.records IS 'Records on the page (each with a usable unique key): counted unchanged when the page is skipped';
COMMENT ON COLUMN nango.page_memos.keys IS 'The unique keys of the page''s records when the sync has delete_mode (kept when the page is skipped); NULL otherwise';
COMMENT ON COLUMN nango.page_memos.paging IS 'The paging state after the page (the sync''s secrets in a next URL replaced by markers), or that paging ended with it and why';
COMMENT ON COLUMN nango.page_memos.saved_at IS 'When the memo was written';
ALTER TABLE nango.page_memos ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON nango.page_memos FROM PUBLIC;
