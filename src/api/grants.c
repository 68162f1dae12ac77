/*-------------------------------------------------------------------------
 *
 * grants.c
 *	  Pizzly connections are granted (docs/security.md): a superuser decides
 *	  which roles may use which connection with
 *	  nango.grant_connection(provider_config_key, connection_id, role) and
 *	  nango.revoke_connection(...), recorded in nango.connection_grants.
 *	  Without a grant, any role could name another team's connection and
 *	  send its OAuth token to a host of its choosing.  A grant to a role
 *	  serves every role that has its privileges; syncs of superusers need
 *	  none.  Checked when a sync is added or changed and by every job.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "catalog/namespace.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "credentials.h"
#include "extinfo.h"
#include "roles.h"

PG_FUNCTION_INFO_V1(nango_grant_connection);
PG_FUNCTION_INFO_V1(nango_revoke_connection);

/* The arguments of grant_connection and revoke_connection. */
typedef struct GrantArgs
{
	char	   *key;
	char	   *id;
	Oid			grantee;
} GrantArgs;

/*
 * grant_args: checks that the caller is a superuser and reads the three
 * arguments (none NULL, the two texts not empty).  what names the function.
 */
static void
grant_args(FunctionCallInfo fcinfo, const char *what, GrantArgs *a)
{
	if (!superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to %s a Pizzly connection", what),
				 errdetail("Only superusers decide which roles may use which Pizzly connection.")));
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("provider_config_key, connection_id and grantee must not be null")));
	a->key = text_to_cstring(PG_GETARG_TEXT_PP(0));
	a->id = text_to_cstring(PG_GETARG_TEXT_PP(1));
	a->grantee = PG_GETARG_OID(2);
	if (a->key[0] == '\0' || a->id[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("provider_config_key and connection_id must not be empty")));
}

/*
 * run_grant_sql: runs sql with $1 key, $2 id, $3 grantee (and $4 the
 * caller) as the extension owner; returns the number of rows it changed.
 */
static uint64
run_grant_sql(const char *sql, const GrantArgs *a, int expect)
{
	NangoSavedRole saved;
	Oid			caller = GetUserId();
	Oid			types[4] = {TEXTOID, TEXTOID, REGROLEOID, REGROLEOID};
	Datum		values[4];
	uint64		n;

	values[0] = CStringGetTextDatum(a->key);
	values[1] = CStringGetTextDatum(a->id);
	values[2] = ObjectIdGetDatum(a->grantee);
	values[3] = ObjectIdGetDatum(caller);
	nango_push_role(nango_extension_owner(), &saved);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(sql, 4, types, values, NULL, false, 0) != expect)
		elog(ERROR, "could not change nango.connection_grants");
	n = SPI_processed;
	SPI_finish();
	nango_pop_role(&saved);
	return n;
}

/*
 * nango_grant_connection: nango.grant_connection(key, id, role): lets role
 * (and every role with its privileges) use the Pizzly connection.  A grant
 * that exists already is kept as it is.
 */
Datum
nango_grant_connection(PG_FUNCTION_ARGS)
{
	GrantArgs	a;

	grant_args(fcinfo, "grant", &a);
	(void) run_grant_sql("INSERT INTO nango.connection_grants "
						 "(provider_config_key, connection_id, grantee, granted_by) "
						 "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
						 &a, SPI_OK_INSERT);
	PG_RETURN_VOID();
}

/*
 * nango_revoke_connection: nango.revoke_connection(key, id, role): takes a
 * grant back (a NOTICE says so when there was none).  Jobs of syncs that
 * relied on it fail from then on.
 */
Datum
nango_revoke_connection(PG_FUNCTION_ARGS)
{
	GrantArgs	a;

	grant_args(fcinfo, "revoke", &a);
	if (run_grant_sql("DELETE FROM nango.connection_grants WHERE provider_config_key = $1 "
					  "AND connection_id = $2 AND grantee = $3",
					  &a, SPI_OK_DELETE) == 0)
		ereport(NOTICE,
				(errmsg("Pizzly connection \"%s\" of provider configuration \"%s\" was not granted to role %s",
						a.id, a.key, GetUserNameFromId(a.grantee, false))));
	PG_RETURN_VOID();
}

/* nango_credentials_installed: see credentials.h. */
bool
nango_credentials_installed(void)
{
	Oid			nsp = get_namespace_oid("nango", true);

	return OidIsValid(nsp) && OidIsValid(get_relname_relid("connection_grants", nsp));
}

/*
 * granted: whether a grant of connection (key, id) serves owner: one to a
 * role whose privileges owner has.
 */
static bool
granted(const char *key, const char *id, Oid owner)
{
	NangoSavedRole saved;
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		values[2];
	bool		found = false;

	values[0] = CStringGetTextDatum(key);
	values[1] = CStringGetTextDatum(id);
	nango_push_role(nango_extension_owner(), &saved);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT grantee::pg_catalog.oid FROM nango.connection_grants "
							  "WHERE provider_config_key = $1 AND connection_id = $2",
							  2, types, values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read nango.connection_grants");
	for (uint64 i = 0; i < SPI_processed && !found; i++)
	{
		bool		isnull;
		Oid			grantee = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
															 SPI_tuptable->tupdesc, 1, &isnull));

		found = has_privs_of_role(owner, grantee);
	}
	SPI_finish();
	nango_pop_role(&saved);
	return found;
}

/* nango_check_connection_grant: see credentials.h. */
void
nango_check_connection_grant(const NangoConfig *cfg, Oid owner)
{
	const char *key = cfg->pizzly_provider_config_key;
	const char *id = cfg->pizzly_connection_id;
	char	   *name;

	if (id == NULL || key == NULL || superuser_arg(owner))
		return;
	/* before ALTER EXTENSION nango UPDATE to 0.3.0 there are no grants */
	if (!nango_credentials_installed() || granted(key, id, owner))
		return;
	name = GetUserNameFromId(owner, true);
	if (name == NULL)
		name = psprintf("with OID %u", owner);
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("role %s may not use Pizzly connection \"%s\" of provider configuration \"%s\"",
					name, id, key),
			 errdetail("A superuser decides which roles may use which Pizzly connection."),
			 errhint("A superuser grants it with nango.grant_connection(%s, %s, %s).",
					 quote_literal_cstr(key), quote_literal_cstr(id),
					 quote_literal_cstr(name))));
}
