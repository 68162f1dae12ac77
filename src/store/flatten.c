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
 *	  This file also holds the type rules (which kinds give which column
 *	  type, widening, what fits), the naming rules (reserved names,
 *	  shortening to 63 bytes with a hash suffix, collisions), and the SQL
 *	  function nango.flatten().
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/fmgrprotos.h"
#include "utils/json.h"
#include "utils/tuplestore.h"

#include "flatten.h"
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
static bool iso_to_timestamptz(const char *s, TimestampTz *out);

/* Column names a data key may never take. */
static const char *const system_names[] = {
	"_nango_id", "_nango_sync_id", "_nango_job_id", "_nango_emitted_at",
	"_nango_unique_key", "_nango_deleted_at",
	"ctid", "xmin", "xmax", "cmin", "cmax", "tableoid", "oid",
	NULL
};

/*
 * nango_name_is_system: true for the names of the mapped table's system
 * columns and of PostgreSQL's system columns.
 */
bool
nango_name_is_system(const char *name)
{
	for (int i = 0; system_names[i]; i++)
		if (strcmp(name, system_names[i]) == 0)
			return true;
	return false;
}

/*
 * hash_suffix: "_" and 8 hex digits of an FNV-1a hash of str (and of round
 * when it is not 0).  Portable and stable across servers and versions.
 */
static void
hash_suffix(char *buf, const char *str, int round)
{
	uint32		h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *) str; *p; p++)
		h = (h ^ *p) * 16777619u;
	for (int i = 0; i < round; i++)
		h = (h ^ (uint32) (i + 1)) * 16777619u ^ 0x9e3779b9u;
	snprintf(buf, 10, "_%08x", h);
}

/*
 * with_suffix: the first bytes of base (never cut inside a character) with
 * the hash suffix of (ident, round), at most NAMEDATALEN - 1 bytes in all.
 */
static char *
with_suffix(const char *base, const char *ident, int round)
{
	char		suffix[10];
	int			keep;

	hash_suffix(suffix, ident, round);
	keep = pg_mbcliplen(base, strlen(base), NAMEDATALEN - 1 - 9);
	return psprintf("%.*s%s", keep, base, suffix);
}

/*
 * nango_base_name: the column name a path asks for before collisions are
 * considered.  The empty name and reserved names get a '_' in front; a name
 * longer than 63 bytes is shortened with a hash of its identity.
 */
char *
nango_base_name(const char *natural, const char *ident)
{
	const char *base = natural;

	if (*base == '\0' || nango_name_is_system(base))
		base = psprintf("_%s", natural);
	if (strlen(base) > NAMEDATALEN - 1)
		return with_suffix(base, ident, 0);
	return pstrdup(base);
}

/*
 * nango_pick_name: a free column name for a path: its base name when free,
 * else the base name with a hash suffix of the identity (then further
 * rounds of the hash), so that colliding paths get distinct, deterministic
 * names.
 */
char *
nango_pick_name(const char *natural, const char *ident,
				NangoNameTaken taken, void *arg)
{
	char	   *base = nango_base_name(natural, ident);
	char	   *name = base;

	for (int round = 0; taken(name, arg) || nango_name_is_system(name); round++)
		name = with_suffix(base, ident, round);
	return name;
}

/* Sort item of nango_naming_order. */
typedef struct OrderItem
{
	int			depth;
	int			pos;
} OrderItem;

/* order_cmp: by depth, then by position. */
static int
order_cmp(const void *a, const void *b)
{
	const OrderItem *x = a,
			   *y = b;

	if (x->depth != y->depth)
		return x->depth < y->depth ? -1 : 1;
	return x->pos < y->pos ? -1 : (x->pos > y->pos ? 1 : 0);
}

/*
 * nango_naming_order: the order in which new columns get their names:
 * metadata first, then shallower paths before deeper ones (so a key
 * spelled "a_b" keeps that name over the nested path a.b), then in record
 * order.  Returns positions into fields.
 */
int *
nango_naming_order(NangoField **fields, int n)
{
	OrderItem  *items = palloc(sizeof(OrderItem) * Max(n, 1));
	int		   *order = palloc(sizeof(int) * Max(n, 1));

	for (int i = 0; i < n; i++)
	{
		items[i].depth = fields[i]->depth;
		items[i].pos = i;
	}
	qsort(items, n, sizeof(OrderItem), order_cmp);
	for (int i = 0; i < n; i++)
		order[i] = items[i].pos;
	pfree(items);
	return order;
}

/* days_in_month: number of days of month m (1-12) in year y. */
static int
days_in_month(int y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return days[m - 1];
}

/* digits: reads n decimal digits at s into *val; false if any is not one. */
static bool
digits(const char *s, int n, int *val)
{
	*val = 0;
	for (int i = 0; i < n; i++)
	{
		if (s[i] < '0' || s[i] > '9')
			return false;
		*val = *val * 10 + (s[i] - '0');
	}
	return true;
}

