-- Privilege escalation attempts through nango's own code paths.  Every
-- attack below must leave the attacking role without superuser rights.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS nango;
DROP ROLE IF EXISTS esc_alice;
DROP ROLE IF EXISTS esc_bob;
RESET client_min_messages;
CREATE ROLE esc_alice LOGIN;
CREATE ROLE esc_bob LOGIN;
CREATE SCHEMA esc_s AUTHORIZATION esc_alice;

-- 1. A hostile operator "=" (bigint, bigint) in a schema that comes before
-- pg_catalog in search_path: job SQL run as the extension owner must never
-- resolve to it.
SET ROLE esc_alice;
CREATE FUNCTION esc_s.evil_eq(bigint, bigint) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  IF current_user <> 'esc_alice' THEN EXECUTE 'ALTER ROLE esc_alice SUPERUSER'; END IF;
  RETURN $1 OPERATOR(pg_catalog.=) $2;
END $$;
CREATE OPERATOR esc_s.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = esc_s.evil_eq);
CREATE FUNCTION esc_s.evil_eq_text(text, text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  IF current_user <> 'esc_alice' THEN EXECUTE 'ALTER ROLE esc_alice SUPERUSER'; END IF;
  RETURN $1 OPERATOR(pg_catalog.=) $2;
END $$;
CREATE OPERATOR esc_s.= (LEFTARG = text, RIGHTARG = text, FUNCTION = esc_s.evil_eq_text);
SELECT nango.add_sync(current_setting('nango_test.mock_url') || '/simple/items',
                      '{"response_path": "data", "unique_key": "id"}') AS sid \gset
SET search_path = esc_s, pg_catalog, public;
SELECT nango.run_sync(:sid) > 0 AS ran;
SELECT nango.run_sync(:sid) > 0 AS ran_again;
RESET search_path;
SELECT status, added_count, unchanged_count FROM nango.jobs WHERE sync_id = :sid ORDER BY id;
RESET ROLE;
SELECT rolsuper FROM pg_roles WHERE rolname = 'esc_alice';

-- 2. A trigger on the sync's own mapped table fires when delete_sync drops
-- the data: it must run as the sync's owner, never as the extension owner.
SET ROLE esc_bob;
SELECT nango.add_sync(current_setting('nango_test.mock_url') || '/simple/items',
                      '{"response_path": "data"}') AS bsid \gset
SELECT nango.run_sync(:bsid) > 0 AS ran;
CREATE FUNCTION pg_temp.evil() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_user <> 'esc_bob' THEN EXECUTE 'ALTER ROLE esc_bob SUPERUSER'; END IF;
  RETURN OLD;
END $$;
SELECT set_config('esc.sid', :'bsid', false) IS NOT NULL AS noted;
DO $$ BEGIN
  EXECUTE format('CREATE TRIGGER t BEFORE DELETE ON nango._nango_sync_%s FOR EACH ROW EXECUTE FUNCTION pg_temp.evil()',
                 current_setting('esc.sid'));
END $$;
SELECT nango.delete_sync(:bsid, true);
SELECT to_regclass(format('nango._nango_sync_%s', :bsid)) IS NULL AS table_dropped;
RESET ROLE;
SELECT rolsuper FROM pg_roles WHERE rolname = 'esc_bob';

-- 3. Another sync's default table name is reserved: a role cannot create
-- it first and own it.
SET ROLE esc_bob;
SELECT nango.add_sync('https://api.example.com/x', '{"mapped_table": "_nango_sync_999999"}');
SELECT nango.add_sync('https://api.example.com/x', '{"mapped_table": "nango._nango_sync_12"}');
SELECT nango.add_sync('https://api.example.com/x', '{"mapped_table": "_nango_sync_x"}') > 0 AS other_names_fine;
RESET ROLE;

-- clean up
SELECT nango.delete_sync(id, true) FROM nango.syncs WHERE owner IN ('esc_alice'::regrole, 'esc_bob'::regrole);
DROP SCHEMA esc_s CASCADE;
DROP OWNED BY esc_alice, esc_bob;
DROP ROLE esc_alice;
DROP ROLE esc_bob;
