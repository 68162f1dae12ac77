/*-------------------------------------------------------------------------
 *
 * mapwrite.c
 *	  Writing a page into the mapped table: one INSERT whose parameters
 *	  are one array per column (so the statement never grows with the
 *	  page; ON CONFLICT in upsert mode), or, for a page of new rows, the
 *	  direct insert (directinsert.c, which decides when that is the same);
 *	  row by row only when a row is too big for PostgreSQL; and the
 *	  statements of the overwrite and delete modes.
 *
 *	  This file writes rows; it must not change the table's definition
 *	  (maptable.c) nor decide when a direct insert is safe.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/relscan.h"
#include "access/skey.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "directinsert.h"
#include "flatten.h"
#include "job.h"
#include "mapping.h"
#include "mapping_int.h"
#include "nango.h"
#include "keyprobe.h"

/*
 * insert_sql: the INSERT of a page for the table's current column set:
 * one array parameter per column, unnested in parallel, and in upsert
 * mode an ON CONFLICT that replaces every bound column of the row.
 */
static char *
insert_sql(NangoMapTable *mt, PageArrays *pa, bool upsert, Oid *argtypes)
{
	StringInfoData s,
				sel,
				from,
				set;

	initStringInfo(&s);
	initStringInfo(&sel);
	initStringInfo(&from);
	initStringInfo(&set);
	appendStringInfo(&s, "INSERT INTO %s (\"_nango_sync_id\", \"_nango_job_id\", "
					 "\"_nango_emitted_at\", \"_nango_unique_key\"", mt->qualname);
	appendStringInfoString(&from, "pg_catalog.unnest($3::pg_catalog.text[])");
	argtypes[0] = INT8OID;
	argtypes[1] = INT8OID;
	argtypes[2] = TEXTARRAYOID;
	for (int b = 0; b < pa->nbound; b++)
	{
		MapColumn  *c = &mt->cols[pa->colidx[b]];
		const char *qn = quote_identifier(c->name);

		argtypes[3 + b] = get_array_type(nango_coltype_oid(c->type));
		appendStringInfo(&s, ", %s", qn);
		appendStringInfo(&sel, ", u.c%d", b);
		appendStringInfo(&from, ", pg_catalog.unnest($%d::%s)", b + 4,
						 format_type_be_qualified(argtypes[3 + b]));
		appendStringInfo(&set, ", %s = EXCLUDED.%s", qn, qn);
	}
	appendStringInfo(&s, ") SELECT $1, $2, pg_catalog.now(), u.k%s FROM ROWS FROM (%s) AS u(k",
					 sel.data, from.data);
	for (int b = 0; b < pa->nbound; b++)
		appendStringInfo(&s, ", c%d", b);
	appendStringInfoChar(&s, ')');
	if (upsert)
		appendStringInfo(&s, " ON CONFLICT (\"_nango_sync_id\", \"_nango_unique_key\") DO UPDATE SET "
						 "\"_nango_job_id\" = EXCLUDED.\"_nango_job_id\", "
						 "\"_nango_emitted_at\" = EXCLUDED.\"_nango_emitted_at\", "
						 "\"_nango_deleted_at\" = NULL%s", set.data);
	return s.data;
}

/*
 * bind_rows: the parameters for rows [from, from + count) of the page:
 * sync id, job id, keys and one array per bound column.
 */
static void
bind_rows(NangoMapTable *mt, int64 job_id, PageArrays *pa, int from, int count,
		  Datum *params, char *nulls)
{
	Datum	   *kd = palloc(sizeof(Datum) * Max(count, 1));
	bool	   *kn = palloc(sizeof(bool) * Max(count, 1));
	int			dims[1] = {count};
	int			lbs[1] = {1};

	params[0] = Int64GetDatum(mt->sync_id);
	params[1] = Int64GetDatum(job_id);
	for (int r = 0; r < count; r++)
	{
		char	   *k = pa->keys ? pa->keys[from + r] : NULL;

		kn[r] = (k == NULL);
		kd[r] = k ? CStringGetTextDatum(k) : (Datum) 0;
	}
	params[2] = PointerGetDatum(construct_md_array(kd, kn, 1, dims, lbs, TEXTOID, -1, false, TYPALIGN_INT));
	for (int b = 0; b < pa->nbound; b++)
	{
		Oid			typ = nango_coltype_oid(mt->cols[pa->colidx[b]].type);
		int16		typlen;
		bool		typbyval;
		char		typalign;

		get_typlenbyvalalign(typ, &typlen, &typbyval, &typalign);
		params[3 + b] = PointerGetDatum(construct_md_array(pa->values[b] + from, pa->isnull[b] + from,
														   1, dims, lbs, typ, typlen, typbyval, typalign));
	}
	memset(nulls, ' ', 3 + pa->nbound);
}

