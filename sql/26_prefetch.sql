-- The next page's request is sent before the current page is stored: a
-- failure while storing page k still reports page k (URL, status, body),
-- the API gets exactly the requests it got when pages were fetched one after
-- the other (none twice, none after the last page or max_total), a page
-- whose storing takes longer than the timeout does not fail the next page,
-- POST bodies, redirects, closed connections and a Pizzly 401 on page 2.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS nango CASCADE;
RESET client_min_messages;
CREATE EXTENSION nango;
SET nango.log_level = warning;
\i test/sql/engine_helpers.sql
-- the job row of a sync's last job, ports hidden
CREATE FUNCTION last_job(sid bigint, OUT status text, OUT pages bigint, OUT fetched bigint,
  OUT error text, OUT detail text) LANGUAGE sql AS $$
  SELECT status, page_count, fetched_count, unport(error_message), regexp_replace(unport(error_detail), 'Failing row contains \([^\n]*\)', 'Failing row contains (...)')
    FROM nango.jobs WHERE sync_id = sid ORDER BY id DESC LIMIT 1 $$;
-- runs a new sync once: its job and the requests the mock received for
-- the path ("-" for an empty query string)
CREATE FUNCTION paged(path text, config jsonb,
  OUT status text, OUT pages bigint, OUT fetched bigint, OUT requests text)
LANGUAGE plpgsql AS $$
BEGIN
  SELECT s.status, s.pages, s.fetched INTO status, pages, fetched FROM sync_once(path, config) s;
  SELECT string_agg(coalesce(nullif(q, ''), '-'), ' ') INTO requests
    FROM mock_requests(split_part(path, '?', 1)) q;
END $$;
CREATE FUNCTION run_fresh(sid bigint) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  PERFORM mock_get('/__reset');
  RETURN run_quiet(sid);
END $$;

-- 1. A CHECK constraint of the mapped table fails on page 2, after page 3
-- was requested: the error detail shows page 2's URL, its status (203) and
-- its body, and nothing of the job is kept (page 1 was stored, then undone).
SELECT add_paused(mock('/prefetch/items?rev=1'), '{"response_path": "data", "unique_key": "id",
  "paging_cursor_metadata_response_path": "meta.next", "paging_cursor_request_path": "cursor"}') AS s1 \gset
SELECT run_fresh(:s1);
SELECT format('nango._nango_sync_%s', :s1) AS t1 \gset
ALTER TABLE :t1 ADD CONSTRAINT v_ok CHECK (v <> 'bad');
UPDATE nango.syncs SET url = mock('/prefetch/items?rev=2&bad=2') WHERE id = :s1;
SELECT run_fresh(:s1);
SELECT * FROM last_job(:s1);
SELECT * FROM mock_requests('/prefetch/items');
SELECT data->>'rev' AS rev, count(*) FROM nango.raw WHERE sync_id = :s1 GROUP BY 1;
SELECT rev, count(*), count(DISTINCT _nango_job_id) AS jobs FROM :t1 GROUP BY 1;

-- 2. The sync's owner may not write its mapped table: page 1 is unchanged
-- (nothing to map), page 2 changed: the failure names page 2.
CREATE ROLE nango_pf_owner;
GRANT CREATE ON SCHEMA public TO nango_pf_owner;
SET ROLE nango_pf_owner;
SELECT add_paused(mock('/prefetch/items?rev=1'), '{"response_path": "data", "unique_key": "id",
  "mapped_table": "public.nango_pf_items",
  "paging_cursor_metadata_response_path": "meta.next", "paging_cursor_request_path": "cursor"}') AS s2 \gset
SELECT run_quiet(:s2);
REVOKE UPDATE ON public.nango_pf_items FROM nango_pf_owner;
RESET ROLE;
UPDATE nango.syncs SET url = mock('/prefetch/items?rev=1&change=2') WHERE id = :s2;
SELECT mock_get('/__reset');
SET ROLE nango_pf_owner;
SELECT run_quiet(:s2);
RESET ROLE;
SELECT * FROM last_job(:s2);
SELECT * FROM mock_requests('/prefetch/items');
SELECT count(*) FILTER (WHERE data ? 'changed') AS changed, count(*) FROM nango.raw WHERE sync_id = :s2;
-- the mapped table is as before (the column "changed" added for page 2 is gone too)
SELECT count(*), count(DISTINCT _nango_job_id) AS jobs FROM public.nango_pf_items;
SELECT count(*) AS changed_columns FROM pg_attribute
 WHERE attrelid = 'public.nango_pf_items'::regclass AND attname = 'changed';

