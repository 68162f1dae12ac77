-- Skipping unchanged pages (docs/config.md#unchanged-pages): a second job
-- of an unchanged upsert sync sends conditional requests, gets 304s (or the
-- same bodies) and counts every record unchanged, with the same counts as a
-- job that reads every page; a changed page is read and stored; delete_mode
-- keeps the keys of skipped pages; memos follow the pages of the pass; a
-- config change, a duplicate key or a page that was not stored cleanly
-- drops memos; a 304 nobody asked for fails the job.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS nango CASCADE;
RESET client_min_messages;
CREATE EXTENSION nango;
SET nango.log_level = warning;
\i test/sql/engine_helpers.sql
SELECT mock_get('/__reset');

-- the counts of the sync's last job
CREATE FUNCTION memo_last_job(sid bigint, OUT status text, OUT pages bigint, OUT fetched bigint,
  OUT added bigint, OUT updated bigint, OUT unchanged bigint, OUT deleted bigint,
  OUT duplicates bigint, OUT error text)
LANGUAGE sql AS $$
  SELECT j.status, j.page_count, j.fetched_count, j.added_count, j.updated_count,
         j.unchanged_count, j.deleted_count, j.duplicate_count,
         regexp_replace(unport(j.error_message), 'sync [0-9]+', 'sync N')
    FROM nango.jobs j WHERE j.sync_id = sid ORDER BY j.id DESC LIMIT 1 $$;
-- what the mock of id saw since its last clear (then cleared)
CREATE FUNCTION memo_report(ident text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE sid bigint; r jsonb;
BEGIN
  sid := add_paused(mock('/memo/report?id=' || ident), '{"auto_mapping": false}');
  PERFORM nango.run_sync(sid);
  SELECT data INTO r FROM nango.raw WHERE sync_id = sid;
  DELETE FROM nango.syncs WHERE id = sid;
  PERFORM mock_get('/memo/clear?id=' || ident);
  RETURN r;
END $$;
-- the sync's memos: page, records, keys kept, validators, where paging goes
CREATE FUNCTION memo_rows(sid bigint) RETURNS TABLE (page int, records int, nkeys int,
  etag boolean, last_modified boolean, done boolean)
LANGUAGE sql AS $$
  SELECT m.page, m.records, pg_catalog.cardinality(m.keys), m.etag IS NOT NULL,
         m.last_modified IS NOT NULL, (m.paging->>'done')::boolean
    FROM nango.page_memos m WHERE m.sync_id = sid ORDER BY m.page $$;

-- Cursor in the body, 6 pages of 3.  The first job reads every page and
-- writes a memo for each.
SELECT add_paused(mock('/memo/items?id=c&style=cursor'),
  '{"response_path": "data", "unique_key": "id", "paging_cursor_request_path": "cursor",
    "paging_cursor_metadata_response_path": "next_cursor", "mapped_table": "memo_c"}') AS c \gset
SELECT run_quiet(:c);
SELECT * FROM memo_last_job(:c);
SELECT * FROM memo_rows(:c);
SELECT memo_report('c');
-- unchanged: every request conditional, every answer a 304, the same counts
-- as a job reading in full
SELECT run_quiet(:c);
SELECT * FROM memo_last_job(:c);
SELECT memo_report('c');
SELECT count(*) FROM nango.memo_c;
-- the same with skip_unchanged_pages false: the same counts, every page read
SELECT nango.update_sync(:c, '{"skip_unchanged_pages": false}');
SELECT run_quiet(:c);
SELECT * FROM memo_last_job(:c);
SELECT memo_report('c');
SELECT count(*) FROM nango.page_memos WHERE sync_id = :c;
SELECT nango.update_sync(:c, '{"skip_unchanged_pages": true}');
SELECT run_quiet(:c);
SELECT run_quiet(:c);
SELECT memo_report('c');
-- page 3 changes: only page 3 is read; its records are updated, in
-- nango.raw and in the mapped table
SELECT mock_get('/memo/set?id=c&bump=3');
SELECT run_quiet(:c);
SELECT * FROM memo_last_job(:c);
SELECT memo_report('c');
SELECT data->>'id' AS id, data->>'v' AS v FROM nango.raw WHERE sync_id = :c AND data->>'v' <> '0' ORDER BY 1;
SELECT id, v FROM nango.memo_c WHERE v <> 0 ORDER BY 1;
-- and the next job skips it again
SELECT run_quiet(:c);
SELECT * FROM memo_last_job(:c);
SELECT memo_report('c');
-- fewer pages: the pass ends at page 4, the memos of pages 5 and 6 go
SELECT mock_get('/memo/set?id=c&pages=4');
SELECT run_quiet(:c);
SELECT * FROM memo_last_job(:c);
SELECT memo_report('c');
SELECT * FROM memo_rows(:c);
-- a config change drops the memos: the next job reads every page
SELECT nango.update_sync(:c, '{"metadata": {"team": "a"}}');
SELECT count(*) FROM nango.page_memos WHERE sync_id = :c;
SELECT run_quiet(:c);
SELECT * FROM memo_last_job(:c);
SELECT memo_report('c');
SELECT count(*) FROM nango.memo_c WHERE team = 'a';

-- delete_mode: a record leaves page 5; exactly it is deleted, the keys of
-- the skipped pages are kept
SELECT add_paused(mock('/memo/items?id=d&style=cursor'),
  '{"response_path": "data", "unique_key": "id", "paging_cursor_request_path": "cursor",
    "paging_cursor_metadata_response_path": "next_cursor", "delete_mode": "hard",
    "auto_mapping": false}') AS d \gset
SELECT run_quiet(:d);
SELECT * FROM memo_rows(:d);
SELECT mock_get('/memo/set?id=d&remove=d-5-1');
SELECT memo_report('d');
SELECT run_quiet(:d);
SELECT * FROM memo_last_job(:d);
SELECT memo_report('d');
SELECT count(*), count(*) FILTER (WHERE data->>'id' = 'd-5-1') FROM nango.raw WHERE sync_id = :d;
SELECT page, records, nkeys FROM memo_rows(:d) WHERE page = 5;
-- unchanged again: nothing deleted
SELECT run_quiet(:d);
SELECT * FROM memo_last_job(:d);
SELECT memo_report('d');

-- duplicates across pages: page 4 also holds d2-1-0; the job counts the
-- duplicate and drops the memos, so the next job reads every page again
-- and the last version (page 4's) is what is stored
SELECT add_paused(mock('/memo/items?id=d2&style=cursor'),
  '{"response_path": "data", "unique_key": "id", "paging_cursor_request_path": "cursor",
    "paging_cursor_metadata_response_path": "next_cursor", "auto_mapping": false}') AS d2 \gset
SELECT mock_get('/memo/set?id=d2&dup=4');
SELECT run_quiet(:d2);
SELECT * FROM memo_last_job(:d2);
SELECT count(*) FROM nango.page_memos WHERE sync_id = :d2;
SELECT run_quiet(:d2);
SELECT memo_report('d2');
SELECT data->>'v' FROM nango.raw WHERE sync_id = :d2 AND data->>'id' = 'd2-1-0';

-- with delete_mode the memos keep their keys, so a key of a skipped page
-- that comes back on a page read in full counts as a duplicate: page 2 now
-- also holds dd-5-0 (page 5 is skipped); the job drops the memos, and the
-- next job, reading every page, stores page 5's version (the last one)
SELECT add_paused(mock('/memo/items?id=dd&style=cursor'),
  '{"response_path": "data", "unique_key": "id", "paging_cursor_request_path": "cursor",
    "paging_cursor_metadata_response_path": "next_cursor", "delete_mode": "soft",
    "auto_mapping": false}') AS dd \gset
SELECT run_quiet(:dd);
SELECT mock_get('/memo/set?id=dd&dup=2&dupof=5');
SELECT memo_report('dd');
SELECT run_quiet(:dd);
SELECT * FROM memo_last_job(:dd);
SELECT memo_report('dd');
SELECT count(*) FROM nango.page_memos WHERE sync_id = :dd;
SELECT run_quiet(:dd);
SELECT * FROM memo_last_job(:dd);
SELECT memo_report('dd');
SELECT data->>'v' AS v FROM nango.raw WHERE sync_id = :dd AND unique_key = 'dd-5-0';

-- a failed job leaves the memos as they were: page 2 changed, then page 5
-- failed; the memo of page 2 still describes the stored (old) records, so
-- the next job reads page 2 again and updates them
SELECT add_paused(mock('/memo/items?id=f&style=cursor'),
  '{"response_path": "data", "unique_key": "id", "paging_cursor_request_path": "cursor",
    "paging_cursor_metadata_response_path": "next_cursor", "auto_mapping": false,
    "retries": 0}') AS f \gset
SELECT run_quiet(:f);
SELECT body_hash AS page2_hash FROM nango.page_memos WHERE sync_id = :f AND page = 2 \gset
SELECT mock_get('/memo/set?id=f&bump=2&fail=5');
SELECT memo_report('f');
SELECT run_quiet(:f);
SELECT body_hash = :'page2_hash' AS page2_memo_kept FROM nango.page_memos WHERE sync_id = :f AND page = 2;
SELECT count(*) FILTER (WHERE data->>'v' = '1') FROM nango.raw WHERE sync_id = :f;
SELECT memo_report('f');
SELECT mock_get('/memo/set?id=f&fail=');
SELECT run_quiet(:f);
SELECT * FROM memo_last_job(:f);
SELECT memo_report('f');
SELECT count(*) FILTER (WHERE data->>'v' = '1') FROM nango.raw WHERE sync_id = :f;

-- a page not stored cleanly (a \u0000 replaced on page 2) gets no memo
SELECT add_paused(mock('/memo/items?id=n&style=cursor'),
  '{"response_path": "data", "unique_key": "id", "paging_cursor_request_path": "cursor",
    "paging_cursor_metadata_response_path": "next_cursor", "auto_mapping": false}') AS n \gset
SELECT mock_get('/memo/set?id=n&nul=2');
SELECT run_quiet(:n);
SELECT page FROM memo_rows(:n);
SELECT run_quiet(:n);
SELECT * FROM memo_last_job(:n);
SELECT memo_report('n');

-- without validators (no ETag, no Last-Modified): the same body is
-- recognised by its hash
SELECT add_paused(mock('/memo/items?id=h&style=cursor'),
  '{"response_path": "data", "unique_key": "id", "paging_cursor_request_path": "cursor",
    "paging_cursor_metadata_response_path": "next_cursor", "auto_mapping": false}') AS h \gset
SELECT mock_get('/memo/set?id=h&validators=0');
SELECT run_quiet(:h);
SELECT etag, last_modified FROM memo_rows(:h) LIMIT 1;
SELECT mock_get('/memo/set?id=h&bump=2');
SELECT memo_report('h');
-- (a stored row altered behind nango's back shows which pages were not
-- compared: h-4-0 stays as altered, page 2's records are updated)
UPDATE nango.raw SET data = data || '{"altered": true}', data_hash = 'altered' WHERE sync_id = :h AND unique_key = 'h-4-0';
SELECT run_quiet(:h);
SELECT * FROM memo_last_job(:h);
SELECT memo_report('h');
SELECT unique_key, data->>'v' AS v, data->>'altered' AS altered FROM nango.raw
 WHERE sync_id = :h AND (data->>'v' <> '0' OR data ? 'altered') ORDER BY 1;

-- next URL in the body, Link header, offset: unchanged second jobs skip
-- every page with the same counts; a change on page 2 is read
SELECT add_paused(mock('/memo/items?id=u&style=url'),
  '{"response_path": "data", "unique_key": "id", "paging_url_path": "next",
    "auto_mapping": false}') AS u \gset
SELECT add_paused(mock('/memo/items?id=l&style=link'),
  '{"response_path": "data", "unique_key": "id", "paging_header_link_rel": "next",
    "auto_mapping": false}') AS l \gset
SELECT add_paused(mock('/memo/items?id=o&style=offset'),
  '{"response_path": "data", "unique_key": "id", "paging_offset_request_path": "offset",
    "paging_limit_request_path": "limit", "paging_limit": 3, "auto_mapping": false}') AS o \gset
SELECT s.style, run_quiet(s.sid), (memo_last_job(s.sid)).*
  FROM unnest(ARRAY[:u, :l, :o], ARRAY['url', 'link', 'offset']) AS s(sid, style);
SELECT memo_report('u'), memo_report('l'), memo_report('o');
SELECT s.style, run_quiet(s.sid), (memo_last_job(s.sid)).*
  FROM unnest(ARRAY[:u, :l, :o], ARRAY['url', 'link', 'offset']) AS s(sid, style);
SELECT memo_report('u'), memo_report('l'), memo_report('o');
SELECT mock_get('/memo/set?id=' || x || '&bump=2') FROM unnest(ARRAY['u', 'l', 'o']) AS x;
SELECT s.style, run_quiet(s.sid), (memo_last_job(s.sid)).*
  FROM unnest(ARRAY[:u, :l, :o], ARRAY['url', 'link', 'offset']) AS s(sid, style);
SELECT memo_report('u'), memo_report('l'), memo_report('o');

-- an API that echoes the sync's key in its next URLs: the memos hold a
-- marker in its place, never the key; the unchanged pages are still
-- recognised (the key is redacted before the body is hashed)
SELECT add_paused(mock('/ck/echo?id=memo&pages=3'),
  '{"response_path": "data", "unique_key": "id", "paging_url_path": "next",
    "query_params": {"api_key": "k3y-of-ck-sync"}, "auto_mapping": false}') AS e \gset
SELECT run_quiet(:e);
UPDATE nango.raw SET data_hash = 'altered' WHERE sync_id = :e AND unique_key = 'memo-2-a';
SELECT run_quiet(:e);
SELECT * FROM memo_last_job(:e);
SELECT data_hash FROM nango.raw WHERE sync_id = :e AND unique_key = 'memo-2-a';
SELECT count(*) AS memos, count(*) FILTER (WHERE to_jsonb(m)::text LIKE '%k3y-of-ck-sync%') AS with_key,
       count(*) FILTER (WHERE m.paging->>'next_url' LIKE '%api_key={nango-secret-%}%') AS with_marker
  FROM nango.page_memos m WHERE m.sync_id = :e;

-- 150 pages: memos are written in batches; every page gets its memo,
-- with its keys (delete_mode), and the next job skips every page
SELECT add_paused(mock('/memo/items?id=big&style=cursor'),
  '{"response_path": "data", "unique_key": "id", "paging_cursor_request_path": "cursor",
    "paging_cursor_metadata_response_path": "next_cursor", "delete_mode": "hard",
    "auto_mapping": false}') AS big \gset
SELECT mock_get('/memo/set?id=big&pages=150');
SELECT run_quiet(:big);
SELECT count(*), min(page), max(page), sum(records), sum(cardinality(keys)),
       bool_and(keys[1] = 'big-' || page || '-0' AND keys[3] = 'big-' || page || '-2')
  FROM nango.page_memos WHERE sync_id = :big;
SELECT jsonb_array_length(r->'full') AS full_pages FROM memo_report('big') r;
SELECT run_quiet(:big);
SELECT * FROM memo_last_job(:big);
SELECT r->'hits' AS hits, r->'not_modified' AS not_modified, r->'full' AS full_pages
  FROM memo_report('big') r;

-- overwrite mode never uses memos
SELECT add_paused(mock('/memo/items?id=w&style=cursor'),
  '{"response_path": "data", "paging_cursor_request_path": "cursor",
    "paging_cursor_metadata_response_path": "next_cursor", "auto_mapping": false}') AS w \gset
SELECT run_quiet(:w);
SELECT run_quiet(:w);
SELECT * FROM memo_last_job(:w);
SELECT memo_report('w');
SELECT count(*) FROM nango.page_memos WHERE sync_id = :w;

-- a 304 to a request without validators fails the job, clearly
SELECT add_paused(mock('/memo/items?id=x&style=cursor'),
  '{"response_path": "data", "unique_key": "id", "paging_cursor_request_path": "cursor",
    "paging_cursor_metadata_response_path": "next_cursor", "auto_mapping": false}') AS x \gset
SELECT mock_get('/memo/set?id=x&always304=1');
SELECT run_quiet(:x);
SELECT status, error FROM memo_last_job(:x);

-- memos are not readable by other roles
CREATE ROLE memo_reader;
SET ROLE memo_reader;
SELECT count(*) FROM nango.page_memos;
RESET ROLE;
DROP ROLE memo_reader;

DROP EXTENSION nango CASCADE;
DROP FUNCTION memo_last_job(bigint);
DROP FUNCTION memo_report(text);
DROP FUNCTION memo_rows(bigint);
DROP FUNCTION sync_once(text, jsonb);
DROP FUNCTION run_quiet(bigint);
DROP FUNCTION mock_requests(text, text);
DROP FUNCTION unport(text);
DROP FUNCTION mock_get(text);
DROP FUNCTION mock(text);
DROP FUNCTION add_paused(text, jsonb);