/* iso_zone: true when s (to its end) is Z or an offset +HH, +HHMM, +HH:MM. */
static bool
iso_zone(const char *s, int len)
{
	int			hh,
				mm = 0;

	if (len == 1 && (s[0] == 'Z' || s[0] == 'z'))
		return true;
	if (len < 3 || (s[0] != '+' && s[0] != '-') || !digits(s + 1, 2, &hh))
		return false;
	if (len == 5 && !digits(s + 3, 2, &mm))
		return false;
	if (len == 6 && (s[3] != ':' || !digits(s + 4, 2, &mm)))
		return false;
	if (len != 3 && len != 5 && len != 6)
		return false;
	return hh <= 14 && mm <= 59;
}

/*
 * iso_kind: NANGO_VK_DATE when s is exactly an ISO-8601 date (YYYY-MM-DD, a
 * real day), NANGO_VK_TS when exactly a timestamp (date, 'T' or ' ',
 * HH:MM[:SS[.f]] with at most 6 fraction digits so that nothing is
 * rounded, optional Z or offset), else 0.
 */
static int
iso_kind(const char *s, int len, bool *has_zone)
{
	int			y,
				mo,
				d,
				hh,
				mi,
				ss = 0,
				pos;

	*has_zone = false;
	if (len < 10 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
		s[7] != '-' || !digits(s + 8, 2, &d))
		return 0;
	if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
		return 0;
	if (len == 10)
		return NANGO_VK_DATE;
	if ((s[10] != 'T' && s[10] != 't' && s[10] != ' ') || len < 16 ||
		!digits(s + 11, 2, &hh) || s[13] != ':' || !digits(s + 14, 2, &mi))
		return 0;
	pos = 16;
	if (pos < len && s[pos] == ':')
	{
		if (pos + 3 > len || !digits(s + pos + 1, 2, &ss))
			return 0;
		pos += 3;
		if (pos < len && s[pos] == '.')
		{
			int			nd = 0;

			pos++;
			while (pos < len && s[pos] >= '0' && s[pos] <= '9')
				pos++, nd++;
			if (nd < 1 || nd > 6)
				return 0;
		}
	}
	if (hh > 23 || mi > 59 || ss > 59)
		return 0;
	if (pos < len)
	{
		if (!iso_zone(s + pos, len - pos))
			return 0;
		*has_zone = true;
	}
	return NANGO_VK_TS;
}

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
			f->kind = sniff_dates ? iso_kind(f->text, v->val.string.len, &f->has_zone) : 0;
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
				iso_to_timestamptz(f->text, &ts))
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

/*
 * iso_to_timestamptz: the instant of an ISO date or timestamp in the form
 * iso_kind accepts (a zoneless one read as UTC, a date as midnight UTC),
 * computed directly instead of through timestamptz_in; false when s is
 * not in that form (then the caller uses timestamptz_in).
 */
static bool
iso_to_timestamptz(const char *s, TimestampTz *out)
{
	int			len = (int) strlen(s);
	bool		has_zone;
	int			kind = iso_kind(s, len, &has_zone);
	int			y,
				mo,
				d,
				hh = 0,
				mi = 0,
				ss = 0,
				pos = 16;
	int64		usec = 0;
	int64		offset = 0;

	if (kind != NANGO_VK_DATE && kind != NANGO_VK_TS)
		return false;
	digits(s, 4, &y);
	digits(s + 5, 2, &mo);
	digits(s + 8, 2, &d);
	if (kind == NANGO_VK_TS)
	{
		digits(s + 11, 2, &hh);
		digits(s + 14, 2, &mi);
		if (pos < len && s[pos] == ':')
		{
			digits(s + pos + 1, 2, &ss);
			pos += 3;
			if (pos < len && s[pos] == '.')
			{
				int64		scale = 100000;

				for (pos++; pos < len && s[pos] >= '0' && s[pos] <= '9'; pos++, scale /= 10)
					usec += (s[pos] - '0') * scale;
			}
		}
		if (pos < len && s[pos] != 'Z' && s[pos] != 'z')
		{
			int			oh,
						om = 0;

			digits(s + pos + 1, 2, &oh);
			if (len - pos == 5)
				digits(s + pos + 3, 2, &om);
			else if (len - pos == 6)
				digits(s + pos + 4, 2, &om);
			offset = ((int64) oh * 60 + om) * 60 * USECS_PER_SEC;
			if (s[pos] == '-')
				offset = -offset;
		}
	}
	*out = (TimestampTz) (date2j(y, mo, d) - POSTGRES_EPOCH_JDATE) * USECS_PER_DAY
		+ (((int64) hh * 60 + mi) * 60 + ss) * USECS_PER_SEC + usec - offset;
	return true;
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