/*
 * run_guarded: fn(arg) in a subtransaction.  A row too big for PostgreSQL
 * (SQLSTATE 54000: row or index row size) is caught and returned (the
 * subtransaction rolled back); any other error is rethrown.  *result gets
 * fn's result when it returned.
 */
typedef bool (*GuardedFn) (void *arg);

static ErrorData *
run_guarded(GuardedFn fn, void *arg, bool *result)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	ErrorData  *volatile edata = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		*result = fn(arg);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		if (edata->sqlerrcode != ERRCODE_PROGRAM_LIMIT_EXCEEDED)
			ReThrowError(edata);
	}
	PG_END_TRY();
	return edata;
}

/* A statement for exec_insert: a plan and its parameters. */
typedef struct InsertCall
{
	SPIPlanPtr	plan;
	Datum	   *params;
	char	   *nulls;
} InsertCall;

/* exec_insert: runs an InsertCall's plan (GuardedFn). */
static bool
exec_insert(void *arg)
{
	InsertCall *call = arg;
	int			rc = SPI_execute_plan(call->plan, call->params, call->nulls, false, 0);

	if (rc != SPI_OK_INSERT)
		elog(ERROR, "mapped insert failed: %s", SPI_result_code_string(rc));
	return true;
}

/*
 * exec_guarded: executes the INSERT plan with run_guarded: NULL when done,
 * the error of a row too big otherwise.
 */
static ErrorData *
exec_guarded(SPIPlanPtr plan, Datum *params, char *nulls)
{
	InsertCall	call = {plan, params, nulls};
	bool		done;

	return run_guarded(exec_insert, &call, &done);
}

/*
 * write_rows: rows [from, from + count) one by one, each in its own
 * subtransaction, skipping (and counting) the rows PostgreSQL cannot store.
 */
static void
write_rows(NangoMapTable *mt, int64 job_id, PageArrays *pa, SPIPlanPtr plan, int from,
		   int count, Datum *params, char *nulls, NangoMapCounts *counts)
{
	ErrorData  *edata;

	for (int r = from; r < from + count; r++)
	{
		bind_rows(mt, job_id, pa, r, 1, params, nulls);
		if ((edata = exec_guarded(plan, params, nulls)) == NULL)
			continue;
		counts->skipped++;
		nango_log(NANGO_LOG_WARNING, LOG,
				  "nango: sync " INT64_FORMAT " job " INT64_FORMAT ": a record%s%.100s%s was not stored in %s: %s",
				  mt->sync_id, job_id, pa->keys && pa->keys[r] ? " with key \"" : "",
				  pa->keys && pa->keys[r] ? pa->keys[r] : "", pa->keys && pa->keys[r] ? "\"" : "",
				  mt->qualname, edata->message);
		nango_job_warn("records that could not be stored in %s (a row too big, say) were skipped there "
					   "(kept in nango.raw); the server log says why", mt->qualname);
	}
}

/* ---------------------------------------------------------------------
 * Direct insertion of a page of new rows (no INSERT statement)
 * ---------------------------------------------------------------------
 */

/* Where a direct insert takes an attribute's value from, besides a bound column. */
#define SRC_ID			(-1)
#define SRC_SYNC		(-2)
#define SRC_JOB			(-3)
#define SRC_EMITTED		(-4)
#define SRC_KEY			(-5)
#define SRC_DELETED		(-6)

static const struct
{
	const char *name;
	Oid			type;
	int			src;
}			sys_sources[] = {
	{"_nango_id", INT8OID, SRC_ID},
	{"_nango_sync_id", INT8OID, SRC_SYNC},
	{"_nango_job_id", INT8OID, SRC_JOB},
	{"_nango_emitted_at", TIMESTAMPTZOID, SRC_EMITTED},
	{"_nango_unique_key", TEXTOID, SRC_KEY},
	{"_nango_deleted_at", TIMESTAMPTZOID, SRC_DELETED},
};

