-- Every paging style of docs/config.md against mocks of real APIs, the stop
-- rules, loop detection and max_total.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS nango CASCADE;
RESET client_min_messages;
CREATE EXTENSION nango;
SET nango.log_level = warning;
\i test/sql/engine_helpers.sql

-- GitHub stargazers: Link header rel="next", top-level array, 95 users in
-- pages of 30: 4 requests; the URL's own query (per_page) is kept.
SELECT status, pages, fetched, added, error FROM sync_once('/github/repos/octo/hello/stargazers?per_page=30',
  '{"headers": {"Accept": "application/vnd.github+json"}, "paging_header_link_rel": "next",
    "unique_key": "id", "metadata": {"github_org": "octo"}}');
SELECT * FROM mock_requests('/github/repos/octo/hello/stargazers');
SELECT count(*), count(DISTINCT unique_key), min(unique_key), max(unique_key)
  FROM nango.raw WHERE sync_id = (SELECT max(id) FROM nango.syncs);

-- max_total stops fetching (not only trims): 40 of 95 needs 2 requests.
SELECT status, pages, fetched, added FROM sync_once('/github/repos/octo/hello/stargazers',
  '{"paging_header_link_rel": "next", "unique_key": "id", "max_total": 40}');
SELECT * FROM mock_requests('/github/repos/octo/hello/stargazers');

-- query_params arrays give repeated keys; the URL's fragment is not sent
SELECT status, pages, fetched FROM sync_once('/github/users/octocat/repos?sort=updated#readme',
  '{"query_params": {"per_page": 20, "type": ["owner", "member"], "archived": false}}');
SELECT * FROM mock_requests('/github/users/octocat/repos');

-- GitHub user repos, overwrite mode; query_params are not appended to the
-- next URL from the Link header a second time.
SELECT status, pages, fetched, added FROM sync_once('/github/users/octocat/repos',
  '{"query_params": {"per_page": 5}, "paging_header_link_rel": "next"}');
SELECT * FROM mock_requests('/github/users/octocat/repos');

-- Link header variations: several header lines, unquoted rel, rel lists,
-- any order, relative and query-only URLs, odd spacing.
SELECT status, pages, fetched, error FROM sync_once('/github/odd/stargazers',
  '{"paging_header_link_rel": "next"}');
SELECT * FROM mock_requests('/github/odd/stargazers');

-- Slack: cursor in response_metadata.next_cursor; "" ends paging.
SELECT status, pages, fetched, error FROM sync_once('/slack/api/conversations.history',
  '{"query_params": {"channel": "C1", "limit": 10}, "response_path": "messages",
    "paging_cursor_metadata_response_path": "response_metadata.next_cursor",
    "paging_cursor_request_path": "cursor"}');
SELECT * FROM mock_requests('/slack/api/conversations.history');
-- Slack answers errors with HTTP 200 {"ok": false}: response_path is
-- missing on page 1, the job fails and the rows of the sync stay.
SELECT add_paused(mock('/slack/api/conversations.history?channel=C1'), '{
  "auto_mapping": false, "response_path": "messages", "query_params": {"limit": 10},
  "paging_cursor_metadata_response_path": "response_metadata.next_cursor",
  "paging_cursor_request_path": "cursor"}') AS slack \gset
SELECT nango.run_sync(:slack) > 0 AS ran;
SELECT count(*) FROM nango.raw WHERE sync_id = :slack;
UPDATE nango.syncs SET url = replace(url, 'C1', 'C404') WHERE id = :slack;
SELECT run_quiet(:slack);
SELECT count(*) FROM nango.raw WHERE sync_id = :slack;
SELECT status, page_count, error_message FROM nango.jobs WHERE sync_id = :slack ORDER BY id;

-- Reddit: cursor from the last record (data.name), sent as "after"; an
-- empty children array ends paging.
SELECT status, pages, fetched, error FROM sync_once('/reddit/r/redditdev/new.json?limit=12',
  '{"response_path": "data.children", "paging_cursor_object_response_path": "data.name",
    "paging_cursor_request_path": "after", "unique_key": "data.id"}');
SELECT * FROM mock_requests('/reddit/r/redditdev/new.json');
-- created_utc keeps its digits (1672531200.0 is not turned into a float)
SELECT data->'data'->'created_utc' FROM nango.raw
 WHERE sync_id = (SELECT max(id) FROM nango.syncs) ORDER BY unique_key LIMIT 1;

