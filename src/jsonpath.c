/*-------------------------------------------------------------------------
 *
 * jsonpath.c
 *	  Dot paths evaluated on binary jsonb without any text round trip.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

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
 * step: one path segment from container into *out.  Objects are searched by
 * key; arrays by index when the segment is a number.
 */
static bool
step(JsonbContainer *container, const char *seg, int len, JsonbValue *out)
{
	if (JsonContainerIsObject(container))
		return getKeyJsonValueFromContainer(container, seg, len, out) != NULL;
	if (JsonContainerIsArray(container) && !JsonContainerIsScalar(container))
	{
		int			idx = nango_path_segment_index(seg, len);
		JsonbValue *v;

		if (idx < 0 || idx >= (int) JsonContainerSize(container))
			return false;
		v = getIthJsonbValueFromContainer(container, idx);
		if (v == NULL)
			return false;
		*out = *v;
		pfree(v);
		return true;
	}
	return false;
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
