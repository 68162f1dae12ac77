-- Ownership (README.md): a role sees and manages only its own syncs,
-- jobs and raw rows; direct writes to nango's tables are refused; members
-- of the owner role and superusers may manage a sync.  Roles are created
-- inside the transaction, so the rollback at the end removes them.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS nango;
RESET client_min_messages;
\set ON_ERROR_ROLLBACK on
\set VERBOSITY default
BEGIN;
-- A fresh copy of the extension (rolled back at the end): ids start at 1.
DROP EXTENSION nango CASCADE;
CREATE EXTENSION nango;
CREATE ROLE nango_test_alice;
CREATE ROLE nango_test_bob;
CREATE ROLE nango_test_carol IN ROLE nango_test_alice;   -- a member of alice
CREATE ROLE nango_test_dave IN ROLE nango_test_alice NOINHERIT;

-- Alice adds a sync; it is hers.
SET ROLE nango_test_alice;
SELECT nango.add_sync('https://api.example.com/alice', '{"friendly_name": "alice"}') AS a \gset
SELECT id, owner, friendly_name FROM nango.syncs;
RESET ROLE;

-- Jobs and raw rows of alice's sync (written here by the superuser, as a
-- job would).
INSERT INTO nango.jobs (sync_id, status) VALUES (:a, 'succeeded');
INSERT INTO nango.raw (sync_id, unique_key, data, data_hash) VALUES (:a, '1', '{"secret": 1}', 'h');

-- Bob adds his own sync.
SET ROLE nango_test_bob;
SELECT nango.add_sync('https://api.example.com/bob', '{"friendly_name": "bob"}') AS b \gset

-- Bob sees only his sync, and none of alice's jobs or raw rows, through
-- the tables and the seed-named views alike.
SELECT id, owner, friendly_name FROM nango.syncs ORDER BY id;
SELECT count(*) FROM nango.jobs;
SELECT count(*) FROM nango.raw;
SELECT friendly_name FROM nango._nango_syncs;
SELECT count(*) FROM nango._nango_jobs;
SELECT count(*) FROM nango._nango_raw;
SELECT count(*) FROM nango.syncs WHERE id = :a;

-- Bob cannot change, pause, resume, trigger or delete alice's sync.
SELECT nango.update_sync(:a, '{"frequency": 1}');
SELECT nango.pause_sync(:a);
SELECT nango.resume_sync(:a);
SELECT nango.trigger_sync(:a);
SELECT nango.delete_sync(:a);
SELECT nango.delete_sync(:a, true);

-- Nor write nango's tables directly.
INSERT INTO nango.syncs (owner, url) VALUES ('nango_test_bob', 'https://x.example.com');
UPDATE nango.syncs SET status = 'paused';
UPDATE nango.syncs SET owner = 'nango_test_alice' WHERE id = :b;
DELETE FROM nango.syncs;
TRUNCATE nango.syncs;
INSERT INTO nango.jobs (sync_id) VALUES (:b);
UPDATE nango.jobs SET status = 'failed';
DELETE FROM nango.jobs;
INSERT INTO nango.raw (sync_id, data, data_hash) VALUES (:b, '{}', 'h');
UPDATE nango.raw SET data = '{}';
DELETE FROM nango.raw;
UPDATE nango._nango_syncs SET status = 'paused';
SELECT nextval('nango.syncs_id_seq');
SELECT setval('nango.raw_id_seq', 1);
ALTER TABLE nango.syncs DISABLE ROW LEVEL SECURITY;
DROP POLICY syncs_owner ON nango.syncs;
CREATE TRIGGER t BEFORE INSERT ON nango.syncs FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger();
CREATE TABLE nango.bobs_table (id int);
RESET ROLE;

-- Alice's sync is untouched.
SELECT id, status, frequency, friendly_name FROM nango.syncs WHERE id = :a;

-- Alice manages her own sync; she still sees only hers.
SET ROLE nango_test_alice;
SELECT nango.update_sync(:a, '{"frequency": 30}');
SELECT nango.pause_sync(:a);
SELECT nango.trigger_sync(:a);
SELECT nango.resume_sync(:a);
SELECT id, status, frequency FROM nango.syncs ORDER BY id;
SELECT count(*) AS jobs FROM nango.jobs;
SELECT data FROM nango.raw;
SELECT nango.pause_sync(:b);
RESET ROLE;

-- A member of alice (inheriting her rights) may manage her syncs; a
-- NOINHERIT member must SET ROLE first, and then acts as alice.
SET ROLE nango_test_carol;
SELECT count(*) FROM nango.syncs;
SELECT nango.update_sync(:a, '{"friendly_name": "changed by carol"}');
SELECT nango.add_sync('https://api.example.com/carol') AS c \gset
RESET ROLE;
SET ROLE nango_test_dave;
SELECT count(*) FROM nango.syncs;
SELECT nango.pause_sync(:a);
SET ROLE nango_test_alice;
SELECT nango.pause_sync(:a);
RESET ROLE;

-- The owner is the role that called add_sync (carol's sync is hers).
SELECT id, owner, status, friendly_name FROM nango.syncs ORDER BY id;

-- A superuser sees and manages every sync.
SELECT nango.update_sync(:b, '{"friendly_name": "bob (by admin)"}');
SELECT nango.delete_sync(:c);
SELECT id, owner, friendly_name FROM nango.syncs ORDER BY id;

-- An administrator can narrow who may use nango.
REVOKE EXECUTE ON FUNCTION nango.add_sync(text, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION nango.add_sync(text, jsonb) TO nango_test_alice;
SET ROLE nango_test_bob;
SELECT nango.add_sync('https://api.example.com/bob2');
SET ROLE nango_test_alice;
SELECT nango.add_sync('https://api.example.com/alice2') > 0 AS added;
RESET ROLE;
REVOKE USAGE ON SCHEMA nango FROM PUBLIC;
SET ROLE nango_test_bob;
SELECT count(*) FROM nango.syncs;
RESET ROLE;

-- Bob may delete his own sync.
GRANT USAGE ON SCHEMA nango TO PUBLIC;
SET ROLE nango_test_bob;
SELECT nango.delete_sync(:b);
SELECT count(*) FROM nango.syncs;
RESET ROLE;
SELECT id, owner FROM nango.syncs ORDER BY id;

ROLLBACK;
SELECT count(*) FROM pg_roles WHERE rolname LIKE 'nango_test_%';
