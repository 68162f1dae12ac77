/*-------------------------------------------------------------------------
 *
 * mapcolumns.c
 *	  From a page of records to column values: flattening each record
 *	  (flatten.c) with the sync's metadata, finding each field's column
 *	  (by the path bound to it), what the page needs from the table (new
 *	  columns, wider types), and converting every value to its column's
 *	  type (a value that does not fit is NULL there and counted).  Also the
 *	  string index the mapping files share.
 *
 *	  This file computes; it must not run SQL or change the table.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "flatten.h"
#include "job.h"
#include "mapping.h"
#include "mapping_int.h"
#include "nango.h"

/* str_hash: hash of a string, for IdentIndex (word-at-a-time hash_bytes). */
static inline uint32
str_hash(const char *s)
{
	return hash_bytes((const unsigned char *) s, (int) strlen(s));
}

/* ii_create: an empty index sized for about n keys. */
IdentIndex *
ii_create(int n)
{
	IdentIndex *ii = palloc(sizeof(IdentIndex));

	ii->size = 64;
	while (ii->size < n * 2)
		ii->size *= 2;
	ii->count = 0;
	ii->slots = palloc0(sizeof(IdentSlot) * ii->size);
	return ii;
}

/* ii_slot: the slot holding key, or the empty slot where it would go. */
static IdentSlot *
ii_slot(IdentIndex *ii, const char *key)
{
	uint32		i = str_hash(key) & (ii->size - 1);

	while (ii->slots[i].key && strcmp(ii->slots[i].key, key) != 0)
		i = (i + 1) & (ii->size - 1);
	return &ii->slots[i];
}

/* ii_lookup: the value stored for key, or -1. */
int
ii_lookup(IdentIndex *ii, const char *key)
{
	IdentSlot  *s = ii_slot(ii, key);

	return s->key ? s->val : -1;
}

/* ii_set: stores val for key (the key string must outlive the index). */
void
ii_set(IdentIndex *ii, const char *key, int val)
{
	IdentSlot  *s;

	if ((ii->count + 1) * 2 > ii->size)
	{
		IdentSlot  *old = ii->slots;
		int			oldsize = ii->size;

		ii->size *= 2;
		ii->count = 0;
		ii->slots = palloc0(sizeof(IdentSlot) * ii->size);
		for (int i = 0; i < oldsize; i++)
			if (old[i].key)
				ii_set(ii, old[i].key, old[i].val);
		pfree(old);
	}
	s = ii_slot(ii, key);
	if (!s->key)
		ii->count++;
	s->key = key;
	s->val = val;
}

/*
 * flatten_one: the fields of one record, metadata first (so that metadata
 * keeps its own names), in mt->tmpcxt (see flatten_page).  np: the fields
 * written with an exponent, or NULL.
 */
static NangoFlatRecord *
flatten_one(NangoMapTable *mt, Jsonb *rec, const NangoNumPaths *np)
{
	MemoryContext old;
	NangoFlatRecord data;
	NangoFlatRecord *flat;

	old = MemoryContextSwitchTo(mt->tmpcxt);
	nango_flatten_jsonb_opts(rec, mt->opts, &data);
	if (np != NULL)
		nango_flatten_force_num(&data, np);
	flat = palloc0(sizeof(NangoFlatRecord));
	flat->nfields = mt->meta.nfields + data.nfields;
	flat->fields = palloc(sizeof(NangoField) * Max(flat->nfields, 1));
	if (mt->meta.nfields > 0)
		memcpy(flat->fields, mt->meta.fields, sizeof(NangoField) * mt->meta.nfields);
	if (data.nfields > 0)
		memcpy(flat->fields + mt->meta.nfields, data.fields, sizeof(NangoField) * data.nfields);
	MemoryContextSwitchTo(old);
	if (data.truncated && !mt->trunc_logged)
	{
		nango_log(NANGO_LOG_WARNING, LOG,
				  "nango: sync " INT64_FORMAT ": a record has more than %d values; "
				  "values past those are not mapped (they stay in nango.raw)",
				  mt->sync_id, NANGO_MAX_RECORD_FIELDS);
		nango_job_warn("a record has more than %d values; values past those are not mapped (they stay in nango.raw)",
					   NANGO_MAX_RECORD_FIELDS);
		mt->trunc_logged = true;
	}
	return flat;
}

