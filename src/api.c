/*-------------------------------------------------------------------------
 *
 * api.c
 *	  The SQL API of SPEC section 2: add, update, pause, resume, trigger and
 *	  delete syncs.  Changes to nango's tables are made as the extension
 *	  owner after checking that the caller owns the sync; the SQL run here is
 *	  schema-qualified, takes every value as a parameter and runs with
 *	  search_path set to pg_catalog, so objects a user creates elsewhere can
 *	  never be picked up.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "config.h"
#include "nango.h"
#include "util.h"
#include "worker.h"

PG_FUNCTION_INFO_V1(nango_add_sync);
PG_FUNCTION_INFO_V1(nango_update_sync);
PG_FUNCTION_INFO_V1(nango_pause_sync);
PG_FUNCTION_INFO_V1(nango_resume_sync);
PG_FUNCTION_INFO_V1(nango_trigger_sync);
PG_FUNCTION_INFO_V1(nango_delete_sync);

/* The identity and settings saved while nango's tables are written. */
typedef struct ApiScope
{
	NangoSavedRole saved;
	int			guc_level;
} ApiScope;

/* add_sync warns once per session when syncs cannot run on a schedule. */
static bool warned_not_preloaded = false;

/*
 * api_begin: become the extension owner with search_path = pg_catalog,
 * pg_temp and connect to SPI.  A transaction abort undoes all of it.
 */
static void
api_begin(ApiScope *scope)
{
	Oid			owner = nango_extension_owner();

	nango_push_role(owner, &scope->saved);
	scope->guc_level = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
}

/*
 * api_end: the reverse of api_begin.
 */
static void
api_end(ApiScope *scope)
{
	SPI_finish();
	AtEOXact_GUC(true, scope->guc_level);
	nango_pop_role(&scope->saved);
}

/*
 * warn_not_preloaded: the once-per-session WARNING of SPEC section 1.
 */
static void
warn_not_preloaded(void)
{
	if (nango_preloaded || warned_not_preloaded)
		return;
	warned_not_preloaded = true;
	ereport(WARNING,
			(errmsg("nango is not in shared_preload_libraries: syncs will not run on a schedule"),
			 errhint("Add nango to shared_preload_libraries in postgresql.conf and restart the server, or run syncs with nango.run_sync().")));
}

/*
 * nango_add_sync: nango.add_sync(url, config): validates the config, stores
 * the sync owned by the calling role and schedules its first run now.
 */
Datum
nango_add_sync(PG_FUNCTION_ARGS)
{
	NangoConfig *cfg;
	ApiScope	scope;
	Datum		values[9];
	char		nulls[9];
	Oid			types[9] = {INT8OID, REGROLEOID, TEXTOID, JSONBOID, TEXTOID,
	INTERVALOID, TEXTOID, TEXTOID, INT4OID};
	bool		isnull;
	int64		id;
	char	   *mapped;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("url must not be null")));
	cfg = nango_config_parse(text_to_cstring(PG_GETARG_TEXT_PP(0)),
							 PG_ARGISNULL(1) ? NULL : PG_GETARG_JSONB_P(1));
	warn_not_preloaded();

	memset(nulls, ' ', sizeof(nulls));
	values[1] = ObjectIdGetDatum(GetUserId());

	api_begin(&scope);
	if (SPI_execute("SELECT pg_catalog.nextval('nango.syncs_id_seq'::pg_catalog.regclass)", false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not allocate a sync id");
	id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	mapped = nango_config_mapped_table(cfg, id);

	values[0] = Int64GetDatum(id);
	values[2] = CStringGetTextDatum(cfg->url);
	values[3] = JsonbPGetDatum(cfg->normalized);
	values[4] = cfg->friendly_name ? CStringGetTextDatum(cfg->friendly_name) : (Datum) 0;
	nulls[4] = cfg->friendly_name ? ' ' : 'n';
	values[5] = cfg->frequency ? IntervalPGetDatum(cfg->frequency) : (Datum) 0;
	nulls[5] = cfg->frequency ? ' ' : 'n';
	values[6] = cfg->cron ? CStringGetTextDatum(cfg->cron) : (Datum) 0;
	nulls[6] = cfg->cron ? ' ' : 'n';
	values[7] = mapped ? CStringGetTextDatum(mapped) : (Datum) 0;
	nulls[7] = mapped ? ' ' : 'n';
	if (SPI_execute_with_args("INSERT INTO nango.syncs (id, owner, url, config, friendly_name, frequency, cron, "
							  "mapped_table, next_run_at) "
							  "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, pg_catalog.now())",
							  8, types, values, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not insert sync");
	api_end(&scope);

	nango_wake_launcher_at_commit();
	PG_RETURN_INT64(id);
}

#define NOT_YET(fn) \
Datum \
fn(PG_FUNCTION_ARGS) \
{ \
	ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg(#fn " is not available yet"))); \
	PG_RETURN_NULL(); \
}

NOT_YET(nango_update_sync)
NOT_YET(nango_pause_sync)
NOT_YET(nango_resume_sync)
NOT_YET(nango_trigger_sync)
NOT_YET(nango_delete_sync)
