/*-------------------------------------------------------------------------
 *
 * jsonparse.c
 *	  A fast path for turning a response body into jsonb: one pass that
 *	  builds the JsonbValue tree directly (strings without escapes point
 *	  into the body, small objects' keys sorted by insertion) and converts
 *	  it with JsonbValueToJsonb.
 *
 *	  PostgreSQL's jsonb_in spent most of a page's parse time appending
 *	  strings one byte at a time and sorting every object's keys with
 *	  qsort.  The result here is the same jsonb value jsonb_in gives
 *	  (keys in jsonb order, the last of duplicate keys kept, numbers read
 *	  by numeric_in).  Whatever this parser does not accept (invalid JSON,
 *	  a scalar at the top, limits, deep nesting, a database that is not
 *	  UTF-8) makes it give up, and the caller runs jsonb_in, so errors and
 *	  edge cases are exactly PostgreSQL's.
 *
 *	  It also notes the numbers written with an exponent whose value is
 *	  integral (1e3, which jsonb keeps as 1000): docs/mapping.md maps them
 *	  as numeric, so the job needs to know where they are.  Only a page
 *	  that has some pays for finding their paths.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/memutils.h"
#include "utils/jsonb.h"

#include "jsonparse.h"

/* jsonb's limits on a container's size (as in jsonb_util.c) */
#define FP_MAX_ELEMS (Min(MaxAllocSize / sizeof(JsonbValue), JB_CMASK))
#define FP_MAX_PAIRS (Min(MaxAllocSize / sizeof(JsonbPair), JB_CMASK))

/* Nesting depth at which the fast path gives up (jsonb_in takes over). */
#define FP_MAX_DEPTH 1000

typedef struct FastParser
{
	const char *p;
	const char *end;
	int			depth;
	Numeric    *marks;			/* integral numbers written with an exponent */
	int			nmarks;
	int			capmarks;
} FastParser;

static bool fp_value(FastParser *fp, JsonbValue *out);

/* skip_ws: past JSON whitespace. */
static inline void
skip_ws(FastParser *fp)
{
	while (fp->p < fp->end &&
		   (*fp->p == ' ' || *fp->p == '\n' || *fp->p == '\r' || *fp->p == '\t'))
		fp->p++;
}

/* token_char: a character the PostgreSQL lexer would glue to a token. */
static inline bool
token_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		c == '_' || c == '$' || IS_HIGHBIT_SET(c);
}