/*
 * flatten_page: the flattened fields of every record of the page, walked
 * once and used both to evolve the table and to fill the columns.  They
 * live in mt->tmpcxt, reset at the start of each page, so memory follows
 * the page's size, not the number of pages.
 */
NangoFlatRecord **
flatten_page(NangoMapTable *mt, Jsonb **recs, const NangoNumPaths *const *nps, int n)
{
	NangoFlatRecord **flats;

	MemoryContextReset(mt->tmpcxt);
	flats = MemoryContextAlloc(mt->tmpcxt, sizeof(NangoFlatRecord *) * Max(n, 1));
	for (int r = 0; r < n; r++)
		flats[r] = flatten_one(mt, recs[r], nps ? nps[r] : NULL);
	return flats;
}

/*
 * ColumnGuess: the column of each field position of the previous record.
 * The records of a page usually have the same fields in the same order, so
 * a field whose ident equals the previous record's at its position has the
 * same column, found without hashing.
 */
typedef struct ColumnGuess
{
	int			n;
	const char **ident;
	int		   *col;
} ColumnGuess;

/* guess_init: room for the field positions of the page's widest record. */
static void
guess_init(ColumnGuess *g, NangoFlatRecord **flats, int n)
{
	g->n = 0;
	for (int r = 0; r < n; r++)
		g->n = Max(g->n, flats[r]->nfields);
	g->ident = palloc0(sizeof(char *) * Max(g->n, 1));
	g->col = palloc(sizeof(int) * Max(g->n, 1));
}

/* column_of: the column bound to the i-th field's ident, or -1. */
static int
column_of(NangoMapTable *mt, ColumnGuess *g, int i, const char *ident)
{
	int			ci;

	if (g->ident[i] != NULL && strcmp(g->ident[i], ident) == 0)
		return g->col[i];
	ci = ii_lookup(mt->index, ident);
	g->ident[i] = ident;
	g->col[i] = ci;
	return ci;
}

/*
 * collect_changes: what the page needs from the table: kinds[] gets the
 * kinds seen per existing column, *pend the new paths in order of first
 * appearance (data paths only while the table is under the column cap),
 * and each field's col its column (-1 for none yet).  Returns true when a
 * column must be added or widened.
 */
bool
collect_changes(NangoMapTable *mt, NangoFlatRecord **flats, int n,
				int **kinds_out, PendingCol **pend_out, int *npend_out, bool *capped)
{
	int		   *kinds = palloc0(sizeof(int) * Max(mt->ncols, 1));
	IdentIndex *pidx = ii_create(64);
	PendingCol *pend = NULL;
	int			npend = 0,
				maxpend = 0,
				ndata = mt->ndata;
	bool		changes = false;
	ColumnGuess guess;

	*capped = false;
	guess_init(&guess, flats, n);
	for (int r = 0; r < n; r++)
	{
		NangoFlatRecord *flat = flats[r];

		for (int i = 0; i < flat->nfields; i++)
		{
			NangoField *f = &flat->fields[i];
			int			ci = column_of(mt, &guess, i, f->ident);
			bool		is_data = f->ident[6] == 'p';

			f->col = ci;
			if (ci >= 0)
			{
				kinds[ci] |= f->kind;
				continue;
			}
			if ((ci = ii_lookup(pidx, f->ident)) < 0)
			{
				if (is_data && ndata >= NANGO_MAX_DATA_COLUMNS)
				{
					*capped = true;
					continue;
				}
				if (npend == maxpend)
				{
					maxpend = maxpend ? maxpend * 2 : 16;
					pend = pend ? repalloc(pend, sizeof(PendingCol) * maxpend)
						: palloc(sizeof(PendingCol) * maxpend);
				}
				ci = npend++;
				pend[ci].ident = pstrdup(f->ident);
				pend[ci].natural = pstrdup(f->natural);
				pend[ci].kinds = 0;
				pend[ci].is_data = is_data;
				pend[ci].depth = f->depth;
				ndata += is_data ? 1 : 0;
				ii_set(pidx, pend[ci].ident, ci);
			}
			pend[ci].kinds |= f->kind;
		}
	}
	changes = npend > 0;
	for (int ci = 0; ci < mt->ncols; ci++)
		if (mt->cols[ci].ident && nango_coltype_widen(mt->cols[ci].type, kinds[ci]) != mt->cols[ci].type)
			changes = true;
	*kinds_out = kinds;
	*pend_out = pend;
	*npend_out = npend;
	return changes;
}

