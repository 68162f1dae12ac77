/*-------------------------------------------------------------------------
 *
 * flatsql.c
 *	  The SQL face of the flattener: nango.flatten(record [, options]), one
 *	  row per field with its column name, type and value, and the columns
 *	  a set of records would give (nango_flatten_columns, for the preview).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/json.h"

#include "flatten.h"

/* Names already given by nango.flatten to earlier fields of the record. */
typedef struct FlatNames
{
	char	  **names;
	int			n;
} FlatNames;

/* flat_name_taken: NangoNameTaken over a FlatNames list. */
static bool
flat_name_taken(const char *name, void *arg)
{
	FlatNames  *fn = (FlatNames *) arg;

	for (int i = 0; i < fn->n; i++)
		if (strcmp(fn->names[i], name) == 0)
			return true;
	return false;
}

/* flat_value: the value as the mapped table would show it, as text. */
static char *
flat_value(NangoField *f, NangoColType col)
{
	if (f->kind == NANGO_VK_JSON)
		return JsonbToCString(NULL, &f->json->root, VARSIZE(f->json));
	if (col == NANGO_COL_TSTZ && !f->has_zone)
		return psprintf("%s+00", f->text);
	return f->text;
}

PG_FUNCTION_INFO_V1(nango_flatten);

/*
 * nango_flatten: SQL function nango.flatten(record jsonb): the mapping of
 * one record with the default options (see nango_flatten_srf).
 */
Datum
nango_flatten(PG_FUNCTION_ARGS)
{
	return nango_flatten_srf(fcinfo, NULL);
}

/*
 * nango_flatten_srf: the rows of nango.flatten: the columns, types and values a sync would produce for this
 * record in an empty table (names resolved in the record's jsonb key
 * order, at most NANGO_MAX_DATA_COLUMNS of them), under the mapping
 * options "fields" and "arrays" when given (opts, or NULL).
 */
Datum
nango_flatten_srf(FunctionCallInfo fcinfo, const NangoMapOptions *opts)
{
	Jsonb	   *jb;
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	NangoFlatRecord rec;
	FlatNames	fn;
	NangoField **ptrs;
	char	  **names;
	int		   *order;
	int			nfields;

	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0))
		return (Datum) 0;
	jb = PG_GETARG_JSONB_P(0);
	nango_flatten_jsonb_opts(jb, opts, &rec);
	nfields = Min(rec.nfields, NANGO_MAX_DATA_COLUMNS);
	ptrs = palloc(sizeof(NangoField *) * Max(nfields, 1));
	names = palloc0(sizeof(char *) * Max(nfields, 1));
	for (int i = 0; i < nfields; i++)
		ptrs[i] = &rec.fields[i];
	order = nango_naming_order(ptrs, nfields);
	fn.names = palloc(sizeof(char *) * Max(nfields, 1));
	fn.n = 0;
	for (int i = 0; i < nfields; i++)
	{
		NangoField *f = ptrs[order[i]];

		names[order[i]] = nango_pick_name(f->natural, f->ident, flat_name_taken, &fn);
		fn.names[fn.n++] = names[order[i]];
	}
	for (int i = 0; i < nfields; i++)
	{
		NangoField *f = ptrs[i];
		NangoColType col = nango_coltype_for_kinds(f->kind);
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		values[0] = CStringGetTextDatum(names[i]);
		values[1] = CStringGetTextDatum(nango_coltype_sql(col));
		values[2] = CStringGetTextDatum(flat_value(f, col));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * nango_flatten_columns: the columns auto-mapping would create in an empty
 * table from records, as a JSON object text {"column": "type", ...} in
 * naming order: the fields of all records together, each field's type
 * from the kinds of all its values (as one page's records give a new
 * column its type), names resolved as nango.flatten resolves them, at most
 * NANGO_MAX_DATA_COLUMNS; opts are the sync's fields and arrays options
 * (NULL: none).  Used by nango.preview.
 */
char *
nango_flatten_columns(Jsonb **records, int n, const NangoMapOptions *opts)
{
	NangoField **fields = NULL;
	int		   *kinds = NULL;
	int			nfields = 0;
	int			cap = 0;
	int		   *order;
	FlatNames	fn;
	char	  **names;
	StringInfoData buf;

	for (int r = 0; r < n; r++)
	{
		NangoFlatRecord rec;

		nango_flatten_jsonb_opts(records[r], opts, &rec);
		for (int i = 0; i < rec.nfields; i++)
		{
			int			j;

			for (j = 0; j < nfields; j++)
				if (strcmp(fields[j]->ident, rec.fields[i].ident) == 0)
					break;
			if (j < nfields)
			{
				kinds[j] |= rec.fields[i].kind;
				continue;
			}
			if (nfields == NANGO_MAX_DATA_COLUMNS)
				continue;
			if (nfields == cap)
			{
				cap = Max(16, cap * 2);
				fields = fields ? repalloc(fields, sizeof(NangoField *) * cap) : palloc(sizeof(NangoField *) * cap);
				kinds = kinds ? repalloc(kinds, sizeof(int) * cap) : palloc(sizeof(int) * cap);
			}
			fields[nfields] = &rec.fields[i];
			kinds[nfields++] = rec.fields[i].kind;
		}
	}

	order = nango_naming_order(fields, nfields);
	names = palloc0(sizeof(char *) * Max(nfields, 1));
	fn.names = palloc(sizeof(char *) * Max(nfields, 1));
	fn.n = 0;
	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	for (int i = 0; i < nfields; i++)
	{
		NangoField *f = fields[order[i]];

		names[order[i]] = nango_pick_name(f->natural, f->ident, flat_name_taken, &fn);
		fn.names[fn.n++] = names[order[i]];
		if (i > 0)
			appendStringInfoString(&buf, ", ");
		escape_json(&buf, names[order[i]]);
		appendStringInfoString(&buf, ": ");
		escape_json(&buf, nango_coltype_sql(nango_coltype_for_kinds(kinds[order[i]])));
	}
	appendStringInfoChar(&buf, '}');
	return buf.data;
}
