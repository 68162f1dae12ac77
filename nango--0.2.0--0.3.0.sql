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

-- nango.syncs.resumed_at: tells the worker that a run was asked for by
-- nango.resume_sync, so that its job's trigger is 'resume'.
ALTER TABLE nango.syncs ADD COLUMN resumed_at timestamptz;
COMMENT ON COLUMN nango.syncs.resumed_at IS 'Set by nango.resume_sync: the next run (trigger resume) is asked for; cleared when it starts';
