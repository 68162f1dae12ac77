/*-------------------------------------------------------------------------
 *
 * secrets.c
 *	  Secrets live apart from configs (docs/security.md):
 *	  nango.set_secret(name, value) and nango.drop_secret(name) keep the
 *	  caller's secrets in nango.secret_values, which only the extension
 *	  owner (and superusers) can read; roles see their names and dates in
 *	  the view nango.secrets.  A config references a secret as
 *	  ${secret:name}; a job reads its owner's values (nango_owner_secrets)
 *	  and placeholder.c writes them into the requests.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "catalog.h"
#include "credentials.h"
#include "extinfo.h"
#include "roles.h"

PG_FUNCTION_INFO_V1(nango_set_secret);
PG_FUNCTION_INFO_V1(nango_drop_secret);

/* Shorter values could not be redacted from texts (see redact.c). */
#define NANGO_MIN_SECRET_BYTES 4

/*
 * secret_name_arg: argument argno, a secret name; NULL and names that are
 * not identifiers are refused.
 */
static char *
secret_name_arg(FunctionCallInfo fcinfo, int argno)
{
	char	   *name;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the secret name must not be null")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	if (!nango_secret_name_valid(name, strlen(name)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid secret name \"%s\"", name),
				 errdetail("A secret name is made of letters, digits and underscores, does not start with a digit and has at most %d bytes.",
						   NAMEDATALEN - 1),
				 errhint("Use it in a config as ${secret:name}, e.g. ${secret:github_token}.")));
	return name;
}

/*
 * nango_set_secret: nango.set_secret(name, value): stores one of the
 * caller's secrets, replacing one of the same name.
 */
Datum
nango_set_secret(PG_FUNCTION_ARGS)
{
	char	   *name = secret_name_arg(fcinfo, 0);
	Oid			caller = GetUserId();
	NangoSavedRole saved;
	Oid			types[3] = {REGROLEOID, TEXTOID, TEXTOID};
	Datum		values[3];

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the value of secret \"%s\" must not be null", name),
				 errhint("Remove a secret with nango.drop_secret.")));
	if (VARSIZE_ANY_EXHDR(PG_GETARG_TEXT_PP(1)) < NANGO_MIN_SECRET_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the value of secret \"%s\" is too short", name),
				 errdetail("A secret value has at least %d bytes: nango removes secret values from every text it writes, which a shorter one would garble.",
						   NANGO_MIN_SECRET_BYTES)));
	values[0] = ObjectIdGetDatum(caller);
	values[1] = CStringGetTextDatum(name);
	values[2] = PointerGetDatum(PG_GETARG_TEXT_PP(1));

	nango_push_role(nango_extension_owner(), &saved);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("INSERT INTO nango.secret_values (owner, name, value) VALUES ($1, $2, $3) "
							  "ON CONFLICT (owner, name) DO UPDATE "
							  "SET value = EXCLUDED.value, updated_at = pg_catalog.now()",
							  3, types, values, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not store secret \"%s\"", name);
	SPI_finish();
	nango_pop_role(&saved);
	PG_RETURN_VOID();
}

/*
 * users_of: the syncs of owner that reference secret name, as a list for
 * a message ("name" or the id of each), or NULL when there is none.  SPI
 * must be connected, as the extension owner.
 */
static char *
users_of(Oid owner, const char *name)
{
	return catalog_syncs_using(owner, psprintf("%s%s}", NANGO_SECRET_PREFIX, name));
}

/*
 * nango_drop_secret: nango.drop_secret(name): removes one of the caller's
 * secrets.  A secret that syncs still use is removed too, with a NOTICE
 * naming them: their jobs fail until it is set again.
 */
Datum
nango_drop_secret(PG_FUNCTION_ARGS)
{
	char	   *name = secret_name_arg(fcinfo, 0);
	Oid			caller = GetUserId();
	MemoryContext cxt = CurrentMemoryContext;
	NangoSavedRole saved;
	Oid			types[2] = {REGROLEOID, TEXTOID};
	Datum		values[2];
	uint64		deleted;
	char	   *users = NULL;

	values[0] = ObjectIdGetDatum(caller);
	values[1] = CStringGetTextDatum(name);
	nango_push_role(nango_extension_owner(), &saved);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("DELETE FROM nango.secret_values WHERE owner = $1 AND name = $2",
							  2, types, values, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not remove secret \"%s\"", name);
	deleted = SPI_processed;
	if (deleted > 0)
	{
		char	   *u = users_of(caller, name);

		if (u != NULL)
			users = MemoryContextStrdup(cxt, u);
	}
	SPI_finish();
	nango_pop_role(&saved);

	if (deleted == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("secret \"%s\" does not exist", name),
				 errhint("nango.secrets lists your secrets.")));
	if (users != NULL)
		ereport(NOTICE,
				(errmsg("secret \"%s\" is used by syncs %s", name, users),
				 errdetail("Their jobs fail until the secret is set again with nango.set_secret.")));
	PG_RETURN_VOID();
}

/*
 * role_name: a role's name for a message (its OID when it no longer exists).
 */
static char *
role_name(Oid role)
{
	char	   *n = GetUserNameFromId(role, true);

	return n ? n : psprintf("with OID %u", role);
}

/* nango_owner_secrets: see credentials.h. */
NangoSecretValue *
nango_owner_secrets(const NangoConfig *cfg, Oid owner, int *n)
{
	List	   *names = nango_secret_refs(cfg);
	MemoryContext cxt = CurrentMemoryContext;
	NangoSecretValue *result;
	NangoSavedRole saved;
	Oid			types[2] = {REGROLEOID, TEXTOID};
	Datum		values[2];
	const char *missing = NULL;
	int			i = 0;
	ListCell   *lc;

	*n = 0;
	if (names == NIL)
		return NULL;
	if (!nango_credentials_installed())
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("secret \"%s\" does not exist", (char *) linitial(names)),
				 errdetail("This database has nango's schema of a version before 0.3.0, which has no secrets."),
				 errhint("Run ALTER EXTENSION nango UPDATE.")));
	result = palloc0(sizeof(NangoSecretValue) * list_length(names));
	values[0] = ObjectIdGetDatum(owner);
	nango_push_role(nango_extension_owner(), &saved);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	foreach(lc, names)
	{
		bool		isnull;

		values[1] = CStringGetTextDatum(lfirst(lc));
		if (SPI_execute_with_args("SELECT value FROM nango.secret_values WHERE owner = $1 AND name = $2",
								  2, types, values, NULL, true, 1) != SPI_OK_SELECT)
			elog(ERROR, "could not read nango.secret_values");
		if (SPI_processed == 0)
		{
			missing = lfirst(lc);
			break;
		}
		result[i].name = lfirst(lc);
		result[i].value = MemoryContextStrdup(cxt,
											  TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[0],
																				SPI_tuptable->tupdesc, 1, &isnull)));
		i++;
	}
	SPI_finish();
	nango_pop_role(&saved);
	if (missing != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("secret \"%s\" does not exist", missing),
				 errdetail("The config references ${secret:%s}, and role %s has no secret of that name.",
						   missing, role_name(owner)),
				 errhint("Set it as role %s with nango.set_secret('%s', '...').", role_name(owner), missing)));
	*n = i;
	return result;
}

/* nango_check_credentials: see credentials.h. */
void
nango_check_credentials(const NangoConfig *cfg, Oid owner)
{
	int			n;

	(void) nango_owner_secrets(cfg, owner, &n);
	nango_check_connection_grant(cfg, owner);
}
