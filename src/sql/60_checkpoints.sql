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
