/*-------------------------------------------------------------------------
 *
 * flatten.c
 *	  Flattening one JSON record into named, typed fields (docs/mapping.md).
 *
 *	  A record is walked with JsonbIterator (no text round trip).  Every
 *	  non-null scalar becomes a field whose path is joined with '_' at every
 *	  level (array elements by their index).  Each field carries:
 *	  - an identity, the exact path as a JSON array (["a",0,"b"]), which is
 *	    stored as the column's comment so that colliding paths keep distinct
 *	    and stable names from run to run;
 *	  - its natural column name (the joined path);
 *	  - the kind of its value, from which the column type is inferred.
 *	  The type rules (which kinds give which column type, widening, what
 *	  fits, converted values) are in flattypes.c, the naming rules
 *	  (reserved names, shortening to 63 bytes with a hash suffix,
 *	  collisions) in flatnames.c, ISO dates in isodate.c, and the SQL
 *	  function nango.flatten() in flatsql.c.  Pure functions of the record:
 *	  no SQL, no catalog access.
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
#include "utils/fmgrprotos.h"
#include "utils/json.h"

#include "flatten.h"
#include "isodate.h"
#include "jsonpath.h"

/* Walk state: the path so far and the fields found. */
typedef struct FlattenState
{
	StringInfoData name;		/* natural name of the current path */
	StringInfoData ident;		/* "[seg,seg" of the current path */
	const char *prefix;			/* identity prefix (NANGO_PATH_PREFIX) */
	NangoFlatRecord *out;
	int			cap;			/* allocated fields */
	int			depth;			/* segments of the current path */
	const NangoMapOptions *opts;	/* fields and arrays, or NULL */
} FlattenState;

typedef struct FieldMatch FieldMatch;

static void flatten_container(FlattenState *st, JsonbContainer *jc, const FieldMatch *m);

/* number_field: sets the kind, text and value of a JSON number. */
static void
number_field(NangoField *f, Numeric num)
{
	char	   *s = DatumGetCString(DirectFunctionCall1(numeric_out,
														NumericGetDatum(num)));

	f->num = num;
	f->text = s;
	f->kind = NANGO_VK_NUM;
	if (strchr(s, '.') == NULL)
	{
		char	   *end;
		long long	v;

		errno = 0;
		v = strtoll(s, &end, 10);
		if (errno == 0 && *end == '\0')
		{
			f->kind = NANGO_VK_INT;
			f->ival = (int64) v;
		}
	}
}

/* concat_ident: prefix + the current path + "]", palloc'd (no format parsing). */
static char *
concat_ident(const char *prefix, StringInfo ident)
{
	size_t		plen = strlen(prefix);
	char	   *s = palloc(plen + ident->len + 2);

	memcpy(s, prefix, plen);
	memcpy(s + plen, ident->data, ident->len);
	s[plen + ident->len] = ']';
	s[plen + ident->len + 1] = '\0';
	return s;
}

/* add_field: appends the scalar v at the current path; false for null. */
static bool
add_field(FlattenState *st, JsonbValue *v, bool sniff_dates)
{
	NangoField *f;

	if (v->type == jbvNull)
		return false;
	if (st->out->nfields >= NANGO_MAX_RECORD_FIELDS)
	{
		st->out->truncated = true;
		return false;
	}
	if (st->out->nfields == st->cap)
	{
		st->cap = st->cap ? st->cap * 2 : 16;
		st->out->fields = st->out->fields
			? repalloc(st->out->fields, sizeof(NangoField) * st->cap)
			: palloc(sizeof(NangoField) * st->cap);
	}
	f = &st->out->fields[st->out->nfields++];
	memset(f, 0, sizeof(NangoField));
	f->natural = pnstrdup(st->name.data, st->name.len);
	f->ident = concat_ident(st->prefix, &st->ident);
	f->depth = st->depth;
	switch (v->type)
	{
		case jbvBool:
			f->kind = NANGO_VK_BOOL;
			f->text = v->val.boolean ? "true" : "false";
			break;
		case jbvNumeric:
			number_field(f, v->val.numeric);
			break;
		case jbvString:
			f->text = pnstrdup(v->val.string.val, v->val.string.len);
			f->kind = sniff_dates ? nango_iso_kind(f->text, v->val.string.len, &f->has_zone) : 0;
			if (f->kind == 0)
				f->kind = NANGO_VK_TEXT;
			break;
		default:
			elog(ERROR, "unexpected jsonb value type %d", (int) v->type);
	}
	return true;
}

