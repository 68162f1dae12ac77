/*-------------------------------------------------------------------------
 *
 * rawinsert.c
 *	  nango.raw without statements: a page of new rows inserted through
 *	  the direct insert (directinsert.c, which says when it applies), and
 *	  a page's keys looked up with probes of the key index instead of a
 *	  SELECT.
 *
 *	  The INSERT's cost per row was mostly the foreign key's check of
 *	  sync_id (a query per row, run at the end of the statement) and the
 *	  executor's set-up.  The caller takes once per job the lock that
 *	  check takes (FOR KEY SHARE on the sync's row of nango.syncs), so the
 *	  rows are as safe from a concurrent delete_sync as with the check;
 *	  that foreign key is the one this file tells the direct insert the
 *	  caller has checked.  Both paths also require nango.raw to have
 *	  exactly the columns nango knows.
 *
 *	  This file knows nango.raw's columns; it must not decide when a
 *	  direct insert is safe (directinsert.c does) nor run SQL (the caller,
 *	  store.c, runs the statements when a direct path does not apply).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/genam.h"
#include "access/relscan.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/snapmgr.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/rls.h"

#include "directinsert.h"
#include "store.h"
#include "keyprobe.h"

/* The columns of nango.raw, by name; attnum is filled per call. */
enum
{
	RAW_ID, RAW_SYNC_ID, RAW_JOB_ID, RAW_UNIQUE_KEY, RAW_DATA, RAW_METADATA,
	RAW_DATA_HASH, RAW_EMITTED_AT, RAW_DELETED_AT, RAW_NCOLS
};

static const char *const raw_columns[RAW_NCOLS] = {
	"id", "sync_id", "job_id", "unique_key", "data", "metadata",
	"data_hash", "emitted_at", "deleted_at"
};

static const Oid raw_types[RAW_NCOLS] = {
	INT8OID, INT8OID, INT8OID, TEXTOID, JSONBOID, JSONBOID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID
};

/*
 * raw_column_positions: pos[c] = the 0-based attribute of column c; false
 * when the table has a live column nango does not know, lacks one, or has
 * one of another type.
 */
static bool
raw_column_positions(TupleDesc td, int *pos)
{
	for (int c = 0; c < RAW_NCOLS; c++)
		pos[c] = -1;
	for (int a = 0; a < td->natts; a++)
	{
		Form_pg_attribute att = TupleDescAttr(td, a);
		int			c;

		if (att->attisdropped)
			continue;
		for (c = 0; c < RAW_NCOLS; c++)
			if (strcmp(NameStr(att->attname), raw_columns[c]) == 0)
				break;
		if (c == RAW_NCOLS || att->atttypid != raw_types[c])
			return false;
		pos[c] = a;
	}
	for (int c = 0; c < RAW_NCOLS; c++)
		if (pos[c] < 0)
			return false;
	return true;
}

/* The page's rows, for raw_fill. */
typedef struct RawFill
{
	const int  *pos;
	const NangoRawRow *rows;
} RawFill;

/*
 * raw_fill: the values of row r that the INSERT names (NangoDirectFill);
 * id, emitted_at and deleted_at are left to their defaults.
 */
static void
raw_fill(void *arg, int r, Datum *v, bool *isnull)
{
	RawFill    *f = arg;
	const int  *pos = f->pos;
	const NangoRawRow *row = &f->rows[r];

	v[pos[RAW_SYNC_ID]] = Int64GetDatum(row->sync_id);
	v[pos[RAW_JOB_ID]] = Int64GetDatum(row->job_id);
	v[pos[RAW_DATA]] = JsonbPGetDatum(row->data);
	v[pos[RAW_DATA_HASH]] = CStringGetTextDatum(row->data_hash);
	isnull[pos[RAW_SYNC_ID]] = isnull[pos[RAW_JOB_ID]] = false;
	isnull[pos[RAW_DATA]] = isnull[pos[RAW_DATA_HASH]] = false;
	if (row->unique_key)
	{
		v[pos[RAW_UNIQUE_KEY]] = CStringGetTextDatum(row->unique_key);
		isnull[pos[RAW_UNIQUE_KEY]] = false;
	}
	if (row->metadata)
	{
		v[pos[RAW_METADATA]] = JsonbPGetDatum(row->metadata);
		isnull[pos[RAW_METADATA]] = false;
	}
}

/*
 * nango_raw_insert_direct: the rows through nango_direct_insert, standing
 * in for the store's INSERT INTO nango.raw (sync_id, job_id, unique_key,
 * data, metadata, data_hash); the foreign key of sync_id is the one the
 * caller has locked (FOR KEY SHARE on the sync's row of nango.syncs); the
 * heap's new pages go through the store's ring of buffers (ring, made in
 * ring_cxt: see nango_direct_insert).
 */
