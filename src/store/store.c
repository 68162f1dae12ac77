/*-------------------------------------------------------------------------
 *
 * store.c
 *	  Writing records into nango.raw, one page at a time, with a few
 *	  batched statements per page (arrays as parameters, cached plans).
 *
 *	  Overwrite mode: the sync's rows are deleted at the start of the job
 *	  and each page is inserted; the job runs in one subtransaction, so
 *	  readers see the old rows until the job commits and a failed job
 *	  changes nothing.
 *
 *	  Upsert mode: one lookup per page reads (unique_key, data_hash, and
 *	  whether the stored metadata equals the sync's) of the page's keys;
 *	  new keys are inserted, records whose data or metadata changed are
 *	  updated, and unchanged rows are not touched at all (a re-sync of
 *	  unchanged data costs a lookup, not a rewrite).
 *
 *	  Each distinct key is counted once per job, in added, updated or
 *	  unchanged.  The job remembers how it classified each record (a hash
 *	  of the key and the class, in a sort that spills to a temporary file,
 *	  so memory stays flat) and counts the distinct keys at the end: a key
 *	  seen again later in the same job is not counted again (its last
 *	  version is written if it differs from the stored row), and a key
 *	  first counted unchanged then changed counts as updated.  A job that
 *	  checkpoints keeps the keys counted before each checkpoint
 *	  (classcount.c), so a key is counted once across them too.  Unchanged
 *	  rows keep their old job_id, so job_id cannot tell which keys this job
 *	  saw.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/tuplesort.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_operator.h"
#include "miscadmin.h"

#include "catalog.h"
#include "classcount.h"
#include "store.h"
#include "keyprobe.h"

/*
 * How each classified record is remembered for the final counts: a 62-bit
 * hash of its key with the class in the two low bits (lower is stronger:
 * a key first added stays added, one first unchanged then changed is
 * updated).
 */
#define CLASS_ADDED		0
#define CLASS_UPDATED	1
#define CLASS_UNCHANGED 2
#define CLASS_MASK		UINT64CONST(3)

/* Memory of the classification sort before it spills to a temporary file. */
#define CLASSIFY_SORT_KB 64

/*
 * Memory of the sort of the keys a job sees (delete modes) before it
 * spills to a temporary file (at most work_mem): about 5,000 keys, so a
 * job's memory does not grow with the size of the data set.
 */
#define SEEN_SORT_KB 256

struct NangoStore
{
	int64		sync_id;
	int64		job_id;
	bool		upsert;
	Jsonb	   *metadata;
	Tuplesortstate *classified; /* classified records (upsert mode) */
	bool		sync_locked;	/* FOR KEY SHARE held on the sync's row */
	Tuplesortstate *seen;		/* keys seen by the job (delete modes) */
	bloom_filter *inserted;		/* keys inserted by this job into a sync
								 * that had no rows at its start, or NULL */
	NangoClassCounted *counted; /* keys counted before the last checkpoint */
	NangoSeenSource seen_from;	/* the seen keys come from there, or NULL */
	void	   *seen_arg;
	MemoryContext cxt;			/* the job's: this struct, the ring */
	BulkInsertState ring;		/* nango.raw's new pages (directinsert.h) */
};

static SPIPlanPtr plan_delete = NULL;
static SPIPlanPtr plan_insert = NULL;
static SPIPlanPtr plan_lookup = NULL;
static SPIPlanPtr plan_update = NULL;
static SPIPlanPtr plan_has_rows = NULL;

/* prepare: a kept plan for one of the store's statements. */
static SPIPlanPtr
prepare(const char *sql, int nargs, Oid *types)
{
	SPIPlanPtr	plan = SPI_prepare(sql, nargs, types);

	if (plan == NULL)
		elog(ERROR, "could not prepare \"%s\": %s", sql, SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "could not keep a plan");
	return plan;
}

