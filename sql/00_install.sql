-- Installing, dropping and re-creating the extension.
CREATE EXTENSION nango;
SELECT extname, extrelocatable, nspname
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE extname = 'nango';
SELECT c.relname, c.relkind, c.relrowsecurity
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'nango' AND c.relkind IN ('r', 'v')
 ORDER BY 1;
SELECT name, setting, unit, context FROM pg_settings WHERE name LIKE 'nango.%' ORDER BY 1;
DROP EXTENSION nango;
SELECT count(*) FROM pg_namespace WHERE nspname = 'nango';
CREATE EXTENSION nango;
SELECT nango.add_sync(current_setting('nango_test.mock_url') || '/simple/items') > 0 AS added;
SELECT url LIKE '%/simple/items', status, frequency FROM nango.syncs;
DROP EXTENSION nango;
CREATE EXTENSION nango;
SELECT count(*) FROM nango.syncs;