-- Typeform: items, cursor from the last item's token sent as "before".
SELECT status, pages, fetched, error FROM sync_once('/typeform/forms/lR6F4j/responses',
  '{"query_params": {"page_size": 5}, "response_path": "items",
    "paging_cursor_object_response_path": "token", "paging_cursor_request_path": "before",
    "unique_key": "token"}');
SELECT count(*) FROM mock_requests('/typeform/forms/lR6F4j/responses');

-- PokeAPI: next URL in the body (absolute), null on the last page; also a
-- path-absolute and a query-only next URL.
SELECT status, pages, fetched, error FROM sync_once('/pokeapi/api/v2/pokemon',
  '{"response_path": "results", "paging_url_path": "next", "unique_key": "name",
    "query_params": {"limit": 20}}');
SELECT * FROM mock_requests('/pokeapi/api/v2/pokemon');
SELECT status, pages, fetched, error FROM sync_once('/pokeapi-rel/pokemon?limit=15',
  '{"response_path": "results", "paging_url_path": "next", "unique_key": "name"}');
SELECT * FROM mock_requests('/pokeapi-rel/pokemon');
SELECT status, pages, fetched, error FROM sync_once('/pokeapi-q/pokemon?limit=15',
  '{"response_path": "results", "paging_url_path": "next", "unique_key": "name"}');
SELECT * FROM mock_requests('/pokeapi-q/pokemon');
-- a next URL already used is a loop: the job fails
SELECT status, pages, fetched, error FROM sync_once('/pokeapi-loop/pokemon?offset=0&limit=20',
  '{"response_path": "results", "paging_url_path": "next", "unique_key": "name"}');

-- Gmail: nextPageToken / pageToken; an empty mailbox has no "messages":
-- missing on page 1 fails the job.
SELECT status, pages, fetched, error FROM sync_once('/gmail/v1/users/me@example.com/messages',
  '{"query_params": {"maxResults": 5}, "response_path": "messages",
    "paging_cursor_metadata_response_path": "nextPageToken",
    "paging_cursor_request_path": "pageToken", "unique_key": "id"}');
SELECT * FROM mock_requests('/gmail/v1/users/me@example.com/messages');
SELECT status, pages, fetched, error FROM sync_once('/gmail/v1/users/empty@example.com/messages',
  '{"response_path": "messages", "paging_cursor_metadata_response_path": "nextPageToken",
    "paging_cursor_request_path": "pageToken", "unique_key": "id"}');

-- Google Calendar: the last page has nextSyncToken instead of nextPageToken.
SELECT status, pages, fetched, error FROM sync_once('/calendar/v3/calendars/primary/events',
  '{"friendly_name": "Google Cal Events", "query_params": {"maxResults": 3},
    "response_path": "items", "paging_cursor_metadata_response_path": "nextPageToken",
    "paging_cursor_request_path": "pageToken", "unique_key": "id"}');

-- Fairing: one request, numeric ids (2^64 keeps every digit, as key and data).
SELECT status, pages, fetched, added, error FROM sync_once('/fairing/api/questions',
  '{"headers": {"authorization": "fairing-raw-token"}, "response_path": "data", "unique_key": "id"}');
SELECT unique_key, data->'id' AS id FROM nango.raw
 WHERE sync_id = (SELECT max(id) FROM nango.syncs) ORDER BY length(unique_key), unique_key;

-- Notion: POST, cursor in the JSON body (start_cursor), next_cursor null ends.
SELECT status, pages, fetched, error FROM sync_once('/notion/v1/databases/d9824bdc/query',
  '{"method": "POST", "headers": {"Notion-Version": "2022-06-28"}, "body": {"page_size": 4},
    "response_path": "results", "paging_cursor_metadata_response_path": "next_cursor",
    "paging_cursor_request_path": "start_cursor", "unique_key": "id"}');
SELECT * FROM mock_requests('/notion/v1/databases/d9824bdc/query', 'body');
-- a nested body path creates the objects it needs
SELECT status, pages, fetched, error FROM sync_once('/notion-nested/query',
  '{"method": "post", "body": {"page": {"size": 6}}, "response_path": "results",
    "paging_cursor_metadata_response_path": "next_cursor",
    "paging_cursor_request_path": "page.cursor", "unique_key": "id"}');
SELECT * FROM mock_requests('/notion-nested/query', 'body');

-- Offset + limit: the server caps pages at 7 (below paging_limit 10); the
-- offset advances by the records received, nothing is lost; the empty page
-- ends paging.
SELECT status, pages, fetched, added, error FROM sync_once('/offset/items',
  '{"response_path": "items", "paging_offset_request_path": "offset",
    "paging_limit_request_path": "limit", "paging_limit": 10, "unique_key": "id"}');
