-- nango upgrade script from 0.2.0 to 0.3.0 (ALTER EXTENSION nango UPDATE).
--
-- Brings a database created with nango 0.2.0 to exactly what
-- CREATE EXTENSION nango creates in 0.3.0 (src/sql/*.sql), keeping every
-- sync, job and row.  Every schema change made in src/sql/ since 0.2.0
-- belongs here too; test/t/070_upgrade.pl compares both catalogs.

\echo Use "ALTER EXTENSION nango UPDATE TO '0.3.0'" to load this file. \quit
