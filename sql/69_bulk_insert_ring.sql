-- A sync's new rows go into nango.raw and its mapped table through a ring
-- of buffers, as COPY's do: a large first sync leaves at most the ring's
-- 16 MB (2,048 buffers of the test server's 128 MB) of each table's new
-- pages in shared buffers, instead of pushing the rest of the database out.
-- Every row is still stored.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS nango CASCADE;
CREATE EXTENSION IF NOT EXISTS pg_buffercache;
RESET client_min_messages;
CREATE EXTENSION nango;
-- buffers holding pages of a relation's main fork in this database
CREATE FUNCTION pg_temp.buffers(rel regclass) RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*) FROM pg_buffercache b
   WHERE b.relfilenode = pg_relation_filenode(rel) AND b.relforknumber = 0
     AND b.reldatabase = (SELECT oid FROM pg_database WHERE datname = current_database()) $$;
SELECT current_setting('shared_buffers') AS shared_buffers;
SELECT pg_relation_size('nango.raw') / 8192 AS raw_pages_before,
       pg_temp.buffers('nango.raw') AS raw_buffers_before \gset
SELECT nango.add_sync(current_setting('nango_test.mock_url') || '/bulk/contacts',
  '{"response_path": "results", "unique_key": "id", "paging_cursor_request_path": "after",
    "paging_cursor_metadata_response_path": "paging.next.after",
    "query_params": {"pages": 1200, "per": 100}}') AS sid \gset
SELECT nango.pause_sync(:sid);
SELECT format('nango._nango_sync_%s', :sid) AS tbl \gset
SELECT nango.run_sync(:sid) AS jid \gset
SELECT j.status, j.page_count, j.fetched_count, j.added_count
  FROM nango.jobs j WHERE j.id = :jid;
-- right after the job (before any query reads the tables): the new pages
-- are far more than the ring holds; those in shared buffers about the ring
SELECT pg_relation_size('nango.raw') / 8192 - :raw_pages_before > 4 * 2048 AS raw_grew_past_the_ring,
       pg_temp.buffers('nango.raw') - :raw_buffers_before <= 2048 + 64 AS raw_buffers_within_the_ring,
       pg_relation_size(:'tbl') / 8192 > 2048 + 1024 AS mapped_grew_past_the_ring,
       pg_temp.buffers(:'tbl') <= 2048 + 64 AS mapped_buffers_within_the_ring;
SELECT count(*) AS raw_rows, count(DISTINCT unique_key) AS raw_keys,
       count(*) FILTER (WHERE data->'properties'->>'email' = 'user' || unique_key || '@example.com') AS raw_content_right
  FROM nango.raw WHERE sync_id = :sid;
SELECT count(*) AS mapped_rows, count(DISTINCT id) AS mapped_ids,
       sum(properties_num_employees) AS employees,
       count(*) FILTER (WHERE properties_email = 'user' || id || '@example.com'
                          AND properties_address_city = 'Springfield') AS mapped_content_right
  FROM :tbl;
SELECT nango.delete_sync(:sid, drop_data => true);
DROP EXTENSION pg_buffercache;
