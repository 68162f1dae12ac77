/*-------------------------------------------------------------------------
 *
 * jsonpath.c
 *	  Dot paths evaluated on binary jsonb without any text round trip.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/numeric.h"

#include "jsonpath.h"

/*
 * nango_path_segment_index: the array index a path segment denotes, or -1
 * when the segment is not a plain non-negative integer.
 */
int
nango_path_segment_index(const char *seg, int len)
{
	int			i;
	long		v = 0;

	if (len == 0 || len > 9)
		return -1;
	for (i = 0; i < len; i++)
	{
		if (seg[i] < '0' || seg[i] > '9')
			return -1;
		v = v * 10 + (seg[i] - '0');
	}
	return (int) v;
}

/*
 * step_to: one compiled step from container into *out.  Objects are
 * searched by key, arrays by index; a step that has no key (an integer
 * of the array form) never matches in an object, one without an index
 * never in an array.
 */
static bool
step_to(JsonbContainer *container, const NangoPathStep *st, JsonbValue *out)
{
	if (JsonContainerIsObject(container))
		return st->key != NULL &&
			getKeyJsonValueFromContainer(container, st->key, st->keylen, out) != NULL;
	if (JsonContainerIsArray(container) && !JsonContainerIsScalar(container))
	{
		JsonbValue *v;

		if (st->index < 0 || st->index >= (int) JsonContainerSize(container))
			return false;
		v = getIthJsonbValueFromContainer(container, st->index);
		if (v == NULL)
			return false;
		*out = *v;
		pfree(v);
		return true;
	}
	return false;
}

/*
 * step: one dot-path segment from container into *out (a segment that is
 * a plain number is also an array index).
 */
static bool
step(JsonbContainer *container, const char *seg, int len, JsonbValue *out)
{
	NangoPathStep st = {seg, len, nango_path_segment_index(seg, len)};

	return step_to(container, &st, out);
}

/*
 * nango_path_from_dots: compiles a dot path into steps, once, so that
 * per-record lookups do not split strings.
 */
NangoPath *
nango_path_from_dots(const char *dots)
{
	NangoPath  *path = palloc0(sizeof(NangoPath));
	const char *p = dots;
	int			cap = 4;

	path->text = pstrdup(dots);
	if (*dots == '\0')
		return path;
	path->steps = palloc(sizeof(NangoPathStep) * cap);
	for (;;)
	{
		const char *dot = strchr(p, '.');
		int			len = dot ? dot - p : strlen(p);
		NangoPathStep *st;

		if (path->nsteps == cap)
		{
			cap *= 2;
			path->steps = repalloc(path->steps, sizeof(NangoPathStep) * cap);
		}
		st = &path->steps[path->nsteps++];
		st->key = pnstrdup(p, len);
		st->keylen = len;
		st->index = nango_path_segment_index(p, len);
		if (dot == NULL)
			return path;
		p = dot + 1;
	}
}

/*
 * nango_path_dotted: the steps joined with '.', the name a request-side
 * path gives to a query parameter.
 */
char *
nango_path_dotted(const NangoPath *path)
{
	StringInfoData s;

	initStringInfo(&s);
	for (int i = 0; i < path->nsteps; i++)
	{
		const NangoPathStep *st = &path->steps[i];

		if (i > 0)
			appendStringInfoChar(&s, '.');
		if (st->key)
			appendBinaryStringInfo(&s, st->key, st->keylen);
		else
			appendStringInfo(&s, "%d", st->index);
	}
	return s.data;
}

/*
 * nango_steps_get: the value at a compiled path inside container (see
 * jsonpath.h).
 */
bool
nango_steps_get(JsonbContainer *container, const NangoPath *path, JsonbValue *out)
{
	out->type = jbvBinary;
	out->val.binary.data = container;
	out->val.binary.len = 0;
	if (path == NULL)
		return true;
	for (int i = 0; i < path->nsteps; i++)
	{
		if (out->type != jbvBinary)
			return false;
		if (!step_to(out->val.binary.data, &path->steps[i], out))
			return false;
	}
	return true;
}

/*
 * nango_jsonb_steps_get: nango_steps_get from the root of a Jsonb datum
 * (a raw scalar root gives the scalar for an empty path).
 */
bool
nango_jsonb_steps_get(Jsonb *jb, const NangoPath *path, JsonbValue *out)
{
	bool		empty = path == NULL || path->nsteps == 0;

	if (JB_ROOT_IS_SCALAR(jb))
	{
		JsonbValue *v;

		if (!empty)
			return false;
		/* element 0 of the raw scalar pseudo-array */
		v = getIthJsonbValueFromContainer(&jb->root, 0);
		*out = *v;
		return true;
	}
	if (!nango_steps_get(&jb->root, path, out))
		return false;
	if (out->type == jbvBinary && out->val.binary.len == 0)
		out->val.binary.len = VARSIZE(jb) - VARHDRSZ;
	return true;
}

bool
nango_path_get(JsonbContainer *container, const char *path, JsonbValue *out)
{
	const char *p = path;

	out->type = jbvBinary;
	out->val.binary.data = container;
	out->val.binary.len = 0;
	if (path == NULL || *path == '\0')
		return true;
	for (;;)
	{
		const char *dot = strchr(p, '.');
		int			len = dot ? dot - p : strlen(p);

		if (out->type != jbvBinary)
			return false;
		if (!step(out->val.binary.data, p, len, out))
			return false;
		if (dot == NULL)
			return true;
		p = dot + 1;
	}
}

bool
nango_jsonb_path_get(Jsonb *jb, const char *path, JsonbValue *out)
{
	if (JB_ROOT_IS_SCALAR(jb))
	{
		if (path != NULL && *path != '\0')
			return false;
		/* element 0 of the raw scalar pseudo-array */
		{
			JsonbValue *v = getIthJsonbValueFromContainer(&jb->root, 0);

			*out = *v;
			return true;
		}
	}
	if (!nango_path_get(&jb->root, path, out))
		return false;
	if (out->type == jbvBinary && out->val.binary.len == 0)
		out->val.binary.len = VARSIZE(jb) - VARHDRSZ;
	return true;
}

char *
nango_scalar_text(const JsonbValue *v)
{
	switch (v->type)
	{
		case jbvString:
			return pnstrdup(v->val.string.val, v->val.string.len);
		case jbvNumeric:
			return DatumGetCString(DirectFunctionCall1(numeric_out,
													   NumericGetDatum(v->val.numeric)));
		case jbvBool:
			return pstrdup(v->val.boolean ? "true" : "false");
		default:
			return NULL;
	}
}

Jsonb *
nango_value_to_jsonb(JsonbValue *v)
{
	return JsonbValueToJsonb(v);
}
