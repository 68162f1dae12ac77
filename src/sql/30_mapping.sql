-- Auto-mapping (docs/mapping.md).  nango.flatten is declared in 10_api.sql.

-- Internal: writes records into a mapped table exactly as one job page
-- would (open, optional clear, one write, close).  Used by the test suite;
-- not granted to PUBLIC.
CREATE FUNCTION nango._map_records(sync_id bigint, mapped_table text, metadata jsonb,
                                   job_id bigint, records jsonb[], keys text[] DEFAULT NULL,
                                   clear boolean DEFAULT false,
                                   OUT mismatch bigint, OUT skipped bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'nango_map_records'
LANGUAGE C VOLATILE;

REVOKE ALL ON FUNCTION nango._map_records(bigint, text, jsonb, bigint, jsonb[], text[], boolean) FROM PUBLIC;

-- Internal: what nango.delete_sync(id, drop_data => true) does to the mapped
-- table.  Used by the test suite; not granted to PUBLIC.
CREATE FUNCTION nango._map_drop(sync_id bigint, mapped_table text)
RETURNS void
AS 'MODULE_PATHNAME', 'nango_map_drop'
LANGUAGE C VOLATILE;

REVOKE ALL ON FUNCTION nango._map_drop(bigint, text) FROM PUBLIC;

-- Internal: the delete modes' removal (hard) or marking (soft) of keys.
-- Used by the test suite; not granted to PUBLIC.
CREATE FUNCTION nango._map_delete(sync_id bigint, mapped_table text, keys text[], soft boolean)
RETURNS void
AS 'MODULE_PATHNAME', 'nango_map_delete'
LANGUAGE C VOLATILE;

REVOKE ALL ON FUNCTION nango._map_delete(bigint, text, text[], boolean) FROM PUBLIC;
