-- Child syncs (docs/config.md): one request chain per live parent record,
-- placeholders filled from that record, records known by (parent key,
-- own key), 404 of a parent's first child request skipped, per-parent
-- deletes and incremental state, and the refusals.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS nango CASCADE;
DROP SCHEMA IF EXISTS nango CASCADE; -- and the mapped tables left: ids start at 1
RESET client_min_messages;
CREATE EXTENSION nango;
SET nango.log_level = error;
\i test/sql/engine_helpers.sql
-- a child's rows: parent key, own key, a field; deleted or not
CREATE FUNCTION child_rows(sid bigint, field text) RETURNS SETOF text LANGUAGE sql AS $$
  SELECT (metadata->>'_nango_parent_key') || ' ' || unique_key || ' ' || (data->>field)
         || CASE WHEN deleted_at IS NULL THEN '' ELSE ' (deleted)' END
    FROM nango.raw WHERE sync_id = sid ORDER BY unique_key $$;
CREATE FUNCTION job_of(sid bigint, OUT status text, OUT pages bigint, OUT fetched bigint,
  OUT added bigint, OUT updated bigint, OUT deleted bigint, OUT skipped bigint, OUT error text)
LANGUAGE sql AS $$
  SELECT status, page_count, fetched_count, added_count, updated_count, deleted_count,
         skipped_count, unport(error_message)
    FROM nango.jobs WHERE sync_id = sid ORDER BY id DESC LIMIT 1 $$;
SELECT mock_get('/__reset');

-- GitHub: repositories (parent) -> issues (child, Link paging)
SELECT add_paused(mock('/children/gh/repos'),
  '{"friendly_name": "repos", "unique_key": "id", "query_params": {"set": "a"}, "delete_mode": "hard"}') AS repos \gset
SELECT run_quiet(:repos);
SELECT add_paused(mock('/children/gh/repos/${parent.full_name}/issues'),
  '{"friendly_name": "issues", "parent": {"sync": "repos"}, "unique_key": "id", "mapped_table": "gh_issues",
    "paging_header_link_rel": "next", "delete_mode": "hard", "concurrency": 1}') AS issues \gset
-- the parent is stored by id
SELECT config->'parent' = jsonb_build_object('sync', :repos) AS parent_stored_by_id,
       frequency IS NULL AND cron IS NULL AS no_schedule
  FROM nango.syncs WHERE id = :issues;
SELECT run_quiet(:issues);
-- alpha and beta: 4 issues each over 2 pages; gone: 404 (skipped, job succeeds);
-- nameless: no full_name (skipped)
SELECT * FROM job_of(:issues);
SELECT w AS warning FROM nango.jobs j, unnest(j.warnings) w
 WHERE j.id = (SELECT max(id) FROM nango.jobs WHERE sync_id = :issues);
SELECT * FROM child_rows(:issues, 'title');
-- the same issue id under two repositories is two rows, also in the mapped table
SELECT _nango_parent_key, _nango_unique_key, id, title FROM nango.gh_issues ORDER BY 2;
-- requests: each repository's own path, from its first page
SELECT unport(q) FROM mock_requests('/children/gh/repos/octo/alpha/issues') q;
SELECT count(*) AS beta_requests FROM mock_requests('/children/gh/repos/octo/beta/issues');
-- a second run changes nothing
SELECT run_quiet(:issues);
SELECT status, added, updated, deleted FROM job_of(:issues);
-- the parent loses beta upstream: beta's issues are deleted (delete_mode hard)
SELECT nango.update_sync(:repos, '{"query_params": {"set": "b"}}');
SELECT run_quiet(:repos);
SELECT run_quiet(:issues);
SELECT status, added, deleted, skipped FROM job_of(:issues);
SELECT * FROM child_rows(:issues, 'title');
SELECT count(*) AS mapped_rows FROM nango.gh_issues;

