-- nango SQL API (README.md).  Implemented in C; see src/api.c.

CREATE FUNCTION nango.add_sync(url text, config jsonb DEFAULT '{}')
RETURNS bigint
AS 'MODULE_PATHNAME', 'nango_add_sync'
LANGUAGE C VOLATILE;

CREATE FUNCTION nango.update_sync(sync_id bigint, config jsonb)
RETURNS void
AS 'MODULE_PATHNAME', 'nango_update_sync'
LANGUAGE C VOLATILE STRICT;

CREATE FUNCTION nango.pause_sync(sync_id bigint)
RETURNS void
AS 'MODULE_PATHNAME', 'nango_pause_sync'
LANGUAGE C VOLATILE STRICT;

CREATE FUNCTION nango.resume_sync(sync_id bigint)
RETURNS void
AS 'MODULE_PATHNAME', 'nango_resume_sync'
LANGUAGE C VOLATILE STRICT;

CREATE FUNCTION nango.trigger_sync(sync_id bigint)
RETURNS void
AS 'MODULE_PATHNAME', 'nango_trigger_sync'
LANGUAGE C VOLATILE STRICT;

CREATE FUNCTION nango.delete_sync(sync_id bigint, drop_data boolean DEFAULT false)
RETURNS void
AS 'MODULE_PATHNAME', 'nango_delete_sync'
LANGUAGE C VOLATILE STRICT;

CREATE FUNCTION nango.run_sync(sync_id bigint)
RETURNS bigint
AS 'MODULE_PATHNAME', 'nango_run_sync'
LANGUAGE C VOLATILE STRICT;

CREATE FUNCTION nango.flatten(record jsonb,
                              OUT column_name text, OUT column_type text, OUT value text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'nango_flatten'
LANGUAGE C IMMUTABLE STRICT;

-- With mapping options (docs/mapping.md): {"fields": [...], "arrays": "jsonb"}.
CREATE FUNCTION nango.flatten(record jsonb, options jsonb,
                              OUT column_name text, OUT column_type text, OUT value text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'nango_flatten_options'
LANGUAGE C IMMUTABLE;
COMMENT ON FUNCTION nango.flatten(jsonb, jsonb) IS
    'Shows how auto-mapping would map one record under the mapping options "fields" and "arrays" of a sync''s config';

GRANT EXECUTE ON FUNCTION nango.add_sync(text, jsonb), nango.update_sync(bigint, jsonb),
    nango.pause_sync(bigint), nango.resume_sync(bigint), nango.trigger_sync(bigint),
    nango.delete_sync(bigint, boolean), nango.run_sync(bigint), nango.flatten(jsonb),
    nango.flatten(jsonb, jsonb)
    TO PUBLIC;

-- Syncs by name: put_sync, and the name (text) in place of the id.
CREATE FUNCTION nango.put_sync(name text, url text, config jsonb DEFAULT '{}')
RETURNS bigint
AS 'MODULE_PATHNAME', 'nango_put_sync'
LANGUAGE C VOLATILE;

CREATE FUNCTION nango.update_sync(name text, config jsonb)
RETURNS void
AS 'MODULE_PATHNAME', 'nango_update_sync_by_name'
LANGUAGE C VOLATILE STRICT;

CREATE FUNCTION nango.pause_sync(name text)
RETURNS void
AS 'MODULE_PATHNAME', 'nango_pause_sync_by_name'
LANGUAGE C VOLATILE STRICT;

CREATE FUNCTION nango.resume_sync(name text)
RETURNS void
AS 'MODULE_PATHNAME', 'nango_resume_sync_by_name'
LANGUAGE C VOLATILE STRICT;

CREATE FUNCTION nango.trigger_sync(name text)
RETURNS void
AS 'MODULE_PATHNAME', 'nango_trigger_sync_by_name'
LANGUAGE C VOLATILE STRICT;

CREATE FUNCTION nango.delete_sync(name text, drop_data boolean DEFAULT false)
RETURNS void
AS 'MODULE_PATHNAME', 'nango_delete_sync_by_name'
LANGUAGE C VOLATILE STRICT;

CREATE FUNCTION nango.run_sync(name text)
RETURNS bigint
AS 'MODULE_PATHNAME', 'nango_run_sync_by_name'
LANGUAGE C VOLATILE STRICT;

COMMENT ON FUNCTION nango.put_sync(text, text, jsonb) IS 'Creates the caller''s sync called name, or replaces the url and whole config of the caller''s sync of that name; returns its id';
COMMENT ON FUNCTION nango.update_sync(text, jsonb) IS 'update_sync of the caller''s sync with this friendly_name';
COMMENT ON FUNCTION nango.pause_sync(text) IS 'pause_sync of the caller''s sync with this friendly_name';
COMMENT ON FUNCTION nango.resume_sync(text) IS 'resume_sync of the caller''s sync with this friendly_name';
COMMENT ON FUNCTION nango.trigger_sync(text) IS 'trigger_sync of the caller''s sync with this friendly_name';
COMMENT ON FUNCTION nango.delete_sync(text, boolean) IS 'delete_sync of the caller''s sync with this friendly_name';
COMMENT ON FUNCTION nango.run_sync(text) IS 'run_sync of the caller''s sync with this friendly_name';

GRANT EXECUTE ON FUNCTION nango.put_sync(text, text, jsonb), nango.update_sync(text, jsonb),
    nango.pause_sync(text), nango.resume_sync(text), nango.trigger_sync(text),
    nango.delete_sync(text, boolean), nango.run_sync(text)
    TO PUBLIC;

-- A dry run of a sync's config: the first pages as a job would fetch them.
CREATE FUNCTION nango.preview(url text, config jsonb DEFAULT '{}', pages integer DEFAULT 1,
                              OUT page integer, OUT request text, OUT http_status integer,
                              OUT record_count integer, OUT next_request text, OUT stop_reason text,
                              OUT first_record jsonb, OUT columns jsonb)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'nango_preview'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION nango.preview(text, jsonb, integer) IS 'Fetches up to pages pages (at most 10) as a job of this config would, and stores nothing: one row per page with the request, status, records, next request, stop reason, first record and the columns auto-mapping would create';
GRANT EXECUTE ON FUNCTION nango.preview(text, jsonb, integer) TO PUBLIC;
