-- Child syncs with concurrency (docs/config.md): up to `concurrency`
-- parents' request chains in flight at once, each following its own
-- paging while the answers arrive out of order (later parents answer
-- first); every record stays under its own parent and rows are stored in
-- parent order; a 404 of one parent skips only that parent; a 500 of one
-- parent fails the job and keeps nothing; a rate_limit holds for all the
-- chains together.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS nango CASCADE;
RESET client_min_messages;
CREATE EXTENSION nango;
SET nango.log_level = error;
\i test/sql/engine_helpers.sql
CREATE FUNCTION job_of(sid bigint, OUT status text, OUT pages bigint, OUT fetched bigint,
  OUT added bigint, OUT updated bigint, OUT skipped bigint, OUT error text)
LANGUAGE sql AS $$
  SELECT status, page_count, fetched_count, added_count, updated_count, skipped_count,
         unport(error_message)
    FROM nango.jobs WHERE sync_id = sid ORDER BY id DESC LIMIT 1 $$;
-- a child's rows: how many, how many not under the parent their record
-- names, and whether raw ids follow parent key, page and record order
CREATE FUNCTION child_check(sid bigint, OUT rows bigint, OUT wrong_parent bigint,
  OUT in_parent_order boolean) LANGUAGE sql AS $$
  SELECT count(*),
         count(*) FILTER (WHERE metadata->>'_nango_parent_key' IS DISTINCT FROM data->>'parent'),
         array_agg(id ORDER BY id) IS NOT DISTINCT FROM
           array_agg(id ORDER BY metadata->>'_nango_parent_key' COLLATE "C",
                     (data->>'page')::int, (data->>'n')::int)
    FROM nango.raw WHERE sync_id = sid AND deleted_at IS NULL $$;
-- records and pages per parent
CREATE FUNCTION per_parent(sid bigint) RETURNS TABLE (parent text, records bigint, pages bigint)
LANGUAGE sql AS $$
  SELECT p, count(*), count(DISTINCT pg)
    FROM (SELECT metadata->>'_nango_parent_key' AS p, data->>'page' AS pg
            FROM nango.raw WHERE sync_id = sid AND deleted_at IS NULL) r
   GROUP BY p ORDER BY p COLLATE "C" $$;
