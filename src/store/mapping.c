/*-------------------------------------------------------------------------
 *
 * mapping.c
 *	  Auto-mapping (docs/mapping.md): the mapped table of a sync, the entry
 *	  points of mapping.h and the SQL functions the tests call.
 *
 *	  nango_map_open finds or creates the table (maptable.c) and checks
 *	  whose it is (mapowner.c).  nango_map_write flattens a page of records
 *	  into column values (mapcolumns.c), evolves the table (new columns,
 *	  lossless widening; maptable.c) and writes the page (mapwrite.c).
 *	  Everything runs as the current user (the sync's owner), except
 *	  creating a table in schema nango, which the extension owner does
 *	  before handing the table to the sync's owner.  This file also keeps
 *	  the prepared statements of those files across jobs.
 *
 *	  This file sequences the steps; it must not build SQL on the mapped
 *	  table nor decide how rows are written (the files above do).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "flatten.h"
#include "mapping.h"
#include "mapping_int.h"
#include "nango.h"
#include "extinfo.h"
#include "roles.h"
#include "keyprobe.h"

/* Statement cache: prepared plans kept across jobs, keyed by SQL text. */
#define PLAN_CACHE_SIZE 32
typedef struct NangoCachedPlan
{
	char	   *sql;
	SPIPlanPtr	plan;
} NangoCachedPlan;
static NangoCachedPlan plan_cache[PLAN_CACHE_SIZE];
static int	plan_cache_n = 0;

/*
 * get_plan: a kept SPI plan for sql with the given argument types, from
 * the cache or prepared now (evicting the oldest when the cache is full).
 */
SPIPlanPtr
get_plan(const char *sql, int nargs, Oid *argtypes)
{
	SPIPlanPtr	plan;

	for (int i = 0; i < plan_cache_n; i++)
		if (strcmp(plan_cache[i].sql, sql) == 0)
			return plan_cache[i].plan;
	plan = SPI_prepare(sql, nargs, argtypes);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	SPI_keepplan(plan);
	if (plan_cache_n == PLAN_CACHE_SIZE)
	{
		SPI_freeplan(plan_cache[0].plan);
		pfree(plan_cache[0].sql);
		memmove(&plan_cache[0], &plan_cache[1], sizeof(NangoCachedPlan) * (PLAN_CACHE_SIZE - 1));
		plan_cache_n--;
	}
	plan_cache[plan_cache_n].sql = MemoryContextStrdup(TopMemoryContext, sql);
	plan_cache[plan_cache_n].plan = plan;
	plan_cache_n++;
	return plan;
}

/* exec_utility: runs one DDL statement through SPI. */
void
exec_utility(const char *sql)
{
	int			rc = SPI_execute(sql, false, 0);

	if (rc < 0)
		elog(ERROR, "SPI_execute failed (%s): %s", SPI_result_code_string(rc), sql);
}

/*
 * nango_map_open: opens the mapped table of a sync for one job (see
 * mapping.h).  The metadata's columns are created with the first page.
 */
NangoMapTable *
nango_map_open(int64 sync_id, const char *mapped_table, Jsonb *metadata)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "nango mapped table",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	NangoMapTable *mt = palloc0(sizeof(NangoMapTable));

	mt->cxt = cxt;
	mt->colcxt = AllocSetContextCreate(cxt, "nango mapped columns", ALLOCSET_DEFAULT_SIZES);
	mt->tmpcxt = AllocSetContextCreate(cxt, "nango flattened record", ALLOCSET_DEFAULT_SIZES);
	mt->sync_id = sync_id;
	nango_flatten_metadata(metadata, &mt->meta);
	MemoryContextSwitchTo(old);

	SPI_connect();
	open_relation(mt, mapped_table);
	SPI_finish();
	return mt;
}

/*
 * nango_map_set_metadata: see mapping.h.  The values live in a context of
 * their own, replaced each time.
 */
void
nango_map_set_metadata(NangoMapTable *mt, Jsonb *metadata)
{
	MemoryContext old;

	if (mt->metacxt == NULL)
		mt->metacxt = AllocSetContextCreate(mt->cxt, "nango mapped metadata", ALLOCSET_SMALL_SIZES);
	MemoryContextReset(mt->metacxt);
	old = MemoryContextSwitchTo(mt->metacxt);
	nango_flatten_metadata(metadata, &mt->meta);
	MemoryContextSwitchTo(old);
}

