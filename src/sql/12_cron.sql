-- nango.cron_next: when a cron schedule (the `cron` config key) runs next.

CREATE FUNCTION nango.cron_next(cron text, after timestamptz DEFAULT pg_catalog.now())
RETURNS timestamptz
AS 'MODULE_PATHNAME', 'nango_cron_next_sql'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION nango.cron_next(text, timestamptz) IS
    'The first tick of a five-field cron expression (UTC) strictly after a time';

GRANT EXECUTE ON FUNCTION nango.cron_next(text, timestamptz) TO PUBLIC;
