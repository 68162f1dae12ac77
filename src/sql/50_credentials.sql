-- Secrets and Pizzly connection grants (docs/security.md).  Implemented in C;
-- see src/secrets.c and src/grants.c.

-- A role's secrets, used in configs as ${secret:name}.  Nobody but the
-- extension owner (and superusers) reads this table: roles see their names
-- and dates through the view nango.secrets, never a value.
CREATE TABLE nango.secret_values (
    owner            regrole NOT NULL,
    name             text NOT NULL,
    value            text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at       timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (owner, name)
);
COMMENT ON TABLE nango.secret_values IS 'Secrets set with nango.set_secret (values readable by superusers only; roles see nango.secrets)';
COMMENT ON COLUMN nango.secret_values.owner IS 'The role whose secret it is (the one that set it)';
COMMENT ON COLUMN nango.secret_values.name IS 'The name used in configs as ${secret:name}';
COMMENT ON COLUMN nango.secret_values.value IS 'The secret value, substituted when a request is made';
COMMENT ON COLUMN nango.secret_values.created_at IS 'When the secret was first set';
COMMENT ON COLUMN nango.secret_values.updated_at IS 'When the secret was last set';
REVOKE ALL ON nango.secret_values FROM PUBLIC;
-- pg_dump carries the secrets, so that a restored database has working syncs.
SELECT pg_catalog.pg_extension_config_dump('nango.secret_values', '');

CREATE VIEW nango.secrets WITH (security_barrier = true) AS
    SELECT owner, name, created_at, updated_at
      FROM nango.secret_values
     WHERE pg_catalog.pg_has_role(owner, 'USAGE');
COMMENT ON VIEW nango.secrets IS 'The names and dates of the secrets of the roles whose privileges the caller has (never the values)';
COMMENT ON COLUMN nango.secrets.owner IS 'The role whose secret it is';
COMMENT ON COLUMN nango.secrets.name IS 'The name used in configs as ${secret:name}';
COMMENT ON COLUMN nango.secrets.created_at IS 'When the secret was first set';
COMMENT ON COLUMN nango.secrets.updated_at IS 'When the secret was last set';
GRANT SELECT ON nango.secrets TO PUBLIC;

-- Which roles may use which Pizzly connection (granted by a superuser).
CREATE TABLE nango.connection_grants (
    provider_config_key text NOT NULL,
    connection_id    text NOT NULL,
    grantee          regrole NOT NULL,
    granted_by       regrole NOT NULL,
    granted_at       timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (provider_config_key, connection_id, grantee)
);
COMMENT ON TABLE nango.connection_grants IS 'Pizzly connections a superuser allowed roles to use (nango.grant_connection)';
COMMENT ON COLUMN nango.connection_grants.provider_config_key IS 'The Pizzly provider configuration key of the connection';
COMMENT ON COLUMN nango.connection_grants.connection_id IS 'The Pizzly connection id';
COMMENT ON COLUMN nango.connection_grants.grantee IS 'The role allowed to use it (and every role that has its privileges)';
COMMENT ON COLUMN nango.connection_grants.granted_by IS 'The superuser that granted it';
COMMENT ON COLUMN nango.connection_grants.granted_at IS 'When it was granted';
ALTER TABLE nango.connection_grants ENABLE ROW LEVEL SECURITY;
CREATE POLICY connection_grants_grantee ON nango.connection_grants
    USING (pg_catalog.pg_has_role(grantee, 'USAGE'));
REVOKE ALL ON nango.connection_grants FROM PUBLIC;
GRANT SELECT ON nango.connection_grants TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('nango.connection_grants', '');

CREATE FUNCTION nango.set_secret(name text, value text)
RETURNS void
AS 'MODULE_PATHNAME', 'nango_set_secret'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION nango.set_secret(text, text) IS
    'Stores one of the caller''s secrets (replacing one of the same name), used in configs as ${secret:name}';

CREATE FUNCTION nango.drop_secret(name text)
RETURNS void
AS 'MODULE_PATHNAME', 'nango_drop_secret'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION nango.drop_secret(text) IS
    'Removes one of the caller''s secrets (a NOTICE names the syncs that use it)';

CREATE FUNCTION nango.grant_connection(provider_config_key text, connection_id text, grantee regrole)
RETURNS void
AS 'MODULE_PATHNAME', 'nango_grant_connection'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION nango.grant_connection(text, text, regrole) IS
    'Superuser only: lets a role (and every role with its privileges) use a Pizzly connection';

CREATE FUNCTION nango.revoke_connection(provider_config_key text, connection_id text, grantee regrole)
RETURNS void
AS 'MODULE_PATHNAME', 'nango_revoke_connection'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION nango.revoke_connection(text, text, regrole) IS
    'Superuser only: takes back a grant of nango.grant_connection';

-- grant_connection and revoke_connection refuse non-superusers themselves,
-- with a message that says so.
GRANT EXECUTE ON FUNCTION nango.set_secret(text, text), nango.drop_secret(text),
    nango.grant_connection(text, text, regrole), nango.revoke_connection(text, text, regrole)
    TO PUBLIC;