/*
 * nango_map_set_options: the sync's fields and arrays options for the
 * pages written from now on (see mapping.h).
 */
void
nango_map_set_options(NangoMapTable *mt, const NangoMapOptions *opts)
{
	mt->opts = opts;
}

/*
 * last_of_keys: in upsert mode, keeps only the last record of each key in
 * the page (one statement may not update a row twice; the last version
 * wins, as it would across pages).  Returns the number of records kept,
 * compacted to the front of recs and keys (and of nps, when not NULL).
 */
static int
last_of_keys(int n, Jsonb **records, char **keys, const NangoNumPaths *const *nps,
			 Jsonb **out_recs, char **out_keys, const NangoNumPaths **out_nps)
{
	IdentIndex *seen = ii_create(n);
	int			kept = 0;

	for (int i = 0; i < n; i++)
		if (keys[i])
			ii_set(seen, keys[i], i);
	for (int i = 0; i < n; i++)
		if (keys[i] == NULL || ii_lookup(seen, keys[i]) == i)
		{
			out_recs[kept] = records[i];
			if (nps)
				out_nps[kept] = nps[i];
			out_keys[kept++] = keys[i];
		}
	return kept;
}

/*
 * nango_map_write: writes one page of records (see mapping.h): flatten,
 * evolve the table, convert, one INSERT.
 */
void
nango_map_write(NangoMapTable *mt, int64 job_id, int n, Jsonb **records,
					char **keys, const NangoNumPaths *const *numpaths,
					NangoMapCounts *counts)
{
	Jsonb	  **recs;
	const NangoNumPaths *const *nps = numpaths;
	NangoFlatRecord **flats;
	PageArrays	pa;
	bool		stable;

	if (n <= 0)
		return;
	SPI_connect();
	recs = palloc(sizeof(Jsonb *) * n);
	memset(&pa, 0, sizeof(pa));
	if (keys)
	{
		const NangoNumPaths **kept = numpaths ? palloc(sizeof(NangoNumPaths *) * n) : NULL;

		pa.keys = palloc(sizeof(char *) * n);
		n = last_of_keys(n, records, keys, numpaths, recs, pa.keys, kept);
		nps = kept;
	}
	else
		memcpy(recs, records, sizeof(Jsonb *) * n);
	pa.nrows = n;

	flats = flatten_page(mt, recs, nps, n);
	stable = evolve_schema(mt, flats, n);
	fill_arrays(mt, job_id, flats, &pa, stable, counts);
	write_page(mt, job_id, &pa, keys != NULL, counts);
	for (int r = 0; mt->inserted != NULL && r < pa.nrows; r++)
		if (pa.keys[r] != NULL)
			nango_key_filter_add(mt->inserted, pa.keys[r]);
	SPI_finish();
}

/* nango_map_has_rows: see mapping.h. */
bool
nango_map_has_rows(NangoMapTable *mt)
{
	Oid			types[1] = {INT8OID};
	Datum		v[1] = {Int64GetDatum(mt->sync_id)};
	MemoryContext cxt = CurrentMemoryContext;
	bool		found;

	SPI_connect();
	if (SPI_execute_with_args(psprintf("SELECT 1 FROM %s WHERE \"_nango_sync_id\" "
									   "OPERATOR(pg_catalog.=) $1 LIMIT 1", mt->qualname),
							  1, types, v, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read %s", mt->qualname);
	found = SPI_processed > 0;
	SPI_finish();
	MemoryContextSwitchTo(cxt);
	return found;
}

/* nango_map_close: frees what the job's mapping held. */
void
nango_map_close(NangoMapTable *mt)
{
	MemoryContextDelete(mt->cxt);
}

/*
 * array_arg: the elements of a one-dimensional array argument of type
 * elemtype (nulls in *nulls); ERROR when one is NULL and allow_null is
 * false (what names the argument).
 */
static Datum *
array_arg(ArrayType *arr, Oid elemtype, bool allow_null, const char *what, bool **nulls, int *n)
{
	Datum	   *d;
	int16		typlen;
	bool		typbyval;
	char		typalign;

	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	deconstruct_array(arr, elemtype, typlen, typbyval, typalign, &d, nulls, n);
	for (int i = 0; !allow_null && i < *n; i++)
		if ((*nulls)[i])
			ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
							errmsg("%s may not contain NULL", what)));
	return d;
}

