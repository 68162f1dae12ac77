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
