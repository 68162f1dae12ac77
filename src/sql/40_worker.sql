-- nango background worker: schedule state of a sync (see src/schedule.c).

-- When the pending automatic retry of a failed job is due (NULL: none).
-- next_run_at always holds the next scheduled run; a retry never moves it.
ALTER TABLE nango.syncs ADD COLUMN retry_at timestamptz;
COMMENT ON COLUMN nango.syncs.retry_at IS 'When the next automatic retry of a failed job runs (NULL: none pending)';
-- The launcher finds due and next retries through it (as due runs through
-- syncs_due_idx), without scanning every sync.
CREATE INDEX syncs_retry_idx ON nango.syncs (retry_at) WHERE status = 'active';

-- Set by nango.resume_sync; the run it asks for is the job whose trigger
-- is 'resume'.  Cleared when that run starts.
ALTER TABLE nango.syncs ADD COLUMN resumed_at timestamptz;
COMMENT ON COLUMN nango.syncs.resumed_at IS 'Set by nango.resume_sync: the next run (trigger resume) is asked for; cleared when it starts';