/* keys_of: the C strings of n text elements (NULL for a null one). */
static char **
keys_of(Datum *kd, bool *kn, int n)
{
	char	  **keys = palloc(sizeof(char *) * Max(n, 1));

	for (int i = 0; i < n; i++)
		keys[i] = kn[i] ? NULL : TextDatumGetCString(kd[i]);
	return keys;
}

PG_FUNCTION_INFO_V1(nango_map_records);

/*
 * nango_map_records: SQL function nango._map_records (internal, for
 * tests): one page written through the same calls a job makes.
 */
Datum
nango_map_records(PG_FUNCTION_ARGS)
{
	int64		sync_id = PG_GETARG_INT64(0);
	char	   *mapped = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	Jsonb	   *metadata = PG_ARGISNULL(2) ? NULL : PG_GETARG_JSONB_P(2);
	int64		job_id = PG_ARGISNULL(3) ? 0 : PG_GETARG_INT64(3);
	NangoMapCounts counts = {0, 0};
	NangoMapTable *mt;
	Datum	   *recs = NULL,
			   *kd = NULL;
	bool	   *rnulls,
			   *knulls;
	int			n = 0,
				nk = 0;
	Jsonb	  **records;
	char	  **keys = NULL;
	TupleDesc	td;
	Datum		out[2];
	bool		outnull[2] = {false, false};

	if (get_call_result_type(fcinfo, NULL, &td) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	if (!PG_ARGISNULL(4))
		recs = array_arg(PG_GETARG_ARRAYTYPE_P(4), JSONBOID, false, "records", &rnulls, &n);
	if (!PG_ARGISNULL(5))
	{
		kd = array_arg(PG_GETARG_ARRAYTYPE_P(5), TEXTOID, true, "keys", &knulls, &nk);
		if (nk != n)
			ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							errmsg("keys must have one element per record")));
		keys = keys_of(kd, knulls, n);
	}
	records = palloc(sizeof(Jsonb *) * Max(n, 1));
	for (int i = 0; i < n; i++)
		records[i] = DatumGetJsonbP(recs[i]);
	mt = nango_map_open(sync_id, mapped, metadata);
	if (!PG_ARGISNULL(6) && PG_GETARG_BOOL(6))
		nango_map_clear_sync(mt);
	nango_map_write(mt, job_id, n, records, keys, NULL, &counts);
	nango_map_close(mt);
	out[0] = Int64GetDatum(counts.mismatch);
	out[1] = Int64GetDatum(counts.skipped);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(td), out, outnull)));
}

PG_FUNCTION_INFO_V1(nango_map_drop);

/*
 * nango_map_drop: SQL function nango._map_drop (internal, for tests):
 * nango_map_drop_data as delete_sync(drop_data => true) calls it.
 */
Datum
nango_map_drop(PG_FUNCTION_ARGS)
{
	nango_map_drop_data(PG_GETARG_INT64(0),
						PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1)));
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(nango_map_delete);

/*
 * nango_map_delete: SQL function nango._map_delete (internal, for tests):
 * the delete modes' nango_map_delete_keys.
 */
Datum
nango_map_delete(PG_FUNCTION_ARGS)
{
	Datum	   *kd;
	bool	   *kn;
	int			n;
	char	  **keys;
	NangoMapTable *mt;

	kd = array_arg(PG_GETARG_ARRAYTYPE_P(2), TEXTOID, false, "keys", &kn, &n);
	keys = keys_of(kd, kn, n);
	mt = nango_map_open(PG_GETARG_INT64(0), PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1)), NULL);
	nango_map_delete_keys(mt, n, keys, PG_GETARG_BOOL(3));
	nango_map_close(mt);
	PG_RETURN_VOID();
}