/*
 * direct_sources: src[a] for every attribute of rel (bound column index
 * or SRC_*) and sources[a], whether the INSERT names it (the columns it
 * leaves out, _nango_id and _nango_deleted_at, get their defaults); false
 * when a column is neither a system column of the expected type nor a
 * bound column of exactly its nango type (typmod -1), or when the columns
 * are not the ones mt knows.
 */
static bool
direct_sources(NangoMapTable *mt, PageArrays *pa, Relation rel, int *src,
			   NangoDirectSource *sources)
{
	TupleDesc	td = RelationGetDescr(rel);
	int			ci = 0;
	int		   *bound = palloc(sizeof(int) * Max(mt->ncols, 1));

	for (int i = 0; i < mt->ncols; i++)
		bound[i] = -1;
	for (int b = 0; b < pa->nbound; b++)
		bound[pa->colidx[b]] = b;
	for (int a = 0; a < td->natts; a++)
	{
		Form_pg_attribute att = TupleDescAttr(td, a);

		src[a] = INT_MIN;
		sources[a] = NANGO_DIRECT_VALUE;
		if (att->attisdropped)
			continue;
		if (ci >= mt->ncols || strcmp(NameStr(att->attname), mt->cols[ci].name) != 0)
			return false;
		for (int k = 0; k < lengthof(sys_sources); k++)
			if (strcmp(NameStr(att->attname), sys_sources[k].name) == 0 &&
				att->atttypid == sys_sources[k].type)
				src[a] = sys_sources[k].src;
		if (src[a] == SRC_ID || src[a] == SRC_DELETED)
			sources[a] = NANGO_DIRECT_DEFAULT;
		if (src[a] == INT_MIN && bound[ci] >= 0 && att->atttypmod == -1 &&
			att->atttypid == nango_coltype_oid(mt->cols[ci].type))
			src[a] = bound[ci];
		if (src[a] == INT_MIN)
			return false;
		ci++;
	}
	return ci == mt->ncols;
}

/*
 * key_index: the unique index on exactly (_nango_sync_id,
 * _nango_unique_key), opened, or NULL.
 */
static Relation
key_index(Relation rel)
{
	AttrNumber	sync_att = InvalidAttrNumber,
				key_att = InvalidAttrNumber;
	TupleDesc	td = RelationGetDescr(rel);

	for (int a = 0; a < td->natts; a++)
	{
		if (strcmp(NameStr(TupleDescAttr(td, a)->attname), "_nango_sync_id") == 0)
			sync_att = a + 1;
		if (strcmp(NameStr(TupleDescAttr(td, a)->attname), "_nango_unique_key") == 0)
			key_att = a + 1;
	}
	return nango_key_index_open(rel, sync_att, key_att);
}

/*
 * check_fresh: once per job, whether the key index holds no entry of this
 * sync at all (any row version, SnapshotAny); then the job remembers the
 * keys it writes in a filter, and keys the filter lacks need no probe.
 */
static void
check_fresh(NangoMapTable *mt, Relation rel, Relation ind)
{
	IndexScanDesc scan;
	TupleTableSlot *slot;
	ScanKeyData key;
	bool		found;

	if (mt->fresh_checked)
		return;
	mt->fresh_checked = true;
	slot = table_slot_create(rel, NULL);
	scan = index_beginscan(rel, ind, SnapshotAny, 1, 0);
	ScanKeyEntryInitialize(&key, 0, 1, BTEqualStrategyNumber, InvalidOid,
						   ind->rd_indcollation[0], F_INT8EQ, Int64GetDatum(mt->sync_id));
	index_rescan(scan, &key, 1, NULL, 0);
	found = index_getnext_slot(scan, ForwardScanDirection, slot);
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	if (!found)
	{
		MemoryContext old = MemoryContextSwitchTo(mt->cxt);

		mt->inserted = nango_key_filter_create();
		MemoryContextSwitchTo(old);
	}
}

/*
 * keys_absent: in upsert mode, true when none of the page's keys has a row
 * version of this sync in the table, live or not (then ON CONFLICT would
 * update nothing): one probe of the key index per key, seeing every row
 * version (SnapshotAny), so an uncertain case goes to the INSERT; keys
 * check_fresh's filter lacks are not probed.  No other job of the sync
 * runs meanwhile (the sync's lock).
 */