/* prepare_plans: the statements of both modes, prepared once per backend. */
static void
prepare_plans(void)
{
	Oid			t_del[1] = {INT8OID};
	Oid			t_ins[6] = {INT8OID, INT8OID, JSONBOID, TEXTARRAYOID, JSONBARRAYOID, TEXTARRAYOID};
	Oid			t_look[3] = {INT8OID, TEXTARRAYOID, JSONBOID};

	if (plan_delete == NULL)
		plan_delete = prepare("DELETE FROM nango.raw WHERE sync_id = $1", 1, t_del);
	if (plan_insert == NULL)
		plan_insert = prepare("INSERT INTO nango.raw (sync_id, job_id, unique_key, data, metadata, data_hash) "
							  "SELECT $1, $2, t.k, t.d, $3, t.h "
							  "FROM ROWS FROM (pg_catalog.unnest($4::pg_catalog.text[]), "
							  "pg_catalog.unnest($5::pg_catalog.jsonb[]), "
							  "pg_catalog.unnest($6::pg_catalog.text[])) AS t(k, d, h)", 6, t_ins);
	if (plan_lookup == NULL)
		plan_lookup = prepare("SELECT unique_key, data_hash, deleted_at IS NOT NULL, "
							  "COALESCE(metadata OPERATOR(pg_catalog.=) $3, "
							  "metadata IS NULL AND $3 IS NULL) "
							  "FROM nango.raw WHERE sync_id = $1 AND unique_key = ANY ($2)",
							  3, t_look);
	if (plan_has_rows == NULL)
		plan_has_rows = prepare("SELECT 1 FROM nango.raw WHERE sync_id OPERATOR(pg_catalog.=) $1 "
								"LIMIT 1", 1, t_del);
	if (plan_update == NULL)
		plan_update = prepare("UPDATE nango.raw r SET job_id = $2, data = t.d, metadata = $3, "
							  "data_hash = t.h, emitted_at = pg_catalog.now(), deleted_at = NULL "
							  "FROM ROWS FROM (pg_catalog.unnest($4::pg_catalog.text[]), "
							  "pg_catalog.unnest($5::pg_catalog.jsonb[]), "
							  "pg_catalog.unnest($6::pg_catalog.text[])) AS t(k, d, h) "
							  "WHERE r.sync_id = $1 AND r.unique_key = t.k", 6, t_ins);
}

char *
nango_data_hash(Jsonb *record)
{
	const unsigned char *p = (const unsigned char *) VARDATA(record);
	int			len = VARSIZE(record) - VARHDRSZ;
	uint64		a = hash_bytes_extended(p, len, UINT64CONST(0x9e3779b97f4a7c15));
	uint64		b = hash_bytes_extended(p, len, UINT64CONST(0x6e616e676f686173));

	return psprintf("%016llx%016llx", (unsigned long long) a, (unsigned long long) b);
}

/*
 * sync_has_rows: whether nango.raw holds any row of the sync.  No other
 * job of the sync can add rows while this one runs (one job per sync).
 */