-- what the mock recorded for a run
CREATE FUNCTION report(run text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE sid bigint; r jsonb;
BEGIN
  sid := add_paused(mock('/children/conc/report?run=' || run), '{"auto_mapping": false}');
  PERFORM nango.run_sync(sid);
  SELECT data INTO r FROM nango.raw WHERE sync_id = sid;
  DELETE FROM nango.syncs WHERE id = sid;
  RETURN r;
END $$;
-- the most requests of times (Unix seconds) in any window [t, t + width)
CREATE FUNCTION max_in_window(times jsonb, width float8) RETURNS bigint LANGUAGE sql AS $$
  SELECT coalesce(max((SELECT count(*) FROM jsonb_array_elements_text(times) b
                        WHERE b::float8 >= a::float8 AND b::float8 < a::float8 + width)), 0)
    FROM jsonb_array_elements_text(times) a $$;
-- a child of parents over /children/conc/items with these query_params and settings
CREATE FUNCTION add_child(parents bigint, params jsonb, extra jsonb DEFAULT '{}') RETURNS bigint
LANGUAGE sql AS $$
  SELECT add_paused(mock('/children/conc/items/${parent.id}'),
    jsonb_build_object('parent', jsonb_build_object('sync', parents), 'unique_key', 'n',
                       'auto_mapping', false, 'paging_header_link_rel', 'next', 'concurrency', 8,
                       'query_params', '{"n": "10", "pages": "${parent.pages}"}'::jsonb || params)
    || extra) $$;
SELECT mock_get('/__reset');

-- ten parents: parent 1 one page, 9 and 10 seven pages, the others three;
-- parent i answers after (11 - i) * 15 ms, so later parents answer first
-- and parents 9 and 10 deliver more pages than a chain keeps waiting
SELECT add_paused(mock('/children/conc/parents?n=10'),
  '{"unique_key": "id", "auto_mapping": false}') AS parents \gset
SELECT run_quiet(:parents);
SELECT add_child(:parents, '{"run": "ok"}', '{"auto_mapping": true, "mapped_table": "conc_items"}') AS items \gset
SELECT run_quiet(:items);
SELECT * FROM job_of(:items);
SELECT * FROM child_check(:items);
SELECT * FROM per_parent(:items);
SELECT count(*) AS mapped_rows,
       count(*) FILTER (WHERE _nango_parent_key IS DISTINCT FROM parent::text) AS mapped_wrong_parent
  FROM nango.conc_items;
-- the chains were in flight together, at most 8 at once, and several
-- chains were past their first page at once (each pages on its own)
SELECT jsonb_array_length(r->'times') AS requests,
       (r->>'max_in_flight')::int BETWEEN 2 AND 8 AS concurrent,
       (r->>'max_later_in_flight')::int >= 2 AS paging_side_by_side
  FROM report('ok') r;
-- with concurrency 1 one request at a time, and the same records
SELECT nango.update_sync(:items, '{"concurrency": 1, "query_params": {"run": "one", "n": "10", "pages": "${parent.pages}"}}');
SELECT run_quiet(:items);
SELECT * FROM job_of(:items);
SELECT * FROM child_check(:items);
SELECT jsonb_array_length(r->'times') AS requests, r->'max_in_flight' AS max_in_flight,
       r->'max_later_in_flight' AS max_later_in_flight
  FROM report('one') r;

-- a 404 for parent 4 among the concurrent chains skips that parent only
SELECT add_child(:parents, '{"run": "gone", "gone": "4"}') AS gone \gset
SELECT run_quiet(:gone);
SELECT * FROM job_of(:gone);
SELECT w AS warning FROM nango.jobs j, unnest(j.warnings) w
 WHERE j.id = (SELECT max(id) FROM nango.jobs WHERE sync_id = :gone);
SELECT * FROM child_check(:gone);
SELECT * FROM per_parent(:gone);

-- a 500 on parent 6's last page fails the job (after earlier parents'
-- pages were stored) and nothing is kept; the next run stores everything
SELECT add_child(:parents, '{"run": "fail", "fail": "6"}', '{"retries": 0}') AS fail \gset
SELECT run_quiet(:fail);
SELECT status, error FROM job_of(:fail);
SELECT count(*) AS rows_kept FROM nango.raw WHERE sync_id = :fail;
SELECT nango.update_sync(:fail, '{"query_params": {"run": "fail2", "n": "10", "pages": "${parent.pages}"}}');
SELECT run_quiet(:fail);
SELECT * FROM child_check(:fail);

-- a rate_limit of 4 requests per second holds for the chains together:
-- 13 requests of 5 parents, no window of a second with more than 4
SELECT add_paused(mock('/children/conc/parents?n=5'),
  '{"unique_key": "id", "auto_mapping": false}') AS few \gset
SELECT run_quiet(:few);
SELECT add_child(:few, '{"run": "rl", "n": "5", "step_ms": "1"}',
  '{"rate_limit": {"requests": 4, "per": "1 second"}}') AS limited \gset
SELECT run_quiet(:limited);
SELECT status, pages, fetched FROM job_of(:limited);
SELECT jsonb_array_length(r->'times') AS requests,
       max_in_window(r->'times', 0.95) <= 4 AS within_limit,
       (r->'times'->>12)::float8 - (r->'times'->>0)::float8 >= 1.9 AS spread_over_2s
  FROM report('rl') r;

SET client_min_messages = warning;
DROP EXTENSION nango CASCADE;
DROP FUNCTION add_child(bigint, jsonb, jsonb);
DROP FUNCTION max_in_window(jsonb, float8);
DROP FUNCTION report(text);
DROP FUNCTION per_parent(bigint);
DROP FUNCTION child_check(bigint);
DROP FUNCTION job_of(bigint);
DROP FUNCTION sync_once(text, jsonb);
DROP FUNCTION run_quiet(bigint);
DROP FUNCTION mock_requests(text, text);
DROP FUNCTION unport(text);
DROP FUNCTION mock_get(text);
DROP FUNCTION mock(text);
DROP FUNCTION add_paused(text, jsonb);
