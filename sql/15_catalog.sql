-- The installed SQL API and its privileges: what any role may do by
-- default (README.md), and nothing more.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS nango;
RESET client_min_messages;
BEGIN;
CREATE ROLE nango_test_user;

-- The API functions: their signatures, volatility and strictness; none is
-- SECURITY DEFINER (the C code switches identity only for its own writes).
SELECT p.proname, pg_get_function_identity_arguments(p.oid) AS args,
       pg_get_function_result(p.oid) AS result, p.provolatile, p.proisstrict, p.prosecdef,
       has_function_privilege('nango_test_user', p.oid, 'EXECUTE') AS executable
  FROM pg_proc p
 WHERE p.pronamespace = 'nango'::regnamespace
   AND p.proname IN ('add_sync', 'update_sync', 'pause_sync', 'resume_sync', 'trigger_sync',
                     'delete_sync', 'run_sync', 'flatten', 'cron_next', 'set_secret', 'drop_secret',
                     'grant_connection', 'revoke_connection')
 ORDER BY 1, 2;

-- Tables and views: readable (through row-level security), never writable.
SELECT c.relname,
       has_table_privilege('nango_test_user', c.oid, 'SELECT') AS sel,
       has_table_privilege('nango_test_user', c.oid, 'INSERT') AS ins,
       has_table_privilege('nango_test_user', c.oid, 'UPDATE') AS upd,
       has_table_privilege('nango_test_user', c.oid, 'DELETE') AS del,
       has_table_privilege('nango_test_user', c.oid, 'TRUNCATE') AS trunc,
       c.relrowsecurity AS rls
  FROM pg_class c
 WHERE c.relnamespace = 'nango'::regnamespace
   AND c.relname IN ('syncs', 'jobs', 'raw', '_nango_syncs', '_nango_jobs', '_nango_raw',
                     'secrets', 'secret_values', 'connection_grants')
 ORDER BY 1;
SELECT c.relname, has_sequence_privilege('nango_test_user', c.oid, 'USAGE') AS usage,
       has_sequence_privilege('nango_test_user', c.oid, 'UPDATE') AS upd
  FROM pg_class c
 WHERE c.relnamespace = 'nango'::regnamespace AND c.relkind = 'S'
 ORDER BY 1;
SELECT has_schema_privilege('nango_test_user', 'nango', 'USAGE') AS usage,
       has_schema_privilege('nango_test_user', 'nango', 'CREATE') AS create;

-- Row-level security policies, and the views run as the caller.
SELECT tablename, policyname, cmd FROM pg_policies WHERE schemaname = 'nango' ORDER BY 1, 2;
SELECT relname, reloptions FROM pg_class
 WHERE relnamespace = 'nango'::regnamespace AND relkind = 'v' ORDER BY 1;

-- pg_dump carries every sync and its raw data.
SELECT unnest(extconfig)::regclass::text AS dumped FROM pg_extension WHERE extname = 'nango' ORDER BY 1;
ROLLBACK;