/*
 * plain_key: true when escape_json would copy the key unchanged between
 * quotes (no quote, backslash, control character or NUL).
 */
static inline bool
plain_key(const char *key, int keylen)
{
	for (int i = 0; i < keylen; i++)
	{
		unsigned char c = (unsigned char) key[i];

		if (c < 0x20 || c == '"' || c == '\\')
			return false;
	}
	return true;
}

/* push_segment: extends the current path by an object key or array index. */
static void
push_segment(FlattenState *st, const char *key, int keylen, int index)
{
	if (st->ident.len > 1)
	{
		appendStringInfoChar(&st->name, '_');
		appendStringInfoChar(&st->ident, ',');
	}
	if (key)
	{
		appendBinaryStringInfo(&st->name, key, keylen);
		if (plain_key(key, keylen))
		{
			/* what escape_json gives, without a copy and a call per byte */
			enlargeStringInfo(&st->ident, keylen + 2);
			st->ident.data[st->ident.len++] = '"';
			memcpy(st->ident.data + st->ident.len, key, keylen);
			st->ident.len += keylen;
			st->ident.data[st->ident.len++] = '"';
			st->ident.data[st->ident.len] = '\0';
		}
		else
		{
			char	   *k = pnstrdup(key, keylen);

			escape_json(&st->ident, k);
			pfree(k);
		}
	}
	else
	{
		appendStringInfo(&st->name, "%d", index);
		appendStringInfo(&st->ident, "%d", index);
	}
}

/* visit: one value at the current path: a scalar field or a nested container. */
static void
visit(FlattenState *st, JsonbValue *v)
{
	if (v->type == jbvBinary)
		flatten_container(st, v->val.binary.data, NULL);
	else
		add_field(st, v, true);
}

/* ---------------------------------------------------------------------
 * The walk with mapping options (docs/mapping.md): fields and arrays
 * ---------------------------------------------------------------------
 */

/*
 * FieldMatch: which `fields` entries the current path is on.  covered: an
 * entry is the path or a prefix of it, so everything below is mapped;
 * otherwise live[0..nlive) are the entries whose first steps are the
 * path (the walk goes on only towards them).
 */
struct FieldMatch
{
	bool		covered;
	int			nlive;
	int		   *live;
};

/* step_matches: does step d of entry e name this key or index? */
static inline bool
step_matches(const NangoPath *e, int d, const char *key, int keylen, int index)
{
	const NangoPathStep *st = &e->steps[d];

	if (key)
		return st->key != NULL && st->keylen == keylen && memcmp(st->key, key, keylen) == 0;
	return st->index == index;
}

/*
 * child_match: the FieldMatch of a child (object key, or array index when
 * key is NULL) of a path at depth d whose match is m.  Returns false when
 * no entry leads there (the child is not mapped at all).
 */
static bool
child_match(const FlattenState *st, const FieldMatch *m, int d, const char *key,
			int keylen, int index, FieldMatch *out)
{
	out->covered = m->covered;
	out->nlive = 0;
	out->live = NULL;
	if (m->covered)
		return true;
	for (int i = 0; i < m->nlive; i++)
	{
		const NangoPath *e = st->opts->fields[m->live[i]];

		if (!step_matches(e, d, key, keylen, index))
			continue;
		if (e->nsteps == d + 1)
		{
			out->covered = true;
			return true;
		}
		if (out->live == NULL)
			out->live = palloc(sizeof(int) * m->nlive);
		out->live[out->nlive++] = m->live[i];
	}
	return out->nlive > 0;
}

