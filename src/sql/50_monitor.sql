-- Health at a glance (README.md, docs/tables.md): running jobs read from shared
-- memory, one status row per sync, and cancelling a running job.  See
-- src/progress.c.

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
