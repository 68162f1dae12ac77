-- nango background worker: schedule state of a sync (see src/schedule.c).

-- When the pending automatic retry of a failed job is due (NULL: none).
-- next_run_at always holds the next scheduled run; a retry never moves it.
ALTER TABLE nango.syncs ADD COLUMN retry_at timestamptz;
COMMENT ON COLUMN nango.syncs.retry_at IS 'When the next automatic retry of a failed job runs (NULL: none pending)';
