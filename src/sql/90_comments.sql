-- Comments on the objects of earlier versions that had none (docs/tables.md: every
-- function, table, view and column of the extension has one).  The views
-- under the seed's names describe their columns as the tables do.

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
