/*-------------------------------------------------------------------------
 *
 * api.c
 *	  The SQL API of SPEC section 2: add, update, pause, resume, trigger and
 *	  delete syncs.  Changes to nango's tables are made as the extension
 *	  owner after checking that the caller owns the sync.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "nango.h"
#include "util.h"
#include "worker.h"

PG_FUNCTION_INFO_V1(nango_add_sync);
PG_FUNCTION_INFO_V1(nango_update_sync);
PG_FUNCTION_INFO_V1(nango_pause_sync);
PG_FUNCTION_INFO_V1(nango_resume_sync);
PG_FUNCTION_INFO_V1(nango_trigger_sync);
PG_FUNCTION_INFO_V1(nango_delete_sync);

/*
 * nango_add_sync: nango.add_sync(url, config).  Minimal version: stores the
 * sync as given, scheduled to run now.
 */
Datum
nango_add_sync(PG_FUNCTION_ARGS)
{
	Oid			caller = GetUserId();
	NangoSavedRole saved;
	Datum		values[3];
	Oid			types[3] = {OIDOID, TEXTOID, JSONBOID};
	bool		isnull;
	int64		id;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("url must not be null")));
	values[0] = ObjectIdGetDatum(caller);
	values[1] = PG_GETARG_DATUM(0);
	values[2] = PG_ARGISNULL(1) ? DirectFunctionCall1(jsonb_in, CStringGetDatum("{}")) : PG_GETARG_DATUM(1);

	nango_push_role(nango_extension_owner(), &saved);
	SPI_connect();
	if (SPI_execute_with_args("INSERT INTO nango.syncs (owner, url, config, frequency, next_run_at) "
							  "VALUES ($1::pg_catalog.regrole, $2, $3, '1 hour', pg_catalog.now()) RETURNING id",
							  3, types, values, NULL, false, 1) != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "could not insert sync");
	id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	nango_pop_role(&saved);
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