SELECT * FROM mock_requests('/offset/items');
-- an API that ignores the offset: the same page twice is a loop
SELECT status, pages, fetched, error FROM sync_once('/offset-ignored/items',
  '{"response_path": "items", "paging_offset_request_path": "offset",
    "paging_limit_request_path": "limit", "paging_limit": 5}');
-- max_total in offset paging stops fetching
SELECT status, pages, fetched, error FROM sync_once('/offset/items',
  '{"response_path": "items", "paging_offset_request_path": "offset",
    "paging_limit_request_path": "limit", "paging_limit": 10, "max_total": 10}');
SELECT * FROM mock_requests('/offset/items');

-- Page numbers (1-based, and 0-based with paging_number_start).
SELECT status, pages, fetched, error FROM sync_once('/pages/contacts',
  '{"query_params": {"per_page": 5}, "response_path": "contacts",
    "paging_number_request_path": "page", "unique_key": "id"}');
SELECT * FROM mock_requests('/pages/contacts');
-- with a page size sent along
SELECT status, pages, fetched, error FROM sync_once('/pages/contacts',
  '{"response_path": "contacts", "paging_number_request_path": "page",
    "paging_limit_request_path": "per_page", "paging_limit": 6, "unique_key": "id"}');
SELECT * FROM mock_requests('/pages/contacts');
SELECT status, pages, fetched, error FROM sync_once('/pages0/contacts?page=7',
  '{"response_path": "contacts", "paging_number_request_path": "page",
    "paging_number_start": 0, "unique_key": "id"}');
SELECT * FROM mock_requests('/pages0/contacts');
SELECT status, pages, fetched, error FROM sync_once('/pages-ignored/contacts',
  '{"response_path": "contacts", "paging_number_request_path": "page"}');

-- Stop rules of the cursor styles: missing, null, "" and false end paging;
-- a number is a cursor; a cursor already used is a loop.
SELECT k, (s).status, (s).pages, (s).fetched, (s).error FROM (SELECT k, sync_once('/stops/' || k,
  '{"response_path": "data", "paging_cursor_metadata_response_path": "meta.next",
    "paging_cursor_request_path": "cursor"}') AS s
  FROM unnest(ARRAY['missing', 'null', 'empty', 'false', 'number', 'loop']) AS k) x;
-- cursor from the last record: an empty page ends; a repeated cursor is a loop
SELECT status, pages, fetched, error FROM sync_once('/lastrec/items',
  '{"response_path": "results", "paging_cursor_object_response_path": "cursor",
    "paging_cursor_request_path": "after", "unique_key": "id"}');
SELECT status, pages, fetched, error FROM sync_once('/lastrec-loop/items',
  '{"response_path": "results", "paging_cursor_object_response_path": "cursor",
    "paging_cursor_request_path": "after"}');

-- Unusable keys (missing, null, object, array) are skipped and counted; a
-- key seen again (in the page or a later one) keeps its last version and is
-- counted once; numbers and booleans are usable keys.
SELECT status, pages, fetched, added, updated, unchanged, skipped, error FROM sync_once('/keys/mixed',
  '{"response_path": "data", "unique_key": "id", "paging_cursor_metadata_response_path": "next",
    "paging_cursor_request_path": "cursor"}');
SELECT unique_key, data FROM nango.raw WHERE sync_id = (SELECT max(id) FROM nango.syncs) ORDER BY 1;
-- without unique_key every record is stored, scalars included
SELECT status, pages, fetched, added, skipped FROM sync_once('/keys/mixed',
  '{"response_path": "data", "paging_cursor_metadata_response_path": "next",
    "paging_cursor_request_path": "cursor"}');
SELECT count(*), count(*) FILTER (WHERE jsonb_typeof(data) = 'string') AS strings
  FROM nango.raw WHERE sync_id = (SELECT max(id) FROM nango.syncs);
-- a UTF-8 byte order mark before the JSON is ignored
SELECT status, fetched, error FROM sync_once('/bom/items', '{"response_path": "data"}');

-- A failed job leaves nothing behind.
SELECT count(*) AS leftover FROM nango.raw r JOIN nango.jobs j ON j.id = r.job_id
 WHERE j.status <> 'succeeded';

DROP EXTENSION nango CASCADE;
DROP FUNCTION sync_once(text, jsonb);
DROP FUNCTION run_quiet(bigint);
DROP FUNCTION mock_requests(text, text);
DROP FUNCTION unport(text);
DROP FUNCTION mock_get(text);
DROP FUNCTION mock(text);
DROP FUNCTION add_paused(text, jsonb);