static bool
keys_absent(NangoMapTable *mt, PageArrays *pa, Relation rel)
{
	Relation	ind = key_index(rel);
	IndexScanDesc scan;
	TupleTableSlot *slot;
	bool		absent = true;

	if (ind == NULL)
		return false;
	check_fresh(mt, rel, ind);
	slot = table_slot_create(rel, NULL);
	scan = index_beginscan(rel, ind, SnapshotAny, 2, 0);
	for (int r = 0; absent && r < pa->nrows; r++)
	{
		if (pa->keys[r] == NULL)
		{
			absent = false;
			break;
		}
		if (nango_key_filter_lacks(mt->inserted, pa->keys[r]))
			continue;
		if (nango_key_probe(scan, mt->sync_id, pa->keys[r], slot))
			absent = false;
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	index_close(ind, AccessShareLock);
	return absent;
}

/* The page's rows for a direct insert: what map_fill reads. */
typedef struct MapFill
{
	NangoMapTable *mt;
	int64		job_id;
	PageArrays *pa;
	const int  *src;			/* from direct_sources */
	int			natts;
} MapFill;

/*
 * map_fill: the values of row r that the page's INSERT names
 * (NangoDirectFill): the sync, the job, now(), the key and the bound
 * columns.
 */
static void
map_fill(void *arg, int r, Datum *v, bool *isnull)
{
	MapFill    *f = arg;
	PageArrays *pa = f->pa;

	for (int a = 0; a < f->natts; a++)
		switch (f->src[a])
		{
			case INT_MIN:		/* a dropped column */
			case SRC_ID:		/* left to their defaults */
			case SRC_DELETED:
				break;
			case SRC_SYNC:
				v[a] = Int64GetDatum(f->mt->sync_id);
				isnull[a] = false;
				break;
			case SRC_JOB:
				v[a] = Int64GetDatum(f->job_id);
				isnull[a] = false;
				break;
			case SRC_EMITTED:
				v[a] = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
				isnull[a] = false;
				break;
			case SRC_KEY:
				isnull[a] = pa->keys == NULL || pa->keys[r] == NULL;
				if (!isnull[a])
					v[a] = CStringGetTextDatum(pa->keys[r]);
				break;
			default:
				v[a] = pa->values[f->src[a]][r];
				isnull[a] = pa->isnull[f->src[a]][r];
		}
}

/* The arguments of nango_direct_insert, for run_guarded. */
typedef struct DirectCall
{
	Relation	rel;
	int			n;
	NangoDirectInsert di;
} DirectCall;

/* direct_call: nango_direct_insert of a DirectCall (GuardedFn). */
static bool
direct_call(void *arg)
{
	DirectCall *c = arg;

	return nango_direct_insert(c->rel, c->n, &c->di);
}

/*
 * write_direct: writes the page without an INSERT statement when that is
 * equivalent (nango_direct_insert's rule, direct_sources, keys_absent),
 * with run_guarded: a row PostgreSQL cannot store (SQLSTATE 54000) undoes
 * it and the caller's INSERT path handles the page.  True when written.
 */
static bool
write_direct(NangoMapTable *mt, int64 job_id, PageArrays *pa, bool upsert)
{
	MapFill		fill = {mt, job_id, pa, NULL, 0};
	DirectCall	call;
	int		   *src;
	NangoDirectSource *sources;
	bool		ok = false;

	if (pa->nrows == 0 || pa->nrows > WRITE_BATCH_ROWS)
		return false;
	call.rel = table_open(mt->relid, RowExclusiveLock);
	if (upsert && !keys_absent(mt, pa, call.rel))
	{
		table_close(call.rel, NoLock);
		return false;
	}
	fill.natts = RelationGetDescr(call.rel)->natts;
	src = palloc(sizeof(int) * Max(fill.natts, 1));
	sources = palloc(sizeof(NangoDirectSource) * Max(fill.natts, 1));
	fill.src = src;
	call.n = pa->nrows;
	call.di.privileges = ACL_INSERT | (upsert ? ACL_SELECT | ACL_UPDATE : 0);
	call.di.locked_att = InvalidAttrNumber;
	call.di.locked_table = InvalidOid;
	call.di.locked_ref_att = InvalidAttrNumber;
	call.di.sources = sources;
	call.di.fill = map_fill;
	call.di.arg = &fill;
	call.di.ring = &mt->ring;
	call.di.ring_cxt = mt->cxt;
	if (direct_sources(mt, pa, call.rel, src, sources) &&
		run_guarded(direct_call, &call, &ok) != NULL)
		ok = false;
	table_close(call.rel, NoLock);
	return ok;
}

/*
 * write_page: one INSERT for the whole page (for every WRITE_BATCH_ROWS
 * rows of a larger page, so that no array parameter nears PostgreSQL's
 * 1 GB limit); when a row is too big, that batch again row by row.
 */
void
write_page(NangoMapTable *mt, int64 job_id, PageArrays *pa, bool upsert, NangoMapCounts *counts)
{
	int			nparams = 3 + pa->nbound;
	Oid		   *argtypes;
	Datum	   *params;
	char	   *nulls;
	char	   *sql;
	SPIPlanPtr	plan;

	if (write_direct(mt, job_id, pa, upsert))
		return;
	argtypes = palloc(sizeof(Oid) * nparams);
	params = palloc(sizeof(Datum) * nparams);
	nulls = palloc(nparams);
	sql = insert_sql(mt, pa, upsert, argtypes);
	plan = get_plan(sql, nparams, argtypes);

	for (int from = 0; from < pa->nrows; from += WRITE_BATCH_ROWS)
	{
		int			count = Min(WRITE_BATCH_ROWS, pa->nrows - from);

		bind_rows(mt, job_id, pa, from, count, params, nulls);
		if (exec_guarded(plan, params, nulls) != NULL)
			write_rows(mt, job_id, pa, plan, from, count, params, nulls, counts);
	}
}

/*
 * exec_sync_plan: runs a cached statement whose parameters are the sync id
 * and, optionally, an array of keys.
 */
static void
exec_sync_plan(NangoMapTable *mt, const char *sql, int n, char **keys, int expect)
{
	Oid			argtypes[2] = {INT8OID, TEXTARRAYOID};
	Datum		params[2];
	SPIPlanPtr	plan;
	int			rc;

	SPI_connect();
	plan = get_plan(sql, keys ? 2 : 1, argtypes);
	params[0] = Int64GetDatum(mt->sync_id);
	if (keys)
	{
		Datum	   *kd = palloc(sizeof(Datum) * Max(n, 1));

		for (int i = 0; i < n; i++)
			kd[i] = CStringGetTextDatum(keys[i]);
		params[1] = PointerGetDatum(construct_array(kd, n, TEXTOID, -1, false, TYPALIGN_INT));
	}
	rc = SPI_execute_plan(plan, params, NULL, false, 0);
	if (rc != expect)
		elog(ERROR, "statement on mapped table %s failed: %s", mt->qualname,
			 SPI_result_code_string(rc));
	SPI_finish();
}

/* nango_map_clear_sync: removes every row of this sync (overwrite mode). */
void
nango_map_clear_sync(NangoMapTable *mt)
{
	exec_sync_plan(mt, psprintf("DELETE FROM %s WHERE \"_nango_sync_id\" = $1", mt->qualname),
				   0, NULL, SPI_OK_DELETE);
}

/*
 * nango_map_delete_keys: removes (hard) or marks deleted (soft) this
 * sync's rows of these keys.
 */
void
nango_map_delete_keys(NangoMapTable *mt, int n, char **keys, bool soft)
{
	if (n <= 0)
		return;
	if (soft)
		exec_sync_plan(mt, psprintf("UPDATE %s SET \"_nango_deleted_at\" = pg_catalog.now() "
									"WHERE \"_nango_sync_id\" = $1 AND \"_nango_unique_key\" = ANY ($2) "
									"AND \"_nango_deleted_at\" IS NULL", mt->qualname),
					   n, keys, SPI_OK_UPDATE);
	else
		exec_sync_plan(mt, psprintf("DELETE FROM %s WHERE \"_nango_sync_id\" = $1 "
									"AND \"_nango_unique_key\" = ANY ($2)", mt->qualname),
					   n, keys, SPI_OK_DELETE);
}