static bool
sync_has_rows(NangoStore *st)
{
	Datum		v[1] = {Int64GetDatum(st->sync_id)};
	MemoryContext cxt = CurrentMemoryContext;

	if (SPI_execute_plan(plan_has_rows, v, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read nango.raw");
	MemoryContextSwitchTo(cxt);
	return SPI_processed > 0;
}

NangoStore *
nango_store_open(int64 sync_id, int64 job_id, bool upsert, Jsonb *metadata)
{
	NangoStore *st = palloc0(sizeof(NangoStore));

	st->cxt = CurrentMemoryContext;
	st->sync_id = sync_id;
	st->job_id = job_id;
	st->upsert = upsert;
	st->metadata = metadata;
	if (upsert)
	{
		st->classified = tuplesort_begin_datum(INT8OID, Int8LessOperator, InvalidOid, false,
											   CLASSIFY_SORT_KB, NULL, TUPLESORT_NONE);
		st->counted = nango_classcount_create(CurrentMemoryContext);
	}
	{
		MemoryContext cxt = CurrentMemoryContext;

		prepare_plans();
		MemoryContextSwitchTo(cxt);
	}
	if (upsert && !sync_has_rows(st))
		st->inserted = nango_key_filter_create();
	return st;
}

/* nango_store_set_metadata: see store.h. */
void
nango_store_set_metadata(NangoStore *st, Jsonb *metadata)
{
	st->metadata = metadata;
}

int64
nango_store_clear(NangoStore *st)
{
	Datum		v[1] = {Int64GetDatum(st->sync_id)};
	MemoryContext cxt = CurrentMemoryContext;

	if (SPI_execute_plan(plan_delete, v, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not delete the raw rows of sync " INT64_FORMAT, st->sync_id);
	MemoryContextSwitchTo(cxt);
	return (int64) SPI_processed;
}

/*
 * page_array: a parameter for unnest(): the array of the n values
 * vals[idx[i]] (vals[i] when idx is NULL), C strings made text when type
 * is TEXTOID, Jsonb pointers when it is JSONBOID.
 */
static Datum
page_array(int n, void *const *vals, const int *idx, Oid type)
{
	Datum	   *d = palloc(sizeof(Datum) * (n > 0 ? n : 1));

	for (int i = 0; i < n; i++)
	{
		void	   *v = vals[idx ? idx[i] : i];

		d[i] = type == TEXTOID ? CStringGetTextDatum((char *) v) : PointerGetDatum(v);
	}
	return PointerGetDatum(construct_array(d, n, type, -1, false, TYPALIGN_INT));
}

/* text_array: page_array of C strings. */
static Datum
text_array(int n, char **vals, const int *idx)
{
	return page_array(n, (void *const *) vals, idx, TEXTOID);
}

/*
 * lock_sync: once per job, the lock the foreign key check of
 * nango.raw.sync_id takes (FOR KEY SHARE on the sync's row), held to the
 * end of the transaction; the direct insert relies on it.
 */
static void
lock_sync(NangoStore *st)
{
	MemoryContext cxt = CurrentMemoryContext;
	bool		found;

	if (st->sync_locked)
		return;
	found = catalog_lock_sync_key(st->sync_id);
	MemoryContextSwitchTo(cxt);
	if (!found)
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("sync " INT64_FORMAT " no longer exists", st->sync_id)));
	st->sync_locked = true;
}

/*
 * insert_direct: the new rows idx[0..n-1] through nango_raw_insert_direct;
 * false when that path does not apply (nothing written).
 */
static bool
insert_direct(NangoStore *st, int n, const int *idx, Jsonb **records, char **keys,
			  char **hashes)
{
	NangoRawRow *rows = palloc(sizeof(NangoRawRow) * n);

	lock_sync(st);
	for (int i = 0; i < n; i++)
	{
		int			r = idx ? idx[i] : i;

		rows[i].sync_id = st->sync_id;
		rows[i].job_id = st->job_id;
		rows[i].unique_key = keys ? keys[r] : NULL;
		rows[i].data = records[r];
		rows[i].metadata = st->metadata;
		rows[i].data_hash = hashes[r];
	}
	return nango_raw_insert_direct(n, rows, &st->ring, st->cxt);
}

/*
 * write_rows: runs the insert or update plan for the records idx[0..n-1]
 * (keys may be NULL in overwrite mode: NULL unique keys).
 */
static void
write_rows(NangoStore *st, SPIPlanPtr plan, int n, const int *idx, Jsonb **records,
		   char **keys, char **hashes, int expect)
{
	Datum		v[6];
	char		nulls[6] = "      ";
	MemoryContext cxt = CurrentMemoryContext;

	if (n == 0)
		return;
	if (plan == plan_insert && insert_direct(st, n, idx, records, keys, hashes))
		return;
	v[0] = Int64GetDatum(st->sync_id);
	v[1] = Int64GetDatum(st->job_id);
	v[2] = st->metadata ? JsonbPGetDatum(st->metadata) : (Datum) 0;
	if (st->metadata == NULL)
		nulls[2] = 'n';
	if (keys != NULL)
		v[3] = text_array(n, keys, idx);
	else
	{
		/* overwrite mode: an array of NULL keys */
		Datum	   *d = palloc0(sizeof(Datum) * n);
		bool	   *dn = palloc(sizeof(bool) * n);
		int			dims[1] = {n};
		int			lbs[1] = {1};

		memset(dn, true, sizeof(bool) * n);
		v[3] = PointerGetDatum(construct_md_array(d, dn, 1, dims, lbs, TEXTOID, -1, false, TYPALIGN_INT));
	}
	v[4] = page_array(n, (void *const *) records, idx, JSONBOID);
	v[5] = text_array(n, hashes, idx);
	if (SPI_execute_plan(plan, v, nulls, false, 0) != expect)
		elog(ERROR, "could not write to nango.raw");
	/* SPI leaves us in its own context: return to the page's */
	MemoryContextSwitchTo(cxt);
}

/* An existing row found by the lookup. */
typedef NangoRawFound Existing;

static char **sort_keys;		/* qsort context for cmp_idx */

/* cmp_idx: order record indexes by key, then by position. */
static int
cmp_idx(const void *a, const void *b)
{
	int			ia = *(const int *) a;
	int			ib = *(const int *) b;
	int			c = strcmp(sort_keys[ia], sort_keys[ib]);

	if (c != 0)
		return c;
	return ia < ib ? -1 : (ia > ib);
}

static int
cmp_existing(const void *a, const void *b)
{
	return strcmp(((const Existing *) a)->key, ((const Existing *) b)->key);
}

/*
 * last_of_each_key: indexes of the last record of each distinct key, in
 * key order; returns how many.
 */
static int
last_of_each_key(int n, char **keys, int *out)
{
	int		   *idx = palloc(sizeof(int) * n);
	int			i;
	int			m = 0;

	for (i = 0; i < n; i++)
		idx[i] = i;
	sort_keys = keys;
	qsort(idx, n, sizeof(int), cmp_idx);
	for (i = 0; i < n; i++)
		if (i == n - 1 || strcmp(keys[idx[i]], keys[idx[i + 1]]) != 0)
			out[m++] = idx[i];
	pfree(idx);
	return m;
}

/*
 * lookup: the existing rows of these keys, sorted by key: probes of the
 * key index when nango_raw_lookup_direct can, else one SELECT.
 */
static Existing *
lookup(NangoStore *st, int n, const int *idx, char **keys, int *nfound)
{
	Datum		v[3];
	char		nulls[3] = "   ";
	Existing   *ex;
	uint64		i;
	MemoryContext cxt = CurrentMemoryContext;

	ex = nango_raw_lookup_direct(st->sync_id, n, idx, keys, st->metadata, nfound);
	if (ex != NULL)
	{
		qsort(ex, *nfound, sizeof(Existing), cmp_existing);
		return ex;
	}
	v[0] = Int64GetDatum(st->sync_id);
	v[1] = text_array(n, keys, idx);
	v[2] = st->metadata ? JsonbPGetDatum(st->metadata) : (Datum) 0;
	if (st->metadata == NULL)
		nulls[2] = 'n';
	if (SPI_execute_plan(plan_lookup, v, nulls, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read nango.raw");
	/* copy the results into the page's context */
	MemoryContextSwitchTo(cxt);
	ex = palloc(sizeof(Existing) * (SPI_processed > 0 ? SPI_processed : 1));
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	td = SPI_tuptable->tupdesc;
		bool		isnull;

		ex[i].key = SPI_getvalue(tup, td, 1);
		ex[i].hash = SPI_getvalue(tup, td, 2);
		ex[i].deleted = DatumGetBool(SPI_getbinval(tup, td, 3, &isnull));
		ex[i].same_metadata = DatumGetBool(SPI_getbinval(tup, td, 4, &isnull));
	}
	*nfound = (int) SPI_processed;
	SPI_freetuptable(SPI_tuptable);
	qsort(ex, *nfound, sizeof(Existing), cmp_existing);
	return ex;
}

/*
 * count_key: remembers how a record of key was classified; written is true
 * for an added or updated record.  nango_store_count turns these into
 * counts at the end of the job, once per distinct key.  A sort that spills
 * to a temporary file keeps the job's memory flat however many keys it
 * sees.
 */
static void
count_key(NangoStore *st, const char *key, bool added, bool written, NangoCounts *c)
{
	uint64		h = hash_bytes_extended((const unsigned char *) key, strlen(key),
										UINT64CONST(0x6b6579736565));
	uint64		cls = added ? CLASS_ADDED : written ? CLASS_UPDATED : CLASS_UNCHANGED;

	tuplesort_putdatum(st->classified, Int64GetDatum((int64) ((h & ~CLASS_MASK) | cls)), false);
}

/*
 * count_classified: the records classified since the job's start or its
 * last checkpoint become counts in c, each distinct key once across the
 * whole job (classcount.c); with keep (a checkpoint), the counted keys are
 * kept for the rest of the job.
 */
static void
count_classified(NangoStore *st, NangoCounts *c, bool keep)
{
	if (st->classified == NULL)
		return;
	tuplesort_performsort(st->classified);
	nango_classcount_merge(st->counted, st->classified, c, keep);
	tuplesort_end(st->classified);
	st->classified = NULL;
}

/* nango_store_count: see store.h. */
void
nango_store_count(NangoStore *st, NangoCounts *c)
{
	count_classified(st, c, false);
}

/*
 * write_upsert: classifies the page's records against the existing rows
 * and writes the new and changed ones (see the file header).
 */
static void
write_upsert(NangoStore *st, int n, Jsonb **records, char **keys, char **hashes,
			 NangoCounts *c, bool *changed)
{
	int		   *uniq = palloc(sizeof(int) * n);
	int		   *ins = palloc(sizeof(int) * n);
	int		   *upd = palloc(sizeof(int) * n);
	int		   *look = palloc(sizeof(int) * n);
	int			nuniq;
	int			nlook = 0;
	int			nins = 0;
	int			nupd = 0;
	int			nfound = 0;
	Existing   *ex = NULL;
	int			i;

	nuniq = last_of_each_key(n, keys, uniq);
	c->duplicate += n - nuniq;	/* repeated within the page */
	if (st->seen != NULL)
		for (i = 0; i < nuniq; i++)
			tuplesort_putdatum(st->seen, CStringGetTextDatum(keys[uniq[i]]), false);
	/* in a sync that started empty, only keys this job may have inserted */
	for (i = 0; i < nuniq; i++)
		if (!nango_key_filter_lacks(st->inserted, keys[uniq[i]]))
			look[nlook++] = uniq[i];
	if (nlook > 0)
		ex = lookup(st, nlook, look, keys, &nfound);
	for (i = 0; i < nuniq; i++)
	{
		int			r = uniq[i];
		Existing	probe = {keys[r]};
		Existing   *e = nfound > 0 ? bsearch(&probe, ex, nfound, sizeof(Existing), cmp_existing) : NULL;

		if (e == NULL)
		{
			ins[nins++] = r;
			nango_key_filter_add(st->inserted, keys[r]);
		}
		else if (e->deleted || strcmp(e->hash, hashes[r]) != 0 || !e->same_metadata)
			upd[nupd++] = r;
		else
		{
			count_key(st, keys[r], false, false, c);
			continue;
		}
		/* a soft-deleted key that comes back counts as added */
		count_key(st, keys[r], e == NULL || e->deleted, true, c);
		changed[r] = true;
	}
	write_rows(st, plan_insert, nins, ins, records, keys, hashes, SPI_OK_INSERT);
	write_rows(st, plan_update, nupd, upd, records, keys, hashes, SPI_OK_UPDATE);
}

void
nango_store_write(NangoStore *st, int n, Jsonb **records, char **keys,
				  NangoCounts *c, bool *changed)
{
	char	  **hashes;
	int			i;

	if (n == 0)
		return;
	hashes = palloc(sizeof(char *) * n);
	for (i = 0; i < n; i++)
	{
		hashes[i] = nango_data_hash(records[i]);
		changed[i] = false;
	}
	if (!st->upsert)
	{
		write_rows(st, plan_insert, n, NULL, records, NULL, hashes, SPI_OK_INSERT);
		c->added += n;
		for (i = 0; i < n; i++)
			changed[i] = true;
		return;
	}
	write_upsert(st, n, records, keys, hashes, c, changed);
}

/* ---------------------------------------------------------------------
 * Delete modes
 * ---------------------------------------------------------------------
 */

static SPIPlanPtr plan_live_keys = NULL;
static SPIPlanPtr plan_live_keys_after = NULL;
static SPIPlanPtr plan_hard_delete = NULL;
static SPIPlanPtr plan_soft_delete = NULL;

void
nango_store_track_keys(NangoStore *st)
{
	/* byte order (collation "C"), the same order as strcmp */
	st->seen = tuplesort_begin_datum(TEXTOID, TextLessOperator, C_COLLATION_OID,
									 false, Min(work_mem, SEEN_SORT_KB), NULL, TUPLESORT_NONE);
}

/* delete_batch: removes or marks deleted one batch of unseen keys. */
static int64
delete_batch(NangoStore *st, bool soft, int n, char **keys,
			 NangoKeysCallback on_keys, void *arg)
{
	Datum		v[2];
	MemoryContext cxt = CurrentMemoryContext;
	int64		done;

	if (n == 0)
		return 0;
	v[0] = Int64GetDatum(st->sync_id);
	v[1] = text_array(n, keys, NULL);
	if (SPI_execute_plan(soft ? plan_soft_delete : plan_hard_delete, v, NULL, false, 0) < 0)
		elog(ERROR, "could not delete from nango.raw");
	done = (int64) SPI_processed;
	MemoryContextSwitchTo(cxt);
	if (on_keys != NULL)
		on_keys(arg, n, keys);
	return done;
}

#define DELETE_BATCH 1000

/* next_seen: the next key of the sorted seen keys into buf; false at the end. */
static bool
next_seen(Tuplesortstate *ts, StringInfo buf)
{
	Datum		d;
	bool		isnull;
	text	   *t;

	if (!tuplesort_getdatum(ts, true, &d, &isnull, NULL))
		return false;
	t = DatumGetTextPP(d);
	resetStringInfo(buf);
	appendBinaryStringInfo(buf, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
	pfree(DatumGetPointer(d));
	return true;
}

/* prepare_delete_plans: the statements of the delete modes. */
static void
prepare_delete_plans(void)
{
	Oid			t_keys[2] = {INT8OID, TEXTOID};
	Oid			t_del[2] = {INT8OID, TEXTARRAYOID};

	/* a batch at a time after the last key read: memory bounded whatever the plan */
	if (plan_live_keys == NULL)
		plan_live_keys = prepare("SELECT unique_key FROM nango.raw WHERE sync_id = $1 "
								 "AND deleted_at IS NULL AND unique_key IS NOT NULL "
								 "ORDER BY unique_key COLLATE pg_catalog.\"C\" "
								 "LIMIT " CppAsString2(DELETE_BATCH), 1, t_keys);
	if (plan_live_keys_after == NULL)
		plan_live_keys_after = prepare("SELECT unique_key FROM nango.raw WHERE sync_id = $1 "
									   "AND deleted_at IS NULL AND unique_key IS NOT NULL "
									   "AND unique_key > $2 COLLATE pg_catalog.\"C\" "
									   "ORDER BY unique_key COLLATE pg_catalog.\"C\" "
									   "LIMIT " CppAsString2(DELETE_BATCH), 2, t_keys);
	if (plan_hard_delete == NULL)
		plan_hard_delete = prepare("DELETE FROM nango.raw WHERE sync_id = $1 "
								   "AND unique_key = ANY ($2)", 2, t_del);
	if (plan_soft_delete == NULL)
		plan_soft_delete = prepare("UPDATE nango.raw SET deleted_at = pg_catalog.now() "
								   "WHERE sync_id = $1 AND unique_key = ANY ($2) "
								   "AND deleted_at IS NULL", 2, t_del);
}

/*
 * nango_store_delete_unseen: merges the sync's live keys (read in byte
 * order, a batch at a time: the next DELETE_BATCH keys after the last one
 * read) with the sorted seen keys; the stored keys missing from the seen
 * ones are deleted batch by batch.
 */
int64
nango_store_delete_unseen(NangoStore *st, bool soft, NangoKeysCallback on_keys, void *arg)
{
	Datum		v[2] = {Int64GetDatum(st->sync_id), (Datum) 0};
	MemoryContext cxt = CurrentMemoryContext;
	MemoryContext batchcxt;
	char	  **batch = palloc(sizeof(char *) * DELETE_BATCH);
	StringInfoData seen;
	StringInfoData last;
	uint64		fetched = DELETE_BATCH;
	bool		have_seen = false;
	bool		seen_done = false;
	int64		deleted = 0;

	prepare_delete_plans();
	MemoryContextSwitchTo(cxt);
	initStringInfo(&seen);
	if (st->seen != NULL)
		tuplesort_performsort(st->seen);
	batchcxt = AllocSetContextCreate(cxt, "nango deletes", ALLOCSET_DEFAULT_SIZES);

	initStringInfo(&last);
	while (fetched == DELETE_BATCH)
	{
		uint64		i;
		int			nbatch = 0;

		v[1] = last.len > 0 ? CStringGetTextDatum(last.data) : (Datum) 0;
		if (SPI_execute_plan(last.len > 0 ? plan_live_keys_after : plan_live_keys,
							 v, NULL, true, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not read the keys of sync " INT64_FORMAT, st->sync_id);
		MemoryContextSwitchTo(batchcxt);
		fetched = SPI_processed;
		if (fetched == 0)
			break;
		for (i = 0; i < SPI_processed; i++)
		{
			char	   *key = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);

			while (!seen_done && (!have_seen || strcmp(seen.data, key) < 0))
			{
				have_seen = st->seen_from ? st->seen_from(st->seen_arg, &seen)
					: next_seen(st->seen, &seen);
				seen_done = !have_seen;
			}
			if (!have_seen || strcmp(seen.data, key) != 0)
				batch[nbatch++] = key;
		}
		resetStringInfo(&last);
		appendStringInfoString(&last,
							   SPI_getvalue(SPI_tuptable->vals[fetched - 1], SPI_tuptable->tupdesc, 1));
		SPI_freetuptable(SPI_tuptable);
		deleted += delete_batch(st, soft, nbatch, batch, on_keys, arg);
		MemoryContextSwitchTo(cxt);
		MemoryContextReset(batchcxt);
	}
	MemoryContextSwitchTo(cxt);
	if (st->seen != NULL)
		tuplesort_end(st->seen);
	st->seen = NULL;
	MemoryContextDelete(batchcxt);
	return deleted;
}

/* ---------------------------------------------------------------------
 * Checkpoints (docs/config.md#checkpoint)
 * ---------------------------------------------------------------------
 */

/*
 * nango_store_checkpoint: before the job's transaction commits at a
 * checkpoint: the sorts of the part of the job since the last one are
 * ended (their temporary files belong to the transaction): the classified
 * records become counts in c (the keys counted so far are kept in a file
 * that outlives the transaction, so that none is counted twice), and the
 * seen keys go to on_seen.
 */
void
nango_store_checkpoint(NangoStore *st, NangoCounts *c, NangoKeysCallback on_seen, void *arg)
{
	count_classified(st, c, true);
	st->sync_locked = false;
	nango_store_flush_seen(st, on_seen, arg);
}

/*
 * nango_store_flush_seen: each batch of the keys seen since the last
 * checkpoint is handed to on_seen (which stores them for the deletes at
 * the end of the pass), and the sort is ended.
 */
void
nango_store_flush_seen(NangoStore *st, NangoKeysCallback on_seen, void *arg)
{
	MemoryContext cxt = CurrentMemoryContext;
	MemoryContext batchcxt;
	char	  **batch;
	int			n = 0;
	StringInfoData buf;

	if (st->seen == NULL)
		return;
	batchcxt = AllocSetContextCreate(cxt, "nango checkpoint keys", ALLOCSET_DEFAULT_SIZES);
	batch = palloc(sizeof(char *) * DELETE_BATCH);
	initStringInfo(&buf);
	tuplesort_performsort(st->seen);
	for (;;)
	{
		bool		more = next_seen(st->seen, &buf);

		if (more)
			batch[n++] = MemoryContextStrdup(batchcxt, buf.data);
		if (n > 0 && (!more || n == DELETE_BATCH))
		{
			on_seen(arg, n, batch);
			MemoryContextSwitchTo(cxt);
			MemoryContextReset(batchcxt);
			n = 0;
		}
		if (!more)
			break;
	}
	tuplesort_end(st->seen);
	st->seen = NULL;
	MemoryContextDelete(batchcxt);
	pfree(batch);
	pfree(buf.data);
}

/*
 * nango_store_resume: in the transaction that follows a checkpoint: new
 * sorts for the rest of the job (allocated in the current context, which
 * must be the job's).
 */
void
nango_store_resume(NangoStore *st, bool track_keys)
{
	if (st->upsert && st->classified == NULL)
		st->classified = tuplesort_begin_datum(INT8OID, Int8LessOperator, InvalidOid, false,
											   CLASSIFY_SORT_KB, NULL, TUPLESORT_NONE);
	if (track_keys && st->seen == NULL)
		nango_store_track_keys(st);
}

/* nango_store_seen_from: see store.h. */
void
nango_store_seen_from(NangoStore *st, NangoSeenSource next, void *arg)
{
	st->seen_from = next;
	st->seen_arg = arg;
}

/*
 * nango_store_seen_unchanged: a key of a page skipped as unchanged
 * (pagememo.c): counted unchanged once per job, as a stored record's key
 * is (so a key that comes back on a page read in full counts as a
 * duplicate), and seen by the delete modes.
 */
void
nango_store_seen_unchanged(NangoStore *st, const char *key)
{
	if (st->classified != NULL)
		count_key(st, key, false, false, NULL);
	if (st->seen != NULL)
		tuplesort_putdatum(st->seen, CStringGetTextDatum(key), false);
}