bool
nango_raw_insert_direct(int n, const NangoRawRow *rows, BulkInsertState *ring,
						MemoryContext ring_cxt)
{
	Oid			nsp = get_namespace_oid("nango", false);
	Oid			relid = get_relname_relid("raw", nsp);
	Oid			syncs = get_relname_relid("syncs", nsp);
	Relation	rel;
	int			pos[RAW_NCOLS];
	RawFill		fill = {pos, rows};
	NangoDirectInsert di;
	NangoDirectSource *sources;
	bool		ok;

	if (!OidIsValid(relid) || !OidIsValid(syncs))
		return false;
	rel = table_open(relid, RowExclusiveLock);
	if (!raw_column_positions(RelationGetDescr(rel), pos))
	{
		table_close(rel, NoLock);
		return false;
	}
	sources = palloc(sizeof(NangoDirectSource) * RelationGetDescr(rel)->natts);
	for (int a = 0; a < RelationGetDescr(rel)->natts; a++)
		sources[a] = (a == pos[RAW_ID] || a == pos[RAW_EMITTED_AT] || a == pos[RAW_DELETED_AT])
			? NANGO_DIRECT_DEFAULT : NANGO_DIRECT_VALUE;
	di.privileges = ACL_INSERT;
	di.locked_att = pos[RAW_SYNC_ID] + 1;
	di.locked_table = syncs;
	di.locked_ref_att = get_attnum(syncs, "id");
	di.sources = sources;
	di.fill = raw_fill;
	di.arg = &fill;
	di.ring = ring;
	di.ring_cxt = ring_cxt;
	ok = nango_direct_insert(rel, n, &di);
	table_close(rel, NoLock);
	pfree(sources);
	return ok;
}

/*
 * lookup_allowed: whether probing rel's key index as the current user reads
 * what the lookup's SELECT would: a plain table without row-level security
 * for this user, which the user may read.
 */
static bool
lookup_allowed(Relation rel)
{
	return rel->rd_rel->relkind == RELKIND_RELATION &&
		check_enable_rls(RelationGetRelid(rel), InvalidOid, true) != RLS_ENABLED &&
		pg_class_aclcheck(RelationGetRelid(rel), GetUserId(), ACL_SELECT) == ACLCHECK_OK;
}

/*
 * probe_keys: one probe of the key index per key; a visible row fills the
 * next entry of found.  Returns how many were found.
 */
static int
probe_keys(Relation rel, Relation ind, const int *pos, int64 sync_id, int n, const int *idx,
		   char **keys, Jsonb *metadata, NangoRawFound *found)
{
	Snapshot	snap;
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	IndexScanDesc scan;
	int			m = 0;

	/* the job's own earlier writes are visible, as to a new statement */
	CommandCounterIncrement();
	snap = RegisterSnapshot(GetLatestSnapshot());
	scan = index_beginscan(rel, ind, snap, 2, 0);
	for (int i = 0; i < n; i++)
	{
		char	   *key = keys[idx ? idx[i] : i];
		bool		isnull;
		Datum		d;

		if (!nango_key_probe(scan, sync_id, key, slot))
			continue;
		found[m].key = key;
		d = slot_getattr(slot, pos[RAW_DATA_HASH] + 1, &isnull);
		found[m].hash = isnull ? pstrdup("") : TextDatumGetCString(d);
		(void) slot_getattr(slot, pos[RAW_DELETED_AT] + 1, &isnull);
		found[m].deleted = !isnull;
		d = slot_getattr(slot, pos[RAW_METADATA] + 1, &isnull);
		if (isnull || metadata == NULL)
			found[m].same_metadata = isnull && metadata == NULL;
		else
			found[m].same_metadata = DatumGetBool(DirectFunctionCall2(jsonb_eq, d,
																	   JsonbPGetDatum(metadata)));
		m++;
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	UnregisterSnapshot(snap);
	return m;
}

NangoRawFound *
nango_raw_lookup_direct(int64 sync_id, int n, const int *idx, char **keys, Jsonb *metadata,
						int *nfound)
{
	Oid			nsp = get_namespace_oid("nango", false);
	Oid			relid = get_relname_relid("raw", nsp);
	Relation	rel;
	Relation	ind = NULL;
	int			pos[RAW_NCOLS];
	NangoRawFound *found;

	if (!OidIsValid(relid))
		return NULL;
	rel = table_open(relid, AccessShareLock);
	if (!lookup_allowed(rel) || !raw_column_positions(RelationGetDescr(rel), pos) ||
		(ind = nango_key_index_open(rel, pos[RAW_SYNC_ID] + 1, pos[RAW_UNIQUE_KEY] + 1)) == NULL)
	{
		table_close(rel, AccessShareLock);
		return NULL;
	}
	found = palloc(sizeof(NangoRawFound) * Max(n, 1));
	*nfound = probe_keys(rel, ind, pos, sync_id, n, idx, keys, metadata, found);
	index_close(ind, AccessShareLock);
	table_close(rel, AccessShareLock);
	return found;
}
