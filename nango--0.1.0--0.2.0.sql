-- nango upgrade script from 0.1.0 to 0.2.0 (ALTER EXTENSION nango UPDATE).
--
-- Brings a database created with nango 0.1.0 to exactly what
-- CREATE EXTENSION nango creates in 0.2.0 (src/sql/*.sql), keeping every
-- sync, job and row.  Every schema change made in src/sql/ since 0.1.0
-- belongs here too; test/t/070_upgrade.pl compares both catalogs.

\echo Use "ALTER EXTENSION nango UPDATE TO '0.2.0'" to load this file. \quit

-- nango.raw.unique_key compares bytes (collation "C"): keys are identifiers,
-- and the unique index on (sync_id, unique_key) no longer pays for the
-- database's collation on every insertion and lookup.  Equality is the same
-- as before (every PostgreSQL 15 database collation is deterministic), so no
-- existing key becomes a duplicate.  The view selecting every column of
-- nango.raw depends on the column's type and is made again, as it was.
DROP VIEW nango._nango_raw;
ALTER TABLE nango.raw ALTER COLUMN unique_key TYPE text COLLATE "C";
CREATE VIEW nango._nango_raw WITH (security_invoker = true) AS
    SELECT * FROM nango.raw;
GRANT SELECT ON nango._nango_raw TO PUBLIC;
