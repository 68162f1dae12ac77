/*-------------------------------------------------------------------------
 *
 * util.h
 *	  Small helpers shared by the modules: identity switching and lookups.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NANGO_UTIL_H
#define NANGO_UTIL_H

#include "postgres.h"

#include "access/genam.h"
#include "executor/tuptable.h"
#include "lib/bloomfilter.h"
#include "utils/relcache.h"

/* A saved identity, restored by nango_pop_role (or by transaction abort). */
typedef struct NangoSavedRole
{
	Oid			userid;
	int			sec_context;
	int			guc_level;		/* GUC nest level opened by nango_push_role */
	bool		restricted;		/* a security-restricted operation began */
	bool		was_restricted; /* owner code was already restricted before */
} NangoSavedRole;

/* Oid of the role that owns the nango extension (it writes nango's tables). */
extern Oid	nango_extension_owner(void);

/*
 * nango_has_column: whether nango.<table> has that column.  Between the
 * installation of a new library and ALTER EXTENSION nango UPDATE, the
 * library runs against the older version's tables: code that uses a column
 * added since checks for it (from the catalog cache, so it is cheap).
 */
extern bool nango_has_column(const char *table, const char *column);

/*
 * Switch the current user to role (with SECURITY_LOCAL_USERID_CHANGE, as a
 * SECURITY DEFINER function would) and back.  When role is the extension
 * owner, search_path is pinned to "pg_catalog, pg_temp" until the matching
 * nango_pop_role, so that no object of the caller's schemas (an operator, a
 * function) can run with the extension owner's rights.  A transaction or
 * subtransaction abort restores the previous identity and search_path by
 * itself.
 */
extern void nango_push_role(Oid role, NangoSavedRole *saved);
extern void nango_pop_role(NangoSavedRole *saved);

/*
 * nango_push_owner: switch to owner, the owner of a sync, for what touches
 * its mapped table, on behalf of caller (the current user when nango was
 * called: the session's role for run_sync, the owner itself in a job
 * worker).  When caller is not owner, the switch is a security-restricted
 * operation and nango_pop_role rolls back every setting changed meanwhile,
 * so the owner's code runs with the owner's rights only and leaves nothing
 * behind in the caller's session.  Undone by nango_pop_role.
 */
extern void nango_push_owner(Oid owner, Oid caller, NangoSavedRole *saved);

/*
 * nango_pin_search_path: sets search_path to "pg_catalog, pg_temp" until
 * nango_unpin_search_path (or the end of the (sub)transaction), as a
 * SECURITY DEFINER function with SET search_path would: objects of a
 * caller's schema can then never stand in for the ones nango's SQL uses.
 * Returns the GUC nest level to give back to nango_unpin_search_path.
 */
extern int	nango_pin_search_path(void);
extern void nango_unpin_search_path(int nestlevel);

/*
 * The filter of keys a job inserted into a sync that had no rows when the
 * job started (in nango.raw, or in the mapped table): a key the filter
 * lacks cannot have a row, so its lookup is skipped.  Fixed size (1 MB),
 * whatever the number of keys; a NULL filter lacks nothing.
 */
extern bloom_filter *nango_key_filter_create(void);
extern bool nango_key_filter_lacks(bloom_filter *filter, const char *key);
extern void nango_key_filter_add(bloom_filter *filter, const char *key);

/*
 * nango_key_index_open: rel's valid unique B-tree index on exactly
 * (sync_att, key_att), without predicate or expressions, opened with
 * AccessShareLock; NULL when there is none.  Used by the probes of
 * nango.raw and of mapped tables by (sync id, unique key).
 */
extern Relation nango_key_index_open(Relation rel, AttrNumber sync_att, AttrNumber key_att);

/*
 * nango_key_probe: rescans scan, an index scan with two scan keys on such
 * an index, for (sync_id, key) and fetches into slot the first row version
 * the scan's snapshot sees; false when there is none.
 */
extern bool nango_key_probe(IndexScanDesc scan, int64 sync_id, const char *key,
							TupleTableSlot *slot);

#endif							/* NANGO_UTIL_H */
