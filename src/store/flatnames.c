/*-------------------------------------------------------------------------
 *
 * flatnames.c
 *	  Column names of flattened fields (docs/mapping.md): the reserved
 *	  system names, names shortened to 63 bytes with a hash suffix of the
 *	  field's identity, a free name when one collides, and the order in
 *	  which fields are named so that names stay stable from run to run.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"

#include "flatten.h"

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
