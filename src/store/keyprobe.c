/*-------------------------------------------------------------------------
 *
 * keyprobe.c
 *	  Lookups of a row by (sync id, unique key), shared by the writes to
 *	  nango.raw and to mapped tables: the key filter (a bloom filter of the
 *	  keys a job inserted into a sync that had no rows when it started), the
 *	  search for a usable unique index on (sync id, key), and one probe of
 *	  it.  It reads only; the callers write.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relscan.h"
#include "access/skey.h"
#include "catalog/pg_am.h"
#include "catalog/pg_index.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"

#include "keyprobe.h"

/*
 * The key filter: 1 MB whatever the number of keys (about 2% false
 * positives at 1,000,000 keys, each costing only the lookup it would have
 * cost anyway).
 */
#define KEY_FILTER_KEYS 1000000
#define KEY_FILTER_KB 1024

/* nango_key_filter_create: see keyprobe.h. */
bloom_filter *
nango_key_filter_create(void)
{
	return bloom_create(KEY_FILTER_KEYS, KEY_FILTER_KB, UINT64CONST(0x6e616e676f6b6579));
}

/* nango_key_filter_lacks: see keyprobe.h. */
bool
nango_key_filter_lacks(bloom_filter *filter, const char *key)
{
	return filter != NULL && bloom_lacks_element(filter, (unsigned char *) key, strlen(key));
}

/* nango_key_filter_add: see keyprobe.h. */
void
nango_key_filter_add(bloom_filter *filter, const char *key)
{
	if (filter != NULL)
		bloom_add_element(filter, (unsigned char *) key, strlen(key));
}

/* nango_key_index_open: see keyprobe.h. */
Relation
nango_key_index_open(Relation rel, AttrNumber sync_att, AttrNumber key_att)
{
	List	   *indexes = RelationGetIndexList(rel);
	ListCell   *lc;
	Relation	found = NULL;

	foreach(lc, indexes)
	{
		Relation	ind = index_open(lfirst_oid(lc), AccessShareLock);
		Form_pg_index fi = ind->rd_index;

		if (ind->rd_rel->relam == BTREE_AM_OID && fi->indisunique && fi->indisvalid &&
			fi->indnatts == 2 && fi->indnkeyatts == 2 &&
			fi->indkey.values[0] == sync_att && fi->indkey.values[1] == key_att &&
			heap_attisnull(ind->rd_indextuple, Anum_pg_index_indpred, NULL) &&
			heap_attisnull(ind->rd_indextuple, Anum_pg_index_indexprs, NULL))
		{
			found = ind;
			break;
		}
		index_close(ind, AccessShareLock);
	}
	list_free(indexes);
	return found;
}

/* nango_key_probe: see keyprobe.h. */
bool
nango_key_probe(IndexScanDesc scan, int64 sync_id, const char *key, TupleTableSlot *slot)
{
	Relation	ind = scan->indexRelation;
	ScanKeyData sk[2];

	ScanKeyEntryInitialize(&sk[0], 0, 1, BTEqualStrategyNumber, InvalidOid,
						   ind->rd_indcollation[0], F_INT8EQ, Int64GetDatum(sync_id));
	ScanKeyEntryInitialize(&sk[1], 0, 2, BTEqualStrategyNumber, InvalidOid,
						   ind->rd_indcollation[1], F_TEXTEQ, CStringGetTextDatum(key));
	index_rescan(scan, sk, 2, NULL, 0);
	return index_getnext_slot(scan, ForwardScanDirection, slot);
}
