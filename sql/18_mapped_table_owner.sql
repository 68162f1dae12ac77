-- Mapped tables belong to their sync's owner (docs/security.md): an existing
-- mapped_table is used only when the sync's owner owns it or has the
-- privileges of its owner role; checked at add_sync, update_sync and every
-- job.  Tables nango creates in schema nango belong to the sync's owner,
-- with no privileges for others.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS nango;
-- job warnings name syncs by id: this file's ids start at 1801
SELECT pg_catalog.setval('nango.syncs_id_seq', 1800) IS NOT NULL;
DROP ROLE IF EXISTS mto_mallory;
DROP ROLE IF EXISTS mto_alice;
DROP ROLE IF EXISTS mto_team;
DROP ROLE IF EXISTS mto_carol;
RESET client_min_messages;
\set VERBOSITY terse
CREATE ROLE mto_mallory;
CREATE ROLE mto_alice;
CREATE ROLE mto_team;
CREATE ROLE mto_carol IN ROLE mto_team;
CREATE SCHEMA mto_mal AUTHORIZATION mto_mallory;
CREATE SCHEMA mto_team AUTHORIZATION mto_team;

-- Nobody but the extension owner may create in schema nango; an
-- unqualified mapped_table is created there by nango for the sync's owner.
SET ROLE mto_mallory;
CREATE TABLE nango.contacts (id bigint);
SELECT nango.add_sync(current_setting('nango_test.mock_url') || '/simple/items',
                      '{"response_path": "data", "mapped_table": "contacts", "friendly_name": "mal"}') AS mal \gset
SELECT nango.run_sync(:mal) > 0 AS ran;
RESET ROLE;
SELECT relowner::regrole, relacl FROM pg_class WHERE oid = 'nango.contacts'::regclass;

-- Mallory owns nango.contacts: she opens it to everyone, with a trigger
-- that copies every row written into it to her.
SET ROLE mto_mallory;
CREATE TABLE mto_mal.copies (data text);
GRANT USAGE ON SCHEMA mto_mal TO PUBLIC;
GRANT INSERT ON mto_mal.copies TO PUBLIC;
CREATE FUNCTION mto_mal.copy() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO mto_mal.copies VALUES (row_to_json(NEW)::text); RETURN NULL; END $$;
CREATE TRIGGER copy AFTER INSERT ON nango.contacts FOR EACH ROW EXECUTE FUNCTION mto_mal.copy();
GRANT ALL ON nango.contacts TO PUBLIC;
CREATE TABLE mto_mal.contacts2 (LIKE nango.contacts);
CREATE TRIGGER copy AFTER INSERT ON mto_mal.contacts2 FOR EACH ROW EXECUTE FUNCTION mto_mal.copy();
GRANT ALL ON mto_mal.contacts2 TO PUBLIC;
RESET ROLE;

-- Alice may not put her data in mallory's tables, whatever their grants.
SET ROLE mto_alice;
SELECT nango.add_sync('https://api.example.com/a', '{"mapped_table": "contacts"}');
SELECT nango.add_sync('https://api.example.com/a', '{"mapped_table": "nango.contacts"}');
SELECT nango.add_sync('https://api.example.com/a', '{"mapped_table": "mto_mal.contacts2"}');
\set VERBOSITY default
SELECT nango.add_sync('https://api.example.com/a', '{"mapped_table": "\"mto_mal\".\"contacts2\""}');
\set VERBOSITY terse
-- her own table is fine; changing it to one of mallory's is refused
SELECT nango.add_sync(current_setting('nango_test.mock_url') || '/simple/items',
                      '{"response_path": "data", "mapped_table": "alice_contacts", "friendly_name": "alice"}') AS alice \gset
SELECT nango.update_sync(:alice, '{"mapped_table": "contacts"}');
SELECT nango.update_sync(:alice, '{"mapped_table": "mto_mal.contacts2", "frequency": "1 hour"}');
SELECT nango.run_sync(:alice) > 0 AS ran;
RESET ROLE;
SELECT relowner::regrole, relacl FROM pg_class WHERE oid = 'nango.alice_contacts'::regclass;
-- a superuser cannot move alice's sync onto mallory's table either: the
-- sync's owner counts, not the caller
SELECT nango.update_sync(:alice, '{"mapped_table": "contacts"}');
SELECT mapped_table FROM nango.syncs WHERE id = :alice;

-- Checked again at every job: a table that changed hands fails the job.
ALTER TABLE nango.alice_contacts OWNER TO mto_mallory;
SET ROLE mto_alice;
SELECT nango.run_sync(:alice) > 0 AS ran;
RESET ROLE;
SELECT status, error_message FROM nango.jobs WHERE sync_id = :alice ORDER BY id DESC LIMIT 1;
ALTER TABLE nango.alice_contacts OWNER TO mto_alice;
SET ROLE mto_alice;
SELECT nango.run_sync(:alice) > 0 AS ran;
RESET ROLE;
SELECT count(*) AS copied_to_mallory FROM mto_mal.copies;

-- A table of a role whose privileges the sync's owner has is fine.
SET ROLE mto_team;
CREATE TABLE mto_team.contacts (note text);
RESET ROLE;
SET ROLE mto_carol;
SELECT nango.add_sync(current_setting('nango_test.mock_url') || '/simple/items',
                      '{"response_path": "data", "mapped_table": "mto_team.contacts", "friendly_name": "carol"}') AS carol \gset
SELECT nango.run_sync(:carol) > 0 AS ran;
SELECT count(*) FROM mto_team.contacts;
RESET ROLE;

-- A superuser's sync may not use a plain role's table either (its code
-- would run with a superuser's rights); its own tables are fine.
SELECT nango.add_sync('https://api.example.com/a', '{"mapped_table": "mto_mal.contacts2"}');
SELECT nango.add_sync('https://api.example.com/a', '{"mapped_table": "mto_team.contacts"}');
CREATE TABLE mto_team.admin_contacts ();
SELECT nango.add_sync('https://api.example.com/a', '{"mapped_table": "mto_team.admin_contacts"}') > 0 AS added;

-- clean up
SELECT count(nango.delete_sync(id, true)) FROM nango.syncs
 WHERE owner IN ('mto_mallory'::regrole, 'mto_alice'::regrole, 'mto_carol'::regrole)
    OR mapped_table LIKE 'mto\_%';
DROP SCHEMA mto_mal CASCADE;
DROP SCHEMA mto_team CASCADE;
DROP ROLE mto_carol;
DROP ROLE mto_team;
DROP ROLE mto_alice;
DROP ROLE mto_mallory;