-- incremental per parent: each repository sends its own highest updated_at
SELECT nango.update_sync(:repos, '{"query_params": {"set": "a"}}');
SELECT run_quiet(:repos);
SELECT add_paused(mock('/children/gh/repos/${parent.full_name}/issues'),
  ('{"parent": {"sync": ' || :repos || '}, "unique_key": "id", "auto_mapping": false,
    "paging_header_link_rel": "next", "incremental_cursor_path": "updated_at",
    "incremental_request_path": "since"}')::jsonb) AS incr \gset
SELECT run_quiet(:incr);
SELECT jsonb_pretty(incremental_state) FROM nango.syncs WHERE id = :incr;
SELECT mock_get('/__reset');
UPDATE nango.syncs SET incremental_state = '{"11": "2024-01-02T00:00:00Z"}' WHERE id = :incr;
SELECT run_quiet(:incr);
SELECT status, fetched, added, updated FROM job_of(:incr);
-- alpha from its own value; beta (no value) from the beginning
SELECT unport(q) FROM mock_requests('/children/gh/repos/octo/alpha/issues') q;
SELECT unport(q) FROM mock_requests('/children/gh/repos/octo/beta/issues') q;
SELECT incremental_state FROM nango.syncs WHERE id = :incr;

-- HubSpot: deals -> line item associations (cursor paging), placeholder in
-- the path, the same line item under two deals
SELECT add_paused(mock('/children/hs/deals'),
  '{"response_path": "results", "unique_key": "id", "auto_mapping": false}') AS deals \gset
SELECT run_quiet(:deals);
SELECT add_paused(mock('/children/hs/deals/${parent.id}/associations'),
  ('{"parent": {"sync": ' || :deals || '}, "response_path": "results", "unique_key": "id",
    "auto_mapping": false, "paging_cursor_metadata_response_path": "paging.next.after",
    "paging_cursor_request_path": "after", "headers": {"X-Deal": "${parent.dealname}"}}')::jsonb) AS items \gset
SELECT run_quiet(:items);
SELECT * FROM job_of(:items);
SELECT * FROM child_rows(:items, 'type');
SELECT h::jsonb->>'x-deal' AS header FROM mock_requests('/children/hs/deals/302/associations', 'headers') h;

-- Slack: channels -> messages (POST, the channel and the cursor in the body)
SELECT add_paused(mock('/children/slack/channels'),
  '{"response_path": "channels", "unique_key": "id", "auto_mapping": false}') AS channels \gset
SELECT run_quiet(:channels);
SELECT add_paused(mock('/children/slack/history'),
  ('{"parent": {"sync": ' || :channels || '}, "method": "POST", "body": {"channel": "${parent.id}", "limit": 2},
    "response_path": "messages", "unique_key": "ts", "auto_mapping": false,
    "paging_cursor_metadata_response_path": "response_metadata.next_cursor",
    "paging_cursor_request_path": "cursor"}')::jsonb) AS msgs \gset
SELECT mock_get('/__reset');
SELECT run_quiet(:msgs);
SELECT * FROM job_of(:msgs);
SELECT * FROM child_rows(:msgs, 'text');
-- (the channels' chains run together: sorted, not in arrival order)
SELECT b FROM mock_requests('/children/slack/history', 'body') b ORDER BY b COLLATE "C";

-- preview of a child sync: the requests of the first parent record
SELECT page, unport(request) AS request, http_status, record_count, unport(next_request) AS next_request
  FROM nango.preview(mock('/children/gh/repos/${parent.full_name}/issues'),
    '{"parent": {"sync": "repos"}, "unique_key": "id", "paging_header_link_rel": "next"}', 2);

-- refusals
\set VERBOSITY default
SELECT nango.add_sync(mock('/x/${parent.id}'), '{}');
SELECT nango.add_sync(mock('/x'), '{"concurrency": 2}');
SELECT nango.add_sync(mock('/x/${parent.id}'), '{"parent": {"sync": "repos"}, "concurrency": 17}');
SELECT nango.add_sync(mock('/x'), '{"parent": {"sync": "repos"}}');
SELECT nango.add_sync(mock('/x/${parent.id}'), '{"parent": {"id": 1}}');
SELECT nango.add_sync(mock('/x/${parent.id}'), '{"parent": {"sync": "nosuch"}}');
SELECT add_paused(mock('/children/gh/repos'), '{"friendly_name": "keyless"}') AS keyless \gset
SELECT nango.add_sync(mock('/x/${parent.id}'), '{"parent": {"sync": "keyless"}}');
-- a parent with children keeps its unique_key and cannot be deleted
SELECT nango.update_sync(:repos, '{"unique_key": null}');
SELECT nango.delete_sync(:repos, true);
-- cycles and depth
SELECT add_paused(mock('/c/${parent.id}'), '{"friendly_name": "c2", "parent": {"sync": "issues"}, "unique_key": "id"}') AS c2 \gset
SELECT add_paused(mock('/c/${parent.id}'), '{"friendly_name": "c3", "parent": {"sync": "c2"}, "unique_key": "id"}') AS c3 \gset
SELECT nango.add_sync(mock('/c/${parent.id}'), '{"friendly_name": "c4", "parent": {"sync": "c3"}, "unique_key": "id"}');
SELECT nango.update_sync(:issues, jsonb_build_object('parent', jsonb_build_object('sync', :issues)));
SELECT nango.update_sync(:issues, '{"parent": {"sync": "c3"}}');
SELECT nango.update_sync(:c2, jsonb_build_object('parent', jsonb_build_object('sync', :c3)));
-- children first, then the parent
SELECT nango.delete_sync(:c3);
SELECT nango.delete_sync(:c2);
SELECT nango.delete_sync(:issues, true);
SELECT nango.delete_sync(:incr);
SELECT nango.delete_sync(:items);
SELECT nango.delete_sync(:deals);
SELECT nango.delete_sync(:msgs);
SELECT nango.delete_sync(:channels);
SELECT nango.delete_sync(:keyless);
SELECT nango.delete_sync(:repos, true);
DROP FUNCTION job_of(bigint);
DROP FUNCTION child_rows(bigint, text);
DROP FUNCTION sync_once(text, jsonb);
DROP FUNCTION run_quiet(bigint);
DROP FUNCTION mock_requests(text, text);
DROP FUNCTION unport(text);
DROP FUNCTION mock_get(text);
DROP FUNCTION mock(text);
DROP FUNCTION add_paused(text, jsonb);
