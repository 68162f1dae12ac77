/*-------------------------------------------------------------------------
 *
 * mapping.c
 *	  Auto-mapping (SPEC section 6): flattening JSON records into typed
 *	  columns of a sync's mapped table.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"

#include "mapping.h"

struct NangoMapTable
{
	int64		sync_id;
};

PG_FUNCTION_INFO_V1(nango_flatten);

/*
 * nango_flatten: SQL function nango.flatten(jsonb).
 */
Datum
nango_flatten(PG_FUNCTION_ARGS)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("nango.flatten is not available yet")));
	PG_RETURN_NULL();
}

NangoMapTable *
nango_map_open(int64 sync_id, const char *mapped_table, Jsonb *metadata)
{
	NangoMapTable *mt = palloc0(sizeof(NangoMapTable));

	mt->sync_id = sync_id;
	return mt;
}

void
nango_map_write(NangoMapTable *mt, int64 job_id, int n, Jsonb **records,
				char **keys, NangoMapCounts *counts)
{
}

void
nango_map_clear_sync(NangoMapTable *mt)
{
}

void
nango_map_delete_keys(NangoMapTable *mt, int n, char **keys, bool soft)
{
}

void
nango_map_close(NangoMapTable *mt)
{
	pfree(mt);
}
