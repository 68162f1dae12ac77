/*-------------------------------------------------------------------------
 *
 * keyprobe.h
 *	  Lookups of a row by (sync id, unique key) in nango.raw and in mapped
 *	  tables: the key filter of a sync that starts empty, and index probes.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NANGO_KEYPROBE_H
#define NANGO_KEYPROBE_H

#include "postgres.h"

#include "access/genam.h"
#include "executor/tuptable.h"
#include "lib/bloomfilter.h"
#include "utils/relcache.h"

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

#endif							/* NANGO_KEYPROBE_H */
