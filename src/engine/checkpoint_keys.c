/*-------------------------------------------------------------------------
 *
 * checkpoint_keys.c
 *	  The unique keys seen by a checkpointed pass of a sync with delete_mode
 *	  (docs/config.md#checkpoint): written to nango.checkpoint_keys at each
 *	  checkpoint, and read back in byte order, a batch at a time, by the
 *	  deletes at the end of the pass, so that the job's memory does not grow
 *	  with the number of keys.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "job_int.h"

/*
 * job_checkpoint_store_keys: NangoKeysCallback (arg: the JobRun): one batch
 * of seen keys into nango.checkpoint_keys (SPI connected, as the extension
 * owner).
 */
void
job_checkpoint_store_keys(void *arg, int n, char **keys)
{
	JobRun	   *run = (JobRun *) arg;
	Oid			types[2] = {INT8OID, TEXTARRAYOID};
	Datum		vals[2];
	Datum	   *elems = palloc(sizeof(Datum) * n);

	for (int i = 0; i < n; i++)
		elems[i] = CStringGetTextDatum(keys[i]);
	vals[0] = Int64GetDatum(run->sync_id);
	vals[1] = PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT));
	if (SPI_execute_with_args("INSERT INTO nango.checkpoint_keys (sync_id, unique_key) "
							  "SELECT $1, k FROM pg_catalog.unnest($2::pg_catalog.text[]) AS k "
							  "ON CONFLICT DO NOTHING",
							  2, types, vals, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not write nango.checkpoint_keys");
}

/*
 * The keys of nango.checkpoint_keys of a sync, in byte order (the order of
 * its primary key's index), read a batch at a time through a cursor.
 */
struct JobCheckpointKeys
{
	Portal		portal;
	MemoryContext cxt;			/* the batch */
	char	  **keys;
	uint64		n;
	uint64		i;
	bool		done;
};

/*
 * job_checkpoint_keys_next: NangoSeenSource over the keys job_checkpoint_keys_open
 * opened.  It is called while the store walks the rows of another cursor's
 * fetch, whose SPI_tuptable and SPI_processed are left as they were.
 */
bool
job_checkpoint_keys_next(void *arg, StringInfo buf)
{
	JobCheckpointKeys *kc = (JobCheckpointKeys *) arg;

	if (kc->i >= kc->n)
	{
		SPITupleTable *tt = SPI_tuptable;
		uint64		processed = SPI_processed;
		MemoryContext cxt = CurrentMemoryContext;

		if (kc->done)
			return false;
		MemoryContextReset(kc->cxt);
		SPI_cursor_fetch(kc->portal, true, 1000);
		MemoryContextSwitchTo(kc->cxt);
		kc->n = SPI_processed;
		kc->i = 0;
		kc->keys = palloc(sizeof(char *) * Max(kc->n, 1));
		for (uint64 i = 0; i < kc->n; i++)
			kc->keys[i] = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		SPI_freetuptable(SPI_tuptable);
		MemoryContextSwitchTo(cxt);
		SPI_tuptable = tt;
		SPI_processed = processed;
		kc->done = kc->n == 0;
		if (kc->done)
			return false;
	}
	resetStringInfo(buf);
	appendStringInfoString(buf, kc->keys[kc->i++]);
	return true;
}

/*
 * job_checkpoint_keys_open: a cursor over the sync's keys in
 * nango.checkpoint_keys, with its batches in a context under cxt (SPI
 * connected, as the extension owner; the keys the transaction just wrote
 * are seen).
 */
JobCheckpointKeys *
job_checkpoint_keys_open(int64 sync_id, MemoryContext cxt)
{
	Oid			types[1] = {INT8OID};
	Datum		vals[1] = {Int64GetDatum(sync_id)};
	JobCheckpointKeys *kc = MemoryContextAllocZero(cxt, sizeof(JobCheckpointKeys));

	kc->cxt = AllocSetContextCreate(cxt, "nango checkpoint keys", ALLOCSET_DEFAULT_SIZES);
	kc->portal = SPI_cursor_open_with_args(NULL, "SELECT unique_key FROM nango.checkpoint_keys "
										   "WHERE sync_id OPERATOR(pg_catalog.=) $1 "
										   "ORDER BY unique_key COLLATE pg_catalog.\"C\"",
										   1, types, vals, NULL, false, 0);
	if (kc->portal == NULL)
		elog(ERROR, "could not read nango.checkpoint_keys");
	return kc;
}

/* job_checkpoint_keys_close: the end of the cursor and its batches. */
void
job_checkpoint_keys_close(JobCheckpointKeys *kc)
{
	SPI_cursor_close(kc->portal);
	MemoryContextDelete(kc->cxt);
}