/* hex4: the value of four hex digits at s, or -1. */
static int
hex4(const char *s)
{
	int			v = 0;

	for (int i = 0; i < 4; i++)
	{
		char		c = s[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

/*
 * unescape: decodes the escapes of the string body [s, e) into a palloc'd
 * buffer; false on anything jsonb_in would reject (or that needs its
 * handling, such as \u0000).
 */
static bool
unescape(const char *s, const char *e, char **out, int *outlen)
{
	char	   *buf = palloc(e - s + 1);
	char	   *o = buf;

	while (s < e)
	{
		if (*s != '\\')
		{
			*o++ = *s++;
			continue;
		}
		if (s + 1 >= e)
			return false;
		switch (s[1])
		{
			case '"': case '\\': case '/':
				*o++ = s[1];
				break;
			case 'b': *o++ = '\b'; break;
			case 'f': *o++ = '\f'; break;
			case 'n': *o++ = '\n'; break;
			case 'r': *o++ = '\r'; break;
			case 't': *o++ = '\t'; break;
			case 'u':
				{
					int			cp;

					if (s + 6 > e || (cp = hex4(s + 2)) <= 0)
						return false;
					if (cp >= 0xDC00 && cp <= 0xDFFF)
						return false;
					if (cp >= 0xD800 && cp <= 0xDBFF)
					{
						int			lo;

						if (s + 12 > e || s[6] != '\\' || s[7] != 'u' ||
							(lo = hex4(s + 8)) < 0xDC00 || lo > 0xDFFF)
							return false;
						cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
						s += 6;
					}
					unicode_to_utf8((pg_wchar) cp, (unsigned char *) o);
					o += pg_utf_mblen((unsigned char *) o);
					s += 6;
					continue;
				}
			default:
				return false;
		}
		s += 2;
	}
	*out = buf;
	*outlen = (int) (o - buf);
	return true;
}

/* fp_string: a string token into out (jbvString). */
static bool
fp_string(FastParser *fp, JsonbValue *out)
{
	const char *s = ++fp->p;
	bool		escaped = false;

	while (fp->p < fp->end && *fp->p != '"')
	{
		unsigned char c = (unsigned char) *fp->p;

		if (c < 0x20)
			return false;
		if (c == '\\')
		{
			escaped = true;
			fp->p++;
			if (fp->p >= fp->end)
				return false;
		}
		fp->p++;
	}
	if (fp->p >= fp->end || fp->p - s > JENTRY_OFFLENMASK)
		return false;
	out->type = jbvString;
	if (!escaped)
	{
		out->val.string.val = (char *) s;
		out->val.string.len = (int) (fp->p - s);
	}
	else if (!unescape(s, fp->p, &out->val.string.val, &out->val.string.len))
		return false;
	fp->p++;
	return true;
}

/*
 * note_exponent: remembers num, written with an exponent, when its value
 * is integral (display scale 0, as jsonb keeps 1e3): the mapping must see
 * it as a decimal.  Other exponent forms (1e-2) are decimals anyway.
 */
static void
note_exponent(FastParser *fp, Numeric num)
{
	if (DatumGetInt32(DirectFunctionCall1(numeric_scale, NumericGetDatum(num))) != 0)
		return;
	if (fp->nmarks == fp->capmarks)
	{
		fp->capmarks = fp->capmarks ? fp->capmarks * 2 : 16;
		fp->marks = fp->marks ? repalloc(fp->marks, sizeof(Numeric) * fp->capmarks)
			: palloc(sizeof(Numeric) * fp->capmarks);
	}
	fp->marks[fp->nmarks++] = num;
}

/* Longest number text the fast parser reads itself. */
#define MAX_FAST_NUMBER_LEN 1000

/* fp_number: a number token (JSON's grammar) read by numeric_in. */
static bool
fp_number(FastParser *fp, JsonbValue *out)
{
	const char *s = fp->p;
	const char *p = s;
	const char *e = fp->end;
	bool		exponent = false;
	const char *exp_digits = NULL;

	if (p < e && *p == '-')
		p++;
	if (p < e && *p == '0')
		p++;
	else if (p < e && *p >= '1' && *p <= '9')
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	else
		return false;
	if (p < e && *p == '.')
	{
		if (++p >= e || *p < '0' || *p > '9')
			return false;
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < e && (*p == 'e' || *p == 'E'))
	{
		exponent = true;
		p++;
		if (p < e && (*p == '+' || *p == '-'))
			p++;
		if (p >= e || *p < '0' || *p > '9')
			return false;
		exp_digits = p;
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < e && token_char(*p))
		return false;
	/*
	 * A number numeric_in might refuse (a long exponent or a very long
	 * number: "value overflows numeric format") is left to jsonb_in, so
	 * the page fails with jsonb_in's own error.
	 */
	if (p - s > MAX_FAST_NUMBER_LEN || (exponent && p - exp_digits > 3))
		return false;
	fp->p = p;
	out->type = jbvNumeric;
	out->val.numeric = DatumGetNumeric(DirectFunctionCall3(numeric_in,
														   CStringGetDatum(pnstrdup(s, p - s)),
														   ObjectIdGetDatum(InvalidOid),
														   Int32GetDatum(-1)));
	if (unlikely(exponent))
		note_exponent(fp, out->val.numeric);
	return true;
}

/* fp_literal: true, false or null. */
static bool
fp_literal(FastParser *fp, const char *word, JsonbValue *out)
{
	size_t		n = strlen(word);

	if ((size_t) (fp->end - fp->p) < n || memcmp(fp->p, word, n) != 0 ||
		(fp->p + n < fp->end && token_char(fp->p[n])))
		return false;
	fp->p += n;
	if (word[0] == 'n')
		out->type = jbvNull;
	else
	{
		out->type = jbvBool;
		out->val.boolean = (word[0] == 't');
	}
	return true;
}

/* pair_cmp: jsonb's key order (length, then bytes), later duplicates first. */
static int
pair_cmp(const JsonbPair *a, const JsonbPair *b)
{
	int			la = a->key.val.string.len;
	int			lb = b->key.val.string.len;
	int			c;

	if (la != lb)
		return la < lb ? -1 : 1;
	c = memcmp(a->key.val.string.val, b->key.val.string.val, la);
	if (c != 0)
		return c;
	return a->order > b->order ? -1 : 1;
}

static int
pair_qsort_cmp(const void *a, const void *b)
{
	return pair_cmp((const JsonbPair *) a, (const JsonbPair *) b);
}

/*
 * sort_pairs: orders the pairs as jsonb stores them and keeps one pair per
 * key (the last in the text, as jsonb_in does); returns how many remain.
 */
static int
sort_pairs(JsonbPair *pairs, int n)
{
	int			m;

	if (n <= 16)
		for (int i = 1; i < n; i++)
		{
			JsonbPair	t = pairs[i];
			int			j = i - 1;

			while (j >= 0 && pair_cmp(&pairs[j], &t) > 0)
			{
				pairs[j + 1] = pairs[j];
				j--;
			}
			pairs[j + 1] = t;
		}
	else
		qsort(pairs, n, sizeof(JsonbPair), pair_qsort_cmp);
	m = n > 0 ? 1 : 0;
	for (int i = 1; i < n; i++)
		if (pairs[i].key.val.string.len != pairs[m - 1].key.val.string.len ||
			memcmp(pairs[i].key.val.string.val, pairs[m - 1].key.val.string.val,
				   pairs[i].key.val.string.len) != 0)
			pairs[m++] = pairs[i];
	return m;
}

/* fp_object: an object (the opening brace is current). */
static bool
fp_object(FastParser *fp, JsonbValue *out)
{
	int			cap = 16,
				n = 0;
	JsonbPair  *pairs = palloc(sizeof(JsonbPair) * cap);

	fp->p++;
	skip_ws(fp);
	if (fp->p < fp->end && *fp->p == '}')
		fp->p++;
	else
		for (;;)
		{
			if (n == cap)
				pairs = repalloc(pairs, sizeof(JsonbPair) * (cap *= 2));
			skip_ws(fp);
			if (fp->p >= fp->end || *fp->p != '"' || !fp_string(fp, &pairs[n].key))
				return false;
			skip_ws(fp);
			if (fp->p >= fp->end || *fp->p++ != ':' || !fp_value(fp, &pairs[n].value))
				return false;
			pairs[n].order = n;
			if (++n > FP_MAX_PAIRS)
				return false;
			skip_ws(fp);
			if (fp->p < fp->end && *fp->p == ',')
			{
				fp->p++;
				continue;
			}
			if (fp->p < fp->end && *fp->p == '}')
			{
				fp->p++;
				break;
			}
			return false;
		}
	out->type = jbvObject;
	out->val.object.nPairs = sort_pairs(pairs, n);
	out->val.object.pairs = pairs;
	return true;
}

/* fp_array: an array (the opening bracket is current). */
static bool
fp_array(FastParser *fp, JsonbValue *out)
{
	int			cap = 16,
				n = 0;
	JsonbValue *elems = palloc(sizeof(JsonbValue) * cap);

	fp->p++;
	skip_ws(fp);
	if (fp->p < fp->end && *fp->p == ']')
		fp->p++;
	else
		for (;;)
		{
			if (n == cap)
				elems = repalloc(elems, sizeof(JsonbValue) * (cap *= 2));
			if (!fp_value(fp, &elems[n]))
				return false;
			if (++n > FP_MAX_ELEMS)
				return false;
			skip_ws(fp);
			if (fp->p < fp->end && *fp->p == ',')
			{
				fp->p++;
				continue;
			}
			if (fp->p < fp->end && *fp->p == ']')
			{
				fp->p++;
				break;
			}
			return false;
		}
	out->type = jbvArray;
	out->val.array.nElems = n;
	out->val.array.elems = elems;
	out->val.array.rawScalar = false;
	return true;
}

/* fp_value: any JSON value at the current position. */
static bool
fp_value(FastParser *fp, JsonbValue *out)
{
	bool		ok;

	skip_ws(fp);
	if (fp->p >= fp->end)
		return false;
	switch (*fp->p)
	{
		case '{':
		case '[':
			if (++fp->depth > FP_MAX_DEPTH || stack_is_too_deep())
				return false;
			CHECK_FOR_INTERRUPTS();
			ok = *fp->p == '{' ? fp_object(fp, out) : fp_array(fp, out);
			fp->depth--;
			return ok;
		case '"':
			return fp_string(fp, out);
		case 't':
			return fp_literal(fp, "true", out);
		case 'f':
			return fp_literal(fp, "false", out);
		case 'n':
			return fp_literal(fp, "null", out);
		default:
			return fp_number(fp, out);
	}
}

/* ptr_cmp: address order, for bsearch over the marked numbers. */
static int
ptr_cmp(const void *a, const void *b)
{
	uintptr_t	x = (uintptr_t) *(const Numeric *) a;
	uintptr_t	y = (uintptr_t) *(const Numeric *) b;

	return x < y ? -1 : (x > y ? 1 : 0);
}

/* State of mark_walk: the marked numbers and the path to the current value. */
typedef struct MarkWalk
{
	Numeric    *marks;			/* sorted by address */
	int			nmarks;
	int			left;			/* marks not found yet */
	NangoPathSeg *stack;
	int			depth;
	NangoExpMarks *out;
} MarkWalk;

/*
 * mark_walk: finds the marked numbers in the parsed tree and records the
 * path of each.  Walking the final tree (not the text) leaves out the
 * values of duplicate keys that jsonb drops.
 */
static void
mark_walk(MarkWalk *w, JsonbValue *v)
{
	/* the parser got this deep; should the walk not, those marks are lost */
	if (stack_is_too_deep())
		return;
	if (v->type == jbvNumeric)
	{
		NangoExpPath *ep;

		if (bsearch(&v->val.numeric, w->marks, w->nmarks, sizeof(Numeric), ptr_cmp) == NULL)
			return;
		ep = &w->out->paths[w->out->n++];
		ep->nseg = w->depth;
		ep->segs = palloc(sizeof(NangoPathSeg) * Max(w->depth, 1));
		memcpy(ep->segs, w->stack, sizeof(NangoPathSeg) * w->depth);
		w->left--;
		return;
	}
	if (v->type != jbvObject && v->type != jbvArray)
		return;
	w->depth++;
	if (v->type == jbvObject)
		for (int i = 0; i < v->val.object.nPairs && w->left > 0; i++)
		{
			JsonbPair  *pair = &v->val.object.pairs[i];

			w->stack[w->depth - 1].key = pair->key.val.string.val;
			w->stack[w->depth - 1].keylen = pair->key.val.string.len;
			w->stack[w->depth - 1].index = 0;
			mark_walk(w, &pair->value);
		}
	else
		for (int i = 0; i < v->val.array.nElems && w->left > 0; i++)
		{
			w->stack[w->depth - 1].key = NULL;
			w->stack[w->depth - 1].keylen = 0;
			w->stack[w->depth - 1].index = i;
			mark_walk(w, &v->val.array.elems[i]);
		}
	w->depth--;
}

/* find_marks: the paths of the parser's marked numbers in the tree root. */
static NangoExpMarks *
find_marks(FastParser *fp, JsonbValue *root)
{
	MarkWalk	w;

	qsort(fp->marks, fp->nmarks, sizeof(Numeric), ptr_cmp);
	w.marks = fp->marks;
	w.nmarks = w.left = fp->nmarks;
	w.stack = palloc(sizeof(NangoPathSeg) * (FP_MAX_DEPTH + 1));
	w.depth = 0;
	w.out = palloc(sizeof(NangoExpMarks));
	w.out->n = 0;
	w.out->paths = palloc(sizeof(NangoExpPath) * fp->nmarks);
	mark_walk(&w, root);
	pfree(w.stack);
	return w.out;
}

Jsonb *
nango_parse_jsonb_marks(const char *text, size_t len, NangoExpMarks **marks)
{
	FastParser	fp = {text, text + len, 0, NULL, 0, 0};
	JsonbValue	v;

	if (marks)
		*marks = NULL;
	if (GetDatabaseEncoding() != PG_UTF8)
		return NULL;
	skip_ws(&fp);
	if (fp.p >= fp.end || (*fp.p != '{' && *fp.p != '['))
		return NULL;
	if (!fp_value(&fp, &v))
		return NULL;
	skip_ws(&fp);
	if (fp.p != fp.end)
		return NULL;
	if (marks && fp.nmarks > 0)
	{
		*marks = find_marks(&fp, &v);
		if ((*marks)->n == 0)
			*marks = NULL;
	}
	return JsonbValueToJsonb(&v);
}