-- 3. Requests of every paging style, stopped by the last page, an empty page
-- or max_total: each page once, in order, nothing after the last one.
-- cursor in the body
SELECT status, pages, fetched, error FROM sync_once('/prefetch/items?n=3', '{"response_path": "data",
  "paging_cursor_metadata_response_path": "meta.next", "paging_cursor_request_path": "cursor"}');
SELECT * FROM mock_requests('/prefetch/items');
SELECT m, p.* FROM unnest(ARRAY[1, 2, 3, 4, 5, 6, 7]) AS m,
  LATERAL paged('/prefetch/items?n=3', jsonb_build_object('response_path', 'data',
    'paging_cursor_metadata_response_path', 'meta.next', 'paging_cursor_request_path', 'cursor',
    'max_total', m)) AS p;
-- cursor from the last record; an empty page ends
SELECT status, pages, fetched, error FROM sync_once('/lastrec/items',
  '{"response_path": "results", "paging_cursor_object_response_path": "cursor",
    "paging_cursor_request_path": "after", "unique_key": "id"}');
SELECT * FROM mock_requests('/lastrec/items');
SELECT status, pages, fetched, error FROM sync_once('/lastrec/items',
  '{"response_path": "results", "paging_cursor_object_response_path": "cursor",
    "paging_cursor_request_path": "after", "unique_key": "id", "max_total": 20}');
SELECT * FROM mock_requests('/lastrec/items');
-- next URL in the body
SELECT status, pages, fetched, error FROM sync_once('/pokeapi-q/pokemon?limit=15',
  '{"response_path": "results", "paging_url_path": "next", "unique_key": "name"}');
SELECT * FROM mock_requests('/pokeapi-q/pokemon');
SELECT status, pages, fetched, error FROM sync_once('/pokeapi-q/pokemon?limit=15',
  '{"response_path": "results", "paging_url_path": "next", "unique_key": "name", "max_total": 16}');
SELECT * FROM mock_requests('/pokeapi-q/pokemon');
-- Link header
SELECT status, pages, fetched, error FROM sync_once('/github/repos/octo/hello/stargazers',
  '{"paging_header_link_rel": "next", "unique_key": "id", "max_total": 60}');
SELECT * FROM mock_requests('/github/repos/octo/hello/stargazers');
-- offset: an empty page ends, and max_total
SELECT status, pages, fetched, error FROM sync_once('/offset/items',
  '{"response_path": "items", "paging_offset_request_path": "offset",
    "paging_limit_request_path": "limit", "paging_limit": 10}');
SELECT * FROM mock_requests('/offset/items');
SELECT status, pages, fetched, error FROM sync_once('/offset/items',
  '{"response_path": "items", "paging_offset_request_path": "offset",
    "paging_limit_request_path": "limit", "paging_limit": 10, "max_total": 14}');
SELECT * FROM mock_requests('/offset/items');
-- page number: an empty page ends, and max_total
SELECT status, pages, fetched, error FROM sync_once('/pages/contacts',
  '{"query_params": {"per_page": 5}, "response_path": "contacts", "paging_number_request_path": "page"}');
SELECT * FROM mock_requests('/pages/contacts');
SELECT status, pages, fetched, error FROM sync_once('/pages/contacts',
  '{"query_params": {"per_page": 5}, "response_path": "contacts", "paging_number_request_path": "page",
    "max_total": 11}');
SELECT * FROM mock_requests('/pages/contacts');
-- a paging loop fails on the page that repeats, without a request after it
SELECT status, pages, fetched, error FROM sync_once('/stops/loop',
  '{"response_path": "data", "paging_cursor_metadata_response_path": "meta.next",
    "paging_cursor_request_path": "cursor"}');
