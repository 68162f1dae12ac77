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
 * its primary key's index), read a batch at a time: each batch is the next
 * CHECKPOINT_KEYS_BATCH keys after the last one read, so that whatever plan
 * the server picks, its memory is bounded by the batch.
 */
#define CHECKPOINT_KEYS_BATCH 1000

struct JobCheckpointKeys
{
	int64		sync_id;
	MemoryContext cxt;			/* the batch */
	StringInfoData last;		/* the last key read */
	char	  **keys;
	uint64		n;
	uint64		i;
	bool		started;
	bool		done;
};

/*
 * fetch_batch: the next batch of keys into kc (SPI connected); the
 * caller's SPI_tuptable and SPI_processed are left as they were.
 */
static void
fetch_batch(JobCheckpointKeys *kc)
{
	Oid			types[2] = {INT8OID, TEXTOID};
	Datum		vals[2];
	SPITupleTable *tt = SPI_tuptable;
	uint64		processed = SPI_processed;
	MemoryContext cxt = CurrentMemoryContext;
	int			ret;

	MemoryContextReset(kc->cxt);
	vals[0] = Int64GetDatum(kc->sync_id);
	vals[1] = kc->started ? CStringGetTextDatum(kc->last.data) : (Datum) 0;
	ret = SPI_execute_with_args(kc->started
								? "SELECT unique_key FROM nango.checkpoint_keys "
								"WHERE sync_id OPERATOR(pg_catalog.=) $1 "
								"AND unique_key OPERATOR(pg_catalog.>) $2 COLLATE pg_catalog.\"C\" "
								"ORDER BY unique_key COLLATE pg_catalog.\"C\" LIMIT " CppAsString2(CHECKPOINT_KEYS_BATCH)
								: "SELECT unique_key FROM nango.checkpoint_keys "
								"WHERE sync_id OPERATOR(pg_catalog.=) $1 "
								"ORDER BY unique_key COLLATE pg_catalog.\"C\" LIMIT " CppAsString2(CHECKPOINT_KEYS_BATCH),
								kc->started ? 2 : 1, types, vals, NULL, false, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read nango.checkpoint_keys");
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
	kc->started = true;
	kc->done = kc->n < CHECKPOINT_KEYS_BATCH;
	if (kc->n > 0)
	{
		resetStringInfo(&kc->last);
		appendStringInfoString(&kc->last, kc->keys[kc->n - 1]);
	}
}

/*
 * job_checkpoint_keys_next: NangoSeenSource over the keys of
 * job_checkpoint_keys_open.  It is called while the store walks the rows
 * of another query's fetch, which fetch_batch leaves as they were.
 */
bool
job_checkpoint_keys_next(void *arg, StringInfo buf)
{
	JobCheckpointKeys *kc = (JobCheckpointKeys *) arg;

	if (kc->i >= kc->n)
	{
		if (kc->started && kc->done)
			return false;
		fetch_batch(kc);
		if (kc->n == 0)
			return false;
	}
	resetStringInfo(buf);
	appendStringInfoString(buf, kc->keys[kc->i++]);
	return true;
}

/*
 * job_checkpoint_keys_open: the sync's keys in nango.checkpoint_keys, read
 * by job_checkpoint_keys_next (SPI connected, as the extension owner; the
 * keys the transaction just wrote are seen), in a context under cxt.
 */
JobCheckpointKeys *
job_checkpoint_keys_open(int64 sync_id, MemoryContext cxt)
{
	JobCheckpointKeys *kc = MemoryContextAllocZero(cxt, sizeof(JobCheckpointKeys));
	MemoryContext old = MemoryContextSwitchTo(cxt);

	kc->sync_id = sync_id;
	kc->cxt = AllocSetContextCreate(cxt, "nango checkpoint keys", ALLOCSET_DEFAULT_SIZES);
	initStringInfo(&kc->last);
	MemoryContextSwitchTo(old);
	return kc;
}

/* job_checkpoint_keys_close: the end of the reading and its batches. */
void
job_checkpoint_keys_close(JobCheckpointKeys *kc)
{
	MemoryContextDelete(kc->cxt);
	pfree(kc->last.data);
}
