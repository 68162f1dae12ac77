/*-------------------------------------------------------------------------
 *
 * flattypes.c
 *	  Column types of flattened fields (docs/mapping.md): which kinds of
 *	  values give which column type, how a column widens, what fits in it,
 *	  the value converted for it, and the type's OID and SQL name.
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
#include "utils/datetime.h"

#include "flatten.h"
#include "isodate.h"

/*
 * nango_coltype_for_kinds: the type of a new column from the kinds of the
 * non-null values of the page that first holds one: one kind gives its
 * type, integers with decimals give numeric, dates with timestamps give
 * timestamptz, any other mix gives text; a whole array (arrays: jsonb)
 * gives jsonb, which holds any other value too.
 */
NangoColType
nango_coltype_for_kinds(int kinds)
{
	if (kinds & NANGO_VK_JSON)
		return NANGO_COL_JSONB;
	if (kinds == NANGO_VK_BOOL)
		return NANGO_COL_BOOL;
	if (kinds == NANGO_VK_INT)
		return NANGO_COL_INT8;
	if ((kinds & ~(NANGO_VK_INT | NANGO_VK_NUM)) == 0)
		return NANGO_COL_NUMERIC;
	if (kinds == NANGO_VK_DATE)
		return NANGO_COL_DATE;
	if ((kinds & ~(NANGO_VK_DATE | NANGO_VK_TS)) == 0)
		return NANGO_COL_TSTZ;
	return NANGO_COL_TEXT;
}

/*
 * nango_coltype_widen: the type an existing column must take to hold the
 * given kinds without loss: bigint -> numeric for decimals, date ->
 * timestamptz for timestamps.  Nothing else is ever widened; values that
 * still do not fit are mismatches.
 */
NangoColType
nango_coltype_widen(NangoColType col, int kinds)
{
	if (col == NANGO_COL_INT8 && (kinds & NANGO_VK_NUM))
		return NANGO_COL_NUMERIC;
	if (col == NANGO_COL_DATE && (kinds & NANGO_VK_TS))
		return NANGO_COL_TSTZ;
	return col;
}

/*
 * nango_kind_fits: true when a value of kind can be stored in a column of
 * type col: any scalar in text, anything in jsonb.
 */
bool
nango_kind_fits(NangoColType col, int kind)
{
	switch (col)
	{
		case NANGO_COL_JSONB:
			return true;
		case NANGO_COL_TEXT:
			return kind != NANGO_VK_JSON;
		case NANGO_COL_BOOL:
			return kind == NANGO_VK_BOOL;
		case NANGO_COL_INT8:
			return kind == NANGO_VK_INT;
		case NANGO_COL_NUMERIC:
			return kind == NANGO_VK_INT || kind == NANGO_VK_NUM;
		case NANGO_COL_DATE:
			return kind == NANGO_VK_DATE;
		case NANGO_COL_TSTZ:
			return kind == NANGO_VK_DATE || kind == NANGO_VK_TS;
		default:
			return false;
	}
}

/*
 * field_jsonb: f as a jsonb value: the array as received, or a scalar
 * (a string as a JSON string, a number as the number, a boolean).
 */
static Jsonb *
field_jsonb(const NangoField *f)
{
	JsonbValue	v;

	if (f->kind == NANGO_VK_JSON)
		return f->json;
	if (f->kind == NANGO_VK_BOOL)
	{
		v.type = jbvBool;
		v.val.boolean = strcmp(f->text, "true") == 0;
	}
	else if (f->kind == NANGO_VK_INT || f->kind == NANGO_VK_NUM)
	{
		v.type = jbvNumeric;
		v.val.numeric = f->num;
	}
	else
	{
		v.type = jbvString;
		v.val.string.val = f->text;
		v.val.string.len = strlen(f->text);
	}
	return JsonbValueToJsonb(&v);
}

/*
 * nango_field_datum: the value of f as a Datum of column type col (which
 * it fits).  A timestamp without a zone is UTC; a date in a timestamptz
 * column is midnight UTC.
 */
Datum
nango_field_datum(const NangoField *f, NangoColType col)
{
	char	   *s;
	TimestampTz ts;

	switch (col)
	{
		case NANGO_COL_JSONB:
			return JsonbPGetDatum(field_jsonb(f));
		case NANGO_COL_TEXT:
			return CStringGetTextDatum(f->text);
		case NANGO_COL_BOOL:
			return BoolGetDatum(strcmp(f->text, "true") == 0);
		case NANGO_COL_INT8:
			return Int64GetDatum(f->ival);
		case NANGO_COL_NUMERIC:
			return NumericGetDatum(f->num);
		case NANGO_COL_DATE:
			return DirectFunctionCall1(date_in, CStringGetDatum(f->text));
		case NANGO_COL_TSTZ:
			if ((f->kind == NANGO_VK_DATE || f->kind == NANGO_VK_TS) &&
				nango_iso_to_timestamptz(f->text, &ts))
				return TimestampTzGetDatum(ts);
			if (f->kind == NANGO_VK_DATE)
				s = psprintf("%s 00:00:00+00", f->text);
			else
				s = f->has_zone ? f->text : psprintf("%s+00", f->text);
			return DirectFunctionCall3(timestamptz_in, CStringGetDatum(s),
									   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
		default:
			elog(ERROR, "cannot convert a value to column type %d", (int) col);
	}
	return (Datum) 0;
}

/* nango_coltype_oid: the type oid of a column type. *//* nango_coltype_oid: the type oid of a column type. */
Oid
nango_coltype_oid(NangoColType col)
{
	switch (col)
	{
		case NANGO_COL_BOOL:
			return BOOLOID;
		case NANGO_COL_INT8:
			return INT8OID;
		case NANGO_COL_NUMERIC:
			return NUMERICOID;
		case NANGO_COL_DATE:
			return DATEOID;
		case NANGO_COL_TSTZ:
			return TIMESTAMPTZOID;
		case NANGO_COL_TEXT:
			return TEXTOID;
		case NANGO_COL_JSONB:
			return JSONBOID;
		default:
			return InvalidOid;
	}
}

/* nango_coltype_sql: the SQL name of a column type, as nango.flatten shows it. */
const char *
nango_coltype_sql(NangoColType col)
{
	switch (col)
	{
		case NANGO_COL_BOOL:
			return "boolean";
		case NANGO_COL_INT8:
			return "bigint";
		case NANGO_COL_NUMERIC:
			return "numeric";
		case NANGO_COL_DATE:
			return "date";
		case NANGO_COL_TSTZ:
			return "timestamptz";
		case NANGO_COL_TEXT:
			return "text";
		case NANGO_COL_JSONB:
			return "jsonb";
		default:
			return "unknown";
	}
}

/* nango_coltype_from_oid: the column type of an existing column's type oid. */
NangoColType
nango_coltype_from_oid(Oid typid)
{
	switch (typid)
	{
		case BOOLOID:
			return NANGO_COL_BOOL;
		case INT8OID:
			return NANGO_COL_INT8;
		case NUMERICOID:
			return NANGO_COL_NUMERIC;
		case DATEOID:
			return NANGO_COL_DATE;
		case TIMESTAMPTZOID:
			return NANGO_COL_TSTZ;
		case TEXTOID:
			return NANGO_COL_TEXT;
		case JSONBOID:
			return NANGO_COL_JSONB;
		default:
			return NANGO_COL_UNKNOWN;
	}
}