/*
 * fill_arrays: converts every field of the page to its column's type; a
 * value that does not fit is NULL there and counted as a mismatch (logged
 * once per column and page).  When the columns are stable (see
 * evolve_schema), each field's col is its column already.
 */
void
fill_arrays(NangoMapTable *mt, int64 job_id, NangoFlatRecord **flats, PageArrays *pa,
			bool stable, NangoMapCounts *counts)
{
	int		   *slot = palloc(sizeof(int) * Max(mt->ncols, 1));
	int64	   *mism = palloc0(sizeof(int64) * Max(mt->ncols, 1));
	ColumnGuess guess;

	pa->nbound = 0;
	pa->colidx = palloc(sizeof(int) * Max(mt->ncols, 1));
	for (int ci = 0; ci < mt->ncols; ci++)
	{
		slot[ci] = -1;
		if (mt->cols[ci].ident)
		{
			slot[ci] = pa->nbound;
			pa->colidx[pa->nbound++] = ci;
		}
	}
	pa->values = palloc(sizeof(Datum *) * Max(pa->nbound, 1));
	pa->isnull = palloc(sizeof(bool *) * Max(pa->nbound, 1));
	for (int b = 0; b < pa->nbound; b++)
	{
		pa->values[b] = palloc0(sizeof(Datum) * pa->nrows);
		pa->isnull[b] = palloc(sizeof(bool) * pa->nrows);
		memset(pa->isnull[b], true, sizeof(bool) * pa->nrows);
	}
	guess_init(&guess, flats, pa->nrows);
	for (int r = 0; r < pa->nrows; r++)
	{
		NangoFlatRecord *flat = flats[r];

		for (int i = 0; i < flat->nfields; i++)
		{
			NangoField *f = &flat->fields[i];
			int			ci = stable ? f->col : column_of(mt, &guess, i, f->ident);

			if (ci < 0)
				continue;		/* past the column cap */
			if (!nango_kind_fits(mt->cols[ci].type, f->kind))
			{
				mism[ci]++;
				counts->mismatch++;
				continue;
			}
			pa->values[slot[ci]][r] = nango_field_datum(f, mt->cols[ci].type);
			pa->isnull[slot[ci]][r] = false;
		}
	}
	for (int ci = 0; ci < mt->ncols; ci++)
		if (mism[ci] > 0)
		{
			nango_log(NANGO_LOG_WARNING, LOG,
					  "nango: sync " INT64_FORMAT " job " INT64_FORMAT ": " INT64_FORMAT
					  " value(s) did not fit column %s (%s) of %s and were stored as NULL there (kept in nango.raw)",
					  mt->sync_id, job_id, mism[ci], quote_identifier(mt->cols[ci].name),
					  nango_coltype_sql(mt->cols[ci].type), mt->qualname);
			/* one line per column: the total is mismatch_count */
			nango_job_warn("values that did not fit column %s (%s) of %s were stored as NULL there (kept in nango.raw)",
						   quote_identifier(mt->cols[ci].name),
						   nango_coltype_sql(mt->cols[ci].type), mt->qualname);
		}
}