SELECT * FROM mock_requests('/stops/loop');

-- 4. POST with the cursor in the JSON body: every request carries exactly
-- the body of its page (non-ASCII text and quotes included).
SELECT status, pages, fetched, error FROM sync_once('/prefetch/post',
  '{"method": "POST", "body": {"page": {"size": 2}, "q": "ünï \"quoted\" \\ end"},
    "response_path": "results", "paging_cursor_metadata_response_path": "next_cursor",
    "paging_cursor_request_path": "page.cursor"}');
SELECT * FROM mock_requests('/prefetch/post', 'body');
SELECT (q::jsonb)->>'content-length' AS content_length, (q::jsonb)->>'content-type' AS content_type
  FROM mock_requests('/prefetch/post', 'headers') q;

-- 5. A redirect of the next page's request, and an API that closes the
-- connection after every answer.
SELECT status, pages, fetched, error FROM sync_once('/prefetch/items?redirect=2', '{"response_path": "data",
  "paging_cursor_metadata_response_path": "meta.next", "paging_cursor_request_path": "cursor"}');
SELECT * FROM mock_requests('/prefetch/items');
SELECT status, pages, fetched, error FROM sync_once('/prefetch/items?close=1&n=4', '{"response_path": "data",
  "paging_cursor_metadata_response_path": "meta.next", "paging_cursor_request_path": "cursor"}');
SELECT * FROM mock_requests('/prefetch/items');

-- A 429 for the next page's request is retried like any other.
SELECT status, pages, fetched, error FROM sync_once('/prefetch/items?busy=2', '{"response_path": "data",
  "paging_cursor_metadata_response_path": "meta.next", "paging_cursor_request_path": "cursor", "retries": 1}');
SELECT * FROM mock_requests('/prefetch/items');

-- A next page's request that fails at once (nothing listens there): the
-- same error as when it is sent after the page is stored, retried as usual.
SELECT status, pages, fetched, regexp_replace(error, 'after [0-9]+ ms', 'after N ms') AS error
  FROM sync_once('/prefetch/dead', '{"response_path": "data", "paging_url_path": "next", "retries": 1}');
SELECT regexp_replace(detail, 'after [0-9]+ ms', 'after N ms') AS detail
  FROM last_job((SELECT max(id) FROM nango.syncs));

-- 6. Timeouts.  Storing each page takes 0.6 s (a trigger), more than the
-- 0.4 s timeout, while the API answers at once: the job succeeds with no
-- retries, and each page is requested once.
SELECT add_paused(mock('/prefetch/items?rev=1'), '{"response_path": "data", "unique_key": "id",
  "timeout": 0.4, "retries": 0,
  "paging_cursor_metadata_response_path": "meta.next", "paging_cursor_request_path": "cursor"}') AS s3 \gset
SELECT run_fresh(:s3);
SELECT format('nango._nango_sync_%s', :s3) AS t3 \gset
CREATE FUNCTION pf_slow() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN PERFORM pg_sleep(0.6); RETURN NULL; END $$;
CREATE TRIGGER slow AFTER INSERT OR UPDATE ON :t3 FOR EACH STATEMENT EXECUTE FUNCTION pf_slow();
UPDATE nango.syncs SET url = mock('/prefetch/items?rev=2') WHERE id = :s3;
SELECT run_fresh(:s3);
SELECT status, pages, fetched, error FROM last_job(:s3);
SELECT * FROM mock_requests('/prefetch/items');
SELECT rev, count(*) FROM :t3 GROUP BY 1;
-- An API slower than the timeout on page 2: one request with retries 0,
-- two with retries 1 (the request sent early is the first attempt).
SELECT status, pages, fetched, error FROM sync_once('/prefetch/items?slow=2&delay=1.2',
  '{"response_path": "data", "timeout": 0.4, "retries": 0,
    "paging_cursor_metadata_response_path": "meta.next", "paging_cursor_request_path": "cursor"}');
SELECT * FROM mock_requests('/prefetch/items');
SELECT status, pages, fetched, error FROM sync_once('/prefetch/items?slow=2&delay=1.2',
  '{"response_path": "data", "timeout": 0.4, "retries": 1,
    "paging_cursor_metadata_response_path": "meta.next", "paging_cursor_request_path": "cursor"}');
