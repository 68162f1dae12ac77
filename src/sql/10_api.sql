-- nango SQL API (SPEC section 2).  Implemented in C; see src/api.c.

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

-- With mapping options (SPEC section 11): {"fields": [...], "arrays": "jsonb"}.
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
