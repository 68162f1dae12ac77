/*-------------------------------------------------------------------------
 *
 * rawinsert.c
 *	  Inserting a page of new rows into nango.raw directly with
 *	  table_multi_insert and the indexes' own insertion, the way COPY
 *	  does, instead of an INSERT statement; and looking up a page's keys
 *	  with probes of the key index instead of a SELECT.
 *
 *	  The INSERT's cost per row was mostly the foreign key's check of
 *	  sync_id (a query per row, run at the end of the statement) and the
 *	  executor's set-up.  The caller takes once per job the lock that
 *	  check takes (FOR KEY SHARE on the sync's row of nango.syncs), so the
 *	  rows are as safe from a concurrent delete_sync as with the check.
 *
 *	  The direct path is used only when it is equivalent to the INSERT:
 *	  the table has exactly the columns nango knows, no trigger other than
 *	  foreign key checks, no rule, no row-level security that applies to
 *	  the current user, no CHECK constraint or generated column, and the
 *	  current user may insert.  Otherwise the caller runs its INSERT.
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
#include "commands/sequence.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/snapmgr.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/rls.h"

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

/*
 * raw_column_positions: pos[c] = the 0-based attribute of column c; false
 * when the table has a live column nango does not know, or lacks one.
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
		if (c == RAW_NCOLS)
			return false;
		pos[c] = a;
	}
	for (int c = 0; c < RAW_NCOLS; c++)
		if (pos[c] < 0)
			return false;
	return true;
}

/*
 * direct_allowed: whether a direct insert into rel does what an INSERT
 * would (see the file header).
 */
static bool
direct_allowed(Relation rel)
{
	TupleDesc	td = RelationGetDescr(rel);

	if (rel->rd_rel->relkind != RELKIND_RELATION || rel->rd_rules != NULL)
		return false;
	if (td->constr && (td->constr->num_check > 0 || td->constr->has_generated_stored))
		return false;
	if (check_enable_rls(RelationGetRelid(rel), InvalidOid, true) == RLS_ENABLED)
		return false;
	if (pg_class_aclcheck(RelationGetRelid(rel), GetUserId(), ACL_INSERT) != ACLCHECK_OK)
		return false;
	if (rel->trigdesc)
		for (int i = 0; i < rel->trigdesc->numtriggers; i++)
		{
			Trigger    *t = &rel->trigdesc->triggers[i];

			if (!t->tgisinternal || RI_FKey_trigger_type(t->tgfoid) != RI_TRIGGER_FK)
				return false;
		}
	return true;
}

/*
 * fill_row: the values of one new row into the slot, checking NOT NULL
 * like the executor would.
 */
static void
fill_row(Relation rel, TupleTableSlot *slot, const int *pos, Oid seqid, const NangoRawRow *row)
{
	TupleDesc	td = RelationGetDescr(rel);
	Datum	   *v = slot->tts_values;
	bool	   *isnull = slot->tts_isnull;

	ExecClearTuple(slot);
	memset(isnull, true, sizeof(bool) * td->natts);
	v[pos[RAW_ID]] = Int64GetDatum(nextval_internal(seqid, false));
	v[pos[RAW_SYNC_ID]] = Int64GetDatum(row->sync_id);
	v[pos[RAW_JOB_ID]] = Int64GetDatum(row->job_id);
	v[pos[RAW_DATA]] = JsonbPGetDatum(row->data);
	v[pos[RAW_DATA_HASH]] = CStringGetTextDatum(row->data_hash);
	v[pos[RAW_EMITTED_AT]] = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
	isnull[pos[RAW_ID]] = isnull[pos[RAW_SYNC_ID]] = isnull[pos[RAW_JOB_ID]] = false;
	isnull[pos[RAW_DATA]] = isnull[pos[RAW_DATA_HASH]] = isnull[pos[RAW_EMITTED_AT]] = false;
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
	for (int a = 0; a < td->natts; a++)
		if (isnull[a] && TupleDescAttr(td, a)->attnotnull)
			ereport(ERROR,
					(errcode(ERRCODE_NOT_NULL_VIOLATION),
					 errmsg("null value in column \"%s\" of relation \"nango.raw\" violates not-null constraint",
							NameStr(TupleDescAttr(td, a)->attname))));
	ExecStoreVirtualTuple(slot);
}

/*
 * insert_rows: the rows into rel (its indexes open in rri), with one
 * table_multi_insert, then each row's index entries.
 */
static void
insert_rows(Relation rel, ResultRelInfo *rri, EState *estate, const int *pos, Oid seqid,
			int n, const NangoRawRow *rows)
{
	TupleTableSlot **slots = palloc(sizeof(TupleTableSlot *) * n);
	CommandId	cid = GetCurrentCommandId(true);

	/*
	 * The slots get a copy of the descriptor, which is not reference
	 * counted: slots of the relation's own descriptor would each pin it in
	 * the resource owner, which cost more than the rest of the slot's work
	 * at 1,000 rows per page.
	 */
	TupleDesc	sdesc = CreateTupleDescCopy(RelationGetDescr(rel));

	for (int i = 0; i < n; i++)
	{
		slots[i] = ExecInitExtraTupleSlot(estate, sdesc, table_slot_callbacks(rel));
		fill_row(rel, slots[i], pos, seqid, &rows[i]);
	}
	table_multi_insert(rel, slots, n, cid, 0, NULL);
	for (int i = 0; i < n; i++)
	{
		List	   *recheck;

		ResetPerTupleExprContext(estate);
		recheck = ExecInsertIndexTuples(rri, slots[i], estate, false, false, NULL, NIL);
		list_free(recheck);
	}
}

bool
nango_raw_insert_direct(int n, const NangoRawRow *rows)
{
	Oid			nsp = get_namespace_oid("nango", false);
	Oid			relid = get_relname_relid("raw", nsp);
	Oid			seqid = get_relname_relid("raw_id_seq", nsp);
	Relation	rel;
	int			pos[RAW_NCOLS];
	EState	   *estate;
	ResultRelInfo *rri;

	if (!OidIsValid(relid) || !OidIsValid(seqid))
		return false;
	rel = table_open(relid, RowExclusiveLock);
	if (!direct_allowed(rel) || !raw_column_positions(RelationGetDescr(rel), pos))
	{
		table_close(rel, NoLock);
		return false;
	}
	if (n > 0)
	{
		estate = CreateExecutorState();
		rri = makeNode(ResultRelInfo);
		InitResultRelInfo(rri, rel, 1, NULL, 0);
		ExecOpenIndices(rri, false);
		insert_rows(rel, rri, estate, pos, seqid, n, rows);
		ExecCloseIndices(rri);
		ExecResetTupleTable(estate->es_tupleTable, false);
		FreeExecutorState(estate);
		CommandCounterIncrement();
	}
	table_close(rel, NoLock);
	return true;
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
