-- Mapped tables outlive DROP EXTENSION nango (with schema nango); a sync
-- added after CREATE EXTENSION nango gets an id above every default table
-- nango._nango_sync_<id> left there, so it does not write into, or restore
-- over, the rows of a sync of before.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS nango CASCADE;
DROP SCHEMA IF EXISTS nango CASCADE;
RESET client_min_messages;
SET client_min_messages = error;
CREATE EXTENSION nango;
RESET client_min_messages;
SELECT nango.add_sync('https://api.example.com/old') AS old \gset
SELECT nango.pause_sync(:old);
SELECT format('CREATE TABLE nango._nango_sync_%s (_nango_sync_id bigint, name text)', :old) \gexec
SELECT format('INSERT INTO nango._nango_sync_%s VALUES (%s, %L)', :old, :old, 'kept from before') \gexec
-- a left-over table with a higher id; names that are not a sync's are ignored
SELECT format('CREATE TABLE nango._nango_sync_%s (_nango_sync_id bigint)', :old + 40) \gexec
CREATE TABLE nango._nango_sync_12x (v int);
CREATE TABLE nango."_nango_sync_0123456789012345678901" (v int);
SET client_min_messages = error;
DROP EXTENSION nango;
CREATE EXTENSION nango;
RESET client_min_messages;
SELECT nango.add_sync('https://api.example.com/new') AS new \gset
SELECT :new > :old + 40 AS new_id_above_the_tables_left, :new = :old + 41 AS next_id;
SELECT format('SELECT name FROM nango._nango_sync_%s', :old) \gexec
-- with no table left, ids start at 1 again
SELECT nango.delete_sync(:new, drop_data => true);
SET client_min_messages = error;
DROP EXTENSION nango;
DROP SCHEMA nango CASCADE;
CREATE EXTENSION nango;
RESET client_min_messages;
SELECT nango.add_sync('https://api.example.com/first') AS first \gset
SELECT :first AS first_id;
SELECT nango.delete_sync(:first, drop_data => true);