SELECT * FROM mock_requests('/prefetch/items');
SELECT detail FROM last_job((SELECT max(id) FROM nango.syncs WHERE url LIKE '%slow=2%'));

-- 7. Pizzly: page 1's token expires after page 1; the request for page 2
-- sent early gets a 401, the token is fetched again and page 2 is asked
-- again with the new token.
SELECT set_config('nango.pizzly_base_url', mock('/prefetch/pizzly'), false) IS NOT NULL AS set;
SELECT status, pages, fetched, error FROM sync_once('/prefetch/pz/items',
  '{"pizzly_connection_id": "c", "pizzly_provider_config_key": "k", "response_path": "data",
    "paging_cursor_metadata_response_path": "meta.next", "paging_cursor_request_path": "cursor"}');
SELECT coalesce(nullif(q.query, ''), '(page 1)') AS query,
       substring(h.headers::jsonb->>'authorization' FROM 'pft_([0-9]+)') AS token
  FROM mock_requests('/prefetch/pz/items') WITH ORDINALITY q(query, n)
  JOIN mock_requests('/prefetch/pz/items', 'headers') WITH ORDINALITY h(headers, n) USING (n)
 ORDER BY n;
SELECT count(*) AS token_fetches FROM mock_requests('/prefetch/pizzly/connection/c');
SELECT data->>'id' AS id, data->>'token' AS token FROM nango.raw
 WHERE sync_id = (SELECT max(id) FROM nango.syncs WHERE url LIKE '%/prefetch/pz/%') ORDER BY 1;
RESET nango.pizzly_base_url;

-- The next URL's secrets join the job's list when that page is fetched,
-- not when its request is sent early: a failure while storing page 2, whose
-- next URL carries ten new secret values (more than the list of recent URL
-- secrets keeps besides page 2's), still redacts page 2's own signature
-- echoed in page 2's body.
SELECT add_paused(mock('/prefetch/signed?p=1&sig=sig1SECRETVALUE'),
  '{"response_path": "data", "paging_url_path": "next", "unique_key": "id",
    "mapped_table": "pf_signed"}') AS sg \gset
SELECT run_quiet(:sg);
ALTER TABLE nango.pf_signed ADD CONSTRAINT v_ok CHECK (v <> 'bad');
UPDATE nango.syncs SET url = mock('/prefetch/signed?p=1&bad=1&sig=sig1SECRETVALUE') WHERE id = :sg;
SELECT run_quiet(:sg);
-- (the next URL in the body is redacted by parameter name: sig, token1...)
SELECT status, page_count, strpos(error_detail, 'VALUE') = 0 AS no_secret,
       strpos(error_detail, 'signature received: REDACTED') > 0 AS echo_redacted,
       strpos(error_detail, '&sig=REDACTED&token1=REDACTED') > 0 AS next_url_redacted
  FROM nango.jobs WHERE sync_id = :sg ORDER BY id DESC LIMIT 1;

-- A failed job leaves nothing behind.
SELECT count(*) AS leftover FROM nango.raw r JOIN nango.jobs j ON j.id = r.job_id
 WHERE j.status <> 'succeeded';

-- mapped tables outlive the extension: drop them
DROP TABLE public.nango_pf_items, :t1, :t3, nango.pf_signed;
REVOKE CREATE ON SCHEMA public FROM nango_pf_owner;
SET client_min_messages = warning;
DROP FUNCTION pf_slow() CASCADE;
DROP EXTENSION nango CASCADE;
RESET client_min_messages;
DROP ROLE nango_pf_owner;
DROP FUNCTION last_job(bigint);
DROP FUNCTION run_fresh(bigint);
DROP FUNCTION paged(text, jsonb);
DROP FUNCTION sync_once(text, jsonb);
DROP FUNCTION run_quiet(bigint);
DROP FUNCTION mock_requests(text, text);
DROP FUNCTION unport(text);
DROP FUNCTION mock_get(text);
DROP FUNCTION mock(text);
DROP FUNCTION add_paused(text, jsonb);
