/*-------------------------------------------------------------------------
 *
 * rawscan.c
 *	  Reading a sync's live rows of nango.raw back, in key order and a batch
 *	  at a time, for the engine to write them into a mapped table that lost
 *	  them (docs/mapping.md#a-mapped-table-that-lost-its-rows).  It reads
 *	  only.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "store.h"

/* Rows handed to the callback at once. */
#define SCAN_BATCH 500

static SPIPlanPtr plan_live = NULL;

/*
 * copy_batch: the fetched rows' keys and records, copied into the current
 * memory context so that the callback may run statements of its own.
 */
static int
copy_batch(SPITupleTable *tt, int n, char **keys, Jsonb **records)
{
	for (int i = 0; i < n; i++)
	{
		bool		null;
		Datum		k = SPI_getbinval(tt->vals[i], tt->tupdesc, 1, &null);
		Datum		d = SPI_getbinval(tt->vals[i], tt->tupdesc, 2, &null);

		keys[i] = TextDatumGetCString(k);
		records[i] = DatumGetJsonbPCopy(d);
	}
	return n;
}

/* nango_raw_scan_live: see store.h. */
int64
nango_raw_scan_live(int64 sync_id, NangoRecordsCallback cb, void *arg)
{
	Oid			types[1] = {INT8OID};
	Datum		v[1] = {Int64GetDatum(sync_id)};
	MemoryContext cxt = CurrentMemoryContext;
	MemoryContext batchcxt = AllocSetContextCreate(cxt, "nango raw scan", ALLOCSET_DEFAULT_SIZES);
	char	   *keys[SCAN_BATCH];
	Jsonb	   *records[SCAN_BATCH];
	Portal		portal;
	int64		total = 0;

	if (plan_live == NULL)
	{
		SPIPlanPtr	p = SPI_prepare("SELECT unique_key, data FROM nango.raw "
									"WHERE sync_id OPERATOR(pg_catalog.=) $1 AND deleted_at IS NULL "
									"AND unique_key IS NOT NULL "
									"ORDER BY unique_key COLLATE \"C\"", 1, types);

		if (p == NULL || SPI_keepplan(p) != 0)
			elog(ERROR, "could not prepare the scan of nango.raw");
		plan_live = p;
	}
	portal = SPI_cursor_open(NULL, plan_live, v, NULL, true);
	for (;;)
	{
		int			n;

		SPI_cursor_fetch(portal, true, SCAN_BATCH);
		n = (int) SPI_processed;
		if (n == 0)
			break;
		MemoryContextSwitchTo(batchcxt);
		copy_batch(SPI_tuptable, n, keys, records);
		SPI_freetuptable(SPI_tuptable);
		cb(arg, n, keys, records);
		total += n;
		MemoryContextSwitchTo(cxt);
		MemoryContextReset(batchcxt);
	}
	SPI_cursor_close(portal);
	MemoryContextSwitchTo(cxt);
	MemoryContextDelete(batchcxt);
	return total;
}
