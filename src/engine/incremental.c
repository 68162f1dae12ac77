/*-------------------------------------------------------------------------
 *
 * incremental.c
 *	  Incremental sync: which value a job sends and which it stores.
 *
 *	  The state is the JSON value (string or number) of the highest
 *	  incremental_cursor_path seen by the last successful job, stored in
 *	  nango.syncs.incremental_state.  Records exactly at the boundary are
 *	  read again by the next job and absorbed by the upsert.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/datetime.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "incremental.h"
#include "jsonpath.h"

/* scalar_of: the scalar a Jsonb holds (a raw scalar), or false. */
static bool
scalar_of(Jsonb *jb, JsonbValue *out)
{
	return jb != NULL && JB_ROOT_IS_SCALAR(jb) && nango_jsonb_path_get(jb, NULL, out);
}

char *
nango_incr_start_value(Jsonb *stored, const char *initial_json, bool *is_number)
{
	JsonbValue	v;
	Jsonb	   *jb = stored;

	*is_number = false;
	if (jb == NULL && initial_json != NULL)
		jb = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(initial_json)));
	if (!scalar_of(jb, &v))
		return NULL;
	*is_number = (v.type == jbvNumeric);
	return nango_scalar_text(&v);
}

/*
 * iso_timestamp: if s is exactly an ISO-8601 date or date-time, its
 * timestamptz (a value without a zone is UTC); otherwise false.
 */
static bool
iso_timestamp(const char *s, int len, TimestampTz *out)
{
	char		buf[64];
	int			i = 0;
	bool		zone = false;

	if (len < 10 || len >= (int) sizeof(buf) - 4)
		return false;
	for (i = 0; i < 10; i++)
		if ((i == 4 || i == 7) ? s[i] != '-' : !isdigit((unsigned char) s[i]))
			return false;
	if (len > 10)
	{
		if ((s[10] != 'T' && s[10] != 't' && s[10] != ' ') || len < 16 ||
			!isdigit((unsigned char) s[11]) || !isdigit((unsigned char) s[12]) || s[13] != ':' ||
			!isdigit((unsigned char) s[14]) || !isdigit((unsigned char) s[15]))
			return false;
		for (i = 16; i < len; i++)
		{
			char		c = s[i];

			if (c == 'Z' || c == 'z' || c == '+' || (c == '-' && i > 16))
				zone = true;
			else if (!isdigit((unsigned char) c) && c != ':' && c != '.')
				return false;
		}
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (!zone)
		strcat(buf, len > 10 ? "Z" : " 00:00Z");
	{
		int			dterr;
		fsec_t		fsec;
		struct pg_tm tt;
		int			tz;
		int			dtype;
		int			nf;
		char	   *field[MAXDATEFIELDS];
		int			ftype[MAXDATEFIELDS];
		char		workbuf[MAXDATELEN + 1];

		dterr = ParseDateTime(buf, workbuf, sizeof(workbuf), field, ftype, MAXDATEFIELDS, &nf);
		if (dterr == 0)
			dterr = DecodeDateTime(field, ftype, nf, &dtype, &tt, &fsec, &tz);
		if (dterr != 0 || dtype != DTK_DATE || tm2timestamp(&tt, fsec, &tz, out) != 0)
			return false;
	}
	return true;
}

int
nango_incr_compare(JsonbValue *a, JsonbValue *b)
{
	if (a->type == jbvNumeric && b->type == jbvNumeric)
		return DatumGetInt32(DirectFunctionCall2(numeric_cmp, NumericGetDatum(a->val.numeric),
												 NumericGetDatum(b->val.numeric)));
	if (a->type == jbvString && b->type == jbvString)
	{
		TimestampTz ta;
		TimestampTz tb;
		int			la = a->val.string.len;
		int			lb = b->val.string.len;
		int			c;

		if (iso_timestamp(a->val.string.val, la, &ta) && iso_timestamp(b->val.string.val, lb, &tb))
			return ta < tb ? -1 : (ta > tb);
		c = memcmp(a->val.string.val, b->val.string.val, Min(la, lb));
		if (c != 0)
			return c;
		return la < lb ? -1 : (la > lb);
	}
	return a->type == jbvNumeric ? -1 : 1;
}

void
nango_incr_see(NangoIncremental *inc, Jsonb *record)
{
	JsonbValue	v;
	JsonbValue	cur;

	if (!nango_jsonb_steps_get(record, inc->cursor_path, &v) ||
		(v.type != jbvString && v.type != jbvNumeric))
		return;
	if (inc->highest != NULL && scalar_of(inc->highest, &cur) &&
		nango_incr_compare(&v, &cur) <= 0)
		return;
	{
		MemoryContext old = MemoryContextSwitchTo(inc->cxt);

		if (inc->highest != NULL)
			pfree(inc->highest);
		inc->highest = JsonbValueToJsonb(&v);
		MemoryContextSwitchTo(old);
	}
}

Jsonb *
nango_incr_final(NangoIncremental *inc)
{
	JsonbValue	a;
	JsonbValue	b;

	if (inc->highest == NULL)
		return NULL;
	if (scalar_of(inc->stored, &a) && scalar_of(inc->highest, &b) &&
		(a.type == jbvNumeric || a.type == jbvString) &&
		nango_incr_compare(&b, &a) <= 0)
		return NULL;
	return inc->highest;
}
