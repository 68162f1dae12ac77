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