/*
 * add_json_field: the array v (jbvBinary) at the current path as one
 * field, kept whole for a jsonb column (arrays: jsonb).
 */
static void
add_json_field(FlattenState *st, JsonbValue *v)
{
	JsonbValue	s = {.type = jbvBool};
	NangoField *f;

	s.val.boolean = true;
	if (!add_field(st, &s, false))
		return;
	f = &st->out->fields[st->out->nfields - 1];
	f->kind = NANGO_VK_JSON;
	f->json = JsonbValueToJsonb(v);
	f->text = NULL;
}

/*
 * visit_filtered: one value at the current path under the options: a
 * scalar is a field when covered; an array under arrays: jsonb is one
 * field when covered; any other container is walked.
 */
static void
visit_filtered(FlattenState *st, JsonbValue *v, const FieldMatch *m)
{
	if (v->type != jbvBinary)
	{
		if (m->covered)
			add_field(st, v, true);
		return;
	}
	if (m->covered && st->opts->arrays_jsonb && JsonContainerIsArray(v->val.binary.data))
		add_json_field(st, v);
	else
		flatten_container(st, v->val.binary.data, m);
}

/*
 * flatten_container: walks one object or array, recursing into children.
 * With m (the mapping options' `fields`), children that no entry leads to
 * are not even visited; without, every child is.
 */
static void
flatten_container(FlattenState *st, JsonbContainer *jc, const FieldMatch *m)
{
	JsonbIterator *it = JsonbIteratorInit(jc);
	JsonbIteratorToken tok;
	JsonbValue	v;
	JsonbValue	key = {0};
	int			index = 0;

	check_stack_depth();
	CHECK_FOR_INTERRUPTS();
	while (!st->out->truncated && (tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		int			name_len = st->name.len;
		int			ident_len = st->ident.len;
		FieldMatch	cm;

		if (tok == WJB_KEY)
		{
			key = v;
			continue;
		}
		if (tok != WJB_VALUE && tok != WJB_ELEM)
			continue;
		if (m != NULL && (tok == WJB_VALUE
						  ? !child_match(st, m, st->depth, key.val.string.val, key.val.string.len, -1, &cm)
						  : !child_match(st, m, st->depth, NULL, 0, index, &cm)))
		{
			index++;
			continue;
		}
		if (tok == WJB_VALUE)
			push_segment(st, key.val.string.val, key.val.string.len, 0);
		else
			push_segment(st, NULL, 0, index++);
		st->depth++;
		if (m == NULL)
			visit(st, &v);
		else
			visit_filtered(st, &v, &cm);
		st->depth--;
		st->name.len = name_len;
		st->name.data[name_len] = '\0';
		st->ident.len = ident_len;
		st->ident.data[ident_len] = '\0';
		if (m != NULL && cm.live)
			pfree(cm.live);
	}
}

/*
 * nango_flatten_jsonb: every non-null scalar of record jb as a field.  A
 * record that is a bare scalar gives no field (its row has only the
 * system columns); a bare array gives the columns "0", "1", ...
 */
void
nango_flatten_jsonb(Jsonb *jb, NangoFlatRecord *out)
{
	nango_flatten_jsonb_opts(jb, NULL, out);
}

/*
 * nango_flatten_jsonb_opts: nango_flatten_jsonb under a sync's mapping
 * options.  Without options that change anything the walk is the plain
 * one, so the default path costs nothing more per value.
 */
void
nango_flatten_jsonb_opts(Jsonb *jb, const NangoMapOptions *opts, NangoFlatRecord *out)
{
	FlattenState st;

	memset(out, 0, sizeof(NangoFlatRecord));
	if (JB_ROOT_IS_SCALAR(jb))
		return;
	memset(&st, 0, sizeof(st));
	initStringInfo(&st.name);
	initStringInfo(&st.ident);
	appendStringInfoChar(&st.ident, '[');
	st.prefix = NANGO_PATH_PREFIX;
	st.out = out;
	if (opts != NULL && (opts->nfields > 0 || opts->arrays_jsonb))
	{
		FieldMatch	m = {opts->nfields == 0, opts->nfields, NULL};

		st.opts = opts;
		if (!m.covered)
		{
			m.live = palloc(sizeof(int) * opts->nfields);
			for (int i = 0; i < opts->nfields; i++)
				m.live[i] = i;
		}
		flatten_container(&st, &jb->root, &m);
	}
	else
		flatten_container(&st, &jb->root, NULL);
	pfree(st.name.data);
	pfree(st.ident.data);
}

/*
 * nango_path_ident: the identity of the field at a path (segments from the
 * record's root), as flatten_container builds it but without the prefix:
 * ["a",0,"b"].
 */
char *
nango_path_ident(const NangoPathSeg *segs, int n)
{
	StringInfoData s;

	initStringInfo(&s);
	appendStringInfoChar(&s, '[');
	for (int i = 0; i < n; i++)
	{
		if (i > 0)
			appendStringInfoChar(&s, ',');
		if (segs[i].key)
		{
			char	   *k = pnstrdup(segs[i].key, segs[i].keylen);

			escape_json(&s, k);
			pfree(k);
		}
		else
			appendStringInfo(&s, "%d", segs[i].index);
	}
	appendStringInfoChar(&s, ']');
	return s.data;
}

/* ident_cmp: strcmp for bsearch over an array of strings. */
static int
ident_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* nango_num_paths_sort: sorts np's idents as nango_flatten_force_num expects. */
void
nango_num_paths_sort(NangoNumPaths *np)
{
	if (np->n > 1)
		qsort(np->idents, np->n, sizeof(char *), ident_cmp);
}

/*
 * nango_flatten_force_num: gives kind NANGO_VK_NUM to the integer fields of
 * rec whose paths are in np (numbers written with an exponent, which jsonb
 * keeps as integers: docs/mapping.md maps 1e3 as numeric).  The value stays
 * the exact numeric.  Fields of other kinds are left alone.
 */
void
nango_flatten_force_num(NangoFlatRecord *rec, const NangoNumPaths *np)
{
	size_t		plen = strlen(NANGO_PATH_PREFIX);

	if (np == NULL || np->n == 0)
		return;
	for (int i = 0; i < rec->nfields; i++)
	{
		NangoField *f = &rec->fields[i];
		const char *path;

		if (f->kind != NANGO_VK_INT || strncmp(f->ident, NANGO_PATH_PREFIX, plen) != 0)
			continue;
		path = f->ident + plen;
		if (bsearch(&path, np->idents, np->n, sizeof(char *), ident_cmp) != NULL)
			f->kind = NANGO_VK_NUM;
	}
}

/*
 * nango_flatten_metadata: the top-level scalars of a sync's metadata
 * object, one column each under the key's own name.  Strings stay text
 * (metadata is the user's own constant, not API data to sniff).
 */
void
nango_flatten_metadata(Jsonb *jb, NangoFlatRecord *out)
{
	FlattenState st;
	JsonbIterator *it;
	JsonbIteratorToken tok;
	JsonbValue	v;
	JsonbValue	key = {0};

	memset(out, 0, sizeof(NangoFlatRecord));
	if (jb == NULL || !JB_ROOT_IS_OBJECT(jb))
		return;
	memset(&st, 0, sizeof(st));
	initStringInfo(&st.name);
	initStringInfo(&st.ident);
	st.out = out;
	st.prefix = "";
	it = JsonbIteratorInit(&jb->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
			key = v;
		else if (tok == WJB_VALUE && v.type != jbvBinary)
		{
			char	   *k = pnstrdup(key.val.string.val, key.val.string.len);

			resetStringInfo(&st.name);
			resetStringInfo(&st.ident);
			appendStringInfoString(&st.name, k);
			appendStringInfoString(&st.ident, NANGO_META_PREFIX);
			escape_json(&st.ident, k);
			if (add_field(&st, &v, false))
				st.out->fields[st.out->nfields - 1].ident = pstrdup(st.ident.data);
		}
	}
}
