/*-------------------------------------------------------------------------
 *
 * directinsert.c
 *	  Inserting a page of new rows without an INSERT statement: one
 *	  table_multi_insert and each row's index entries, the way COPY does.
 *	  Used for nango.raw (rawinsert.c) and for the mapped tables
 *	  (mapwrite.c), which are the hot path of a first sync: the statement's
 *	  cost per row was mostly the executor's set-up and, for nango.raw, the
 *	  foreign key's check, a query per row.
 *
 *	  The rule, the same for every table: the direct path is taken only
 *	  when it writes exactly the rows the caller's statement would and
 *	  every check and side effect the statement has happens the same way;
 *	  otherwise nango_direct_insert returns false, having written nothing,
 *	  and the caller runs its statement.  It is taken when all of these
 *	  hold, and only then:
 *
 *	  - the table is a plain table (not a view, a foreign table or a
 *	    partitioned table, whose rows the executor routes) and not a
 *	    partition (an INSERT into a partition checks its partition
 *	    constraint);
 *	  - it has no rule;
 *	  - it has no trigger of any kind (row or statement level, BEFORE,
 *	    AFTER or INSTEAD OF, for any event, constraint triggers, enabled or
 *	    not: an ON CONFLICT DO UPDATE statement fires UPDATE statement
 *	    triggers even when nothing conflicts), except the internal triggers
 *	    of foreign keys: a foreign key referencing this table (a key in)
 *	    only has triggers for UPDATE and DELETE of this table, which an
 *	    insert never fires; a foreign key of this table (a key out) is
 *	    allowed only when it is the one the caller has checked itself
 *	    (NangoDirectInsert.locked_*: the referencing column, the table and
 *	    column it references), having locked the referenced row FOR KEY
 *	    SHARE, the lock the check takes, to the end of the transaction:
 *	    nango.raw.sync_id, whose sync the store locks once per job.  Any
 *	    other foreign key is checked by the statement;
 *	  - it has no CHECK constraint and no generated column;
 *	  - every column has a plain type: no domain (whose constraints the
 *	    statement checks) and no type modifier (to which the statement
 *	    coerces, rounding a timestamptz(0) say); the caller gives each
 *	    column a value of exactly its type;
 *	  - every index is immediate: a DEFERRABLE unique or exclusion
 *	    constraint is checked at the end of the statement or at commit, by
 *	    a queued trigger the direct path cannot queue.  Immediate unique
 *	    and exclusion constraints, partial indexes and expression indexes
 *	    are maintained and checked by ExecInsertIndexTuples as for the
 *	    statement (an expression runs as the current user, as it would);
 *	  - row-level security does not apply to the current user (the
 *	    statement would check the policies);
 *	  - the current user holds the statement's privileges on the table
 *	    (NangoDirectInsert.privileges) at the table level;
 *	  - every column the statement leaves out gets what its default
 *	    (build_column_default: the column's, or its domain's) would give:
 *	    none (NULL), nextval of a sequence or an identity column of type
 *	    bigint (drawn here, after the statement's permission check on the
 *	    sequence), or now() / CURRENT_TIMESTAMP of a timestamptz column (the
 *	    transaction's start, which is what they return); any other default
 *	    takes the statement;
 *	  - no NOT NULL column gets a null (the statement then reports it).
 *
 *	  Publications and logical replication need no exception: the rows are
 *	  WAL-logged as a heap multi-insert, which logical decoding turns into
 *	  the same INSERT changes as the statement's, and a replica identity is
 *	  needed only for UPDATE and DELETE.
 *
 *	  This file decides and inserts; it must not know which table it
 *	  writes (the caller maps the columns and fills the values), run SQL,
 *	  or take locks beyond the index locks of the insertion.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_constraint.h"
#include "commands/sequence.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "rewrite/rewriteHandler.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "directinsert.h"

/* What the direct path puts into an attribute the caller does not fill. */
typedef enum DefaultKind
{
	DEF_NULL,					/* no default, or a dropped column */
	DEF_SEQUENCE,				/* nextval of seq */
	DEF_NOW						/* the transaction's start */
} DefaultKind;

typedef struct ColumnDefault
{
	DefaultKind kind;
	Oid			seq;
} ColumnDefault;

/*
 * single_att: whether the int2[] attribute attnum of a pg_constraint row
 * holds exactly one column, att.
 */
static bool
single_att(HeapTuple tup, int attnum, AttrNumber att)
{
	bool		isnull;
	Datum		d = SysCacheGetAttr(CONSTROID, tup, attnum, &isnull);
	ArrayType  *arr;

	if (isnull)
		return false;
	arr = DatumGetArrayTypeP(d);
	return ARR_NDIM(arr) == 1 && ARR_DIMS(arr)[0] == 1 && !ARR_HASNULL(arr) &&
		((int16 *) ARR_DATA_PTR(arr))[0] == att;
}

/*
 * locked_key: whether constraint conoid is the foreign key the caller has
 * checked and locked itself (see the file header).
 */
static bool
locked_key(Oid conoid, const NangoDirectInsert *di)
{
	HeapTuple	tup;
	bool		ok;

	if (di->locked_att == InvalidAttrNumber)
		return false;
	tup = SearchSysCache1(CONSTROID, ObjectIdGetDatum(conoid));
	if (!HeapTupleIsValid(tup))
		return false;
	ok = ((Form_pg_constraint) GETSTRUCT(tup))->contype == CONSTRAINT_FOREIGN &&
		((Form_pg_constraint) GETSTRUCT(tup))->confrelid == di->locked_table &&
		single_att(tup, Anum_pg_constraint_conkey, di->locked_att) &&
		single_att(tup, Anum_pg_constraint_confkey, di->locked_ref_att);
	ReleaseSysCache(tup);
	return ok;
}

/*
 * triggers_allow: whether every trigger of rel is one an insert may skip:
 * a foreign key's trigger on the referenced side, or the one foreign key
 * the caller vouches for.
 */
static bool
triggers_allow(Relation rel, const NangoDirectInsert *di)
{
	if (rel->trigdesc == NULL)
		return true;
	for (int i = 0; i < rel->trigdesc->numtriggers; i++)
	{
		Trigger    *t = &rel->trigdesc->triggers[i];
		int			ri = t->tgisinternal ? RI_FKey_trigger_type(t->tgfoid) : RI_TRIGGER_NONE;

		if (ri == RI_TRIGGER_PK)
			continue;
		if (ri == RI_TRIGGER_FK && locked_key(t->tgconstraint, di))
			continue;
		return false;
	}
	return true;
}

/*
 * table_allows: the rule's conditions on the table itself (see the file
 * header), before any index is opened.
 */
static bool
table_allows(Relation rel, const NangoDirectInsert *di)
{
	TupleDesc	td = RelationGetDescr(rel);
	Oid			relid = RelationGetRelid(rel);

	if (rel->rd_rel->relkind != RELKIND_RELATION || rel->rd_rel->relispartition ||
		rel->rd_rules != NULL)
		return false;
	if (td->constr && (td->constr->num_check > 0 || td->constr->has_generated_stored))
		return false;
	for (int a = 0; a < td->natts; a++)
		if (!TupleDescAttr(td, a)->attisdropped &&
			(TupleDescAttr(td, a)->atttypmod != -1 ||
			 get_typtype(TupleDescAttr(td, a)->atttypid) == TYPTYPE_DOMAIN))
			return false;
	if (check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED)
		return false;
	if (pg_class_aclmask(relid, GetUserId(), di->privileges, ACLMASK_ALL) != di->privileges)
		return false;
	return triggers_allow(rel, di);
}

/* indexes_immediate: whether every index of rri is checked immediately. */
static bool
indexes_immediate(ResultRelInfo *rri)
{
	for (int i = 0; i < rri->ri_NumIndices; i++)
		if (!rri->ri_IndexRelationDescs[i]->rd_index->indimmediate)
			return false;
	return true;
}

/*
 * column_default: what attribute a (0-based) of rel gets when the
 * statement leaves it out; false when the direct path cannot give the
 * same (see the file header).
 */
static bool
column_default(Relation rel, int a, ColumnDefault *def)
{
	Form_pg_attribute att = TupleDescAttr(RelationGetDescr(rel), a);
	Node	   *expr;

	def->kind = DEF_NULL;
	def->seq = InvalidOid;
	if (att->attisdropped)
		return true;
	expr = build_column_default(rel, a + 1);
	if (expr == NULL)
		return true;
	if (IsA(expr, NextValueExpr) && att->atttypid == INT8OID)
	{
		def->kind = DEF_SEQUENCE;
		def->seq = ((NextValueExpr *) expr)->seqid;
		return true;
	}
	if (IsA(expr, FuncExpr) && ((FuncExpr *) expr)->funcid == F_NEXTVAL &&
		att->atttypid == INT8OID && list_length(((FuncExpr *) expr)->args) == 1 &&
		IsA(linitial(((FuncExpr *) expr)->args), Const) &&
		!((Const *) linitial(((FuncExpr *) expr)->args))->constisnull)
	{
		def->kind = DEF_SEQUENCE;
		def->seq = DatumGetObjectId(((Const *) linitial(((FuncExpr *) expr)->args))->constvalue);
		/* nextval() checks these privileges on the sequence */
		return pg_class_aclcheck(def->seq, GetUserId(), ACL_USAGE | ACL_UPDATE) == ACLCHECK_OK;
	}
	if (att->atttypid == TIMESTAMPTZOID &&
		((IsA(expr, FuncExpr) && ((FuncExpr *) expr)->funcid == F_NOW) ||
		 (IsA(expr, SQLValueFunction) && ((SQLValueFunction *) expr)->op == SVFOP_CURRENT_TIMESTAMP)))
	{
		def->kind = DEF_NOW;
		return true;
	}
	return false;
}

/*
 * column_defaults: defs[a] for every attribute the caller does not fill;
 * false when one of them has a default the direct path cannot give.
 */
static bool
column_defaults(Relation rel, const NangoDirectInsert *di, ColumnDefault *defs)
{
	TupleDesc	td = RelationGetDescr(rel);

	for (int a = 0; a < td->natts; a++)
	{
		defs[a].kind = DEF_NULL;
		if (TupleDescAttr(td, a)->attisdropped || di->sources[a] == NANGO_DIRECT_VALUE)
			continue;
		if (!column_default(rel, a, &defs[a]))
			return false;
	}
	return true;
}

/*
 * fill_slot: row r into the slot: the caller's values, then the defaults;
 * false when a NOT NULL column would get a null.
 */
static bool
fill_slot(TupleDesc td, const NangoDirectInsert *di, const ColumnDefault *defs, int r,
		  TupleTableSlot *slot)
{
	Datum	   *v = slot->tts_values;
	bool	   *isnull = slot->tts_isnull;

	ExecClearTuple(slot);
	memset(isnull, true, sizeof(bool) * td->natts);
	di->fill(di->arg, r, v, isnull);
	for (int a = 0; a < td->natts; a++)
	{
		if (TupleDescAttr(td, a)->attisdropped)
			isnull[a] = true;
		else if (di->sources[a] == NANGO_DIRECT_VALUE)
			;					/* the caller's */
		else if (defs[a].kind == DEF_SEQUENCE)
		{
			v[a] = Int64GetDatum(nextval_internal(defs[a].seq, false));
			isnull[a] = false;
		}
		else if (defs[a].kind == DEF_NOW)
		{
			v[a] = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
			isnull[a] = false;
		}
		if (isnull[a] && TupleDescAttr(td, a)->attnotnull)
			return false;
	}
	ExecStoreVirtualTuple(slot);
	return true;
}

/*
 * insert_slots: the rows into the heap with one table_multi_insert (through
 * the caller's ring of buffers, when it keeps one), then each row's index
 * entries (checking immediate unique and exclusion constraints as the
 * statement does).
 */
static void
insert_slots(Relation rel, ResultRelInfo *rri, EState *estate, TupleTableSlot **slots, int n,
			 const NangoDirectInsert *di)
{
	BulkInsertState *ring = di->ring;

	if (ring == NULL)
		table_multi_insert(rel, slots, n, GetCurrentCommandId(true), 0, NULL);
	else
	{
		BulkInsertState bis = *ring;

		if (bis == NULL)
		{
			MemoryContext old = MemoryContextSwitchTo(di->ring_cxt);

			bis = GetBulkInsertState();
			MemoryContextSwitchTo(old);
		}
		/* until the pin is released below, an ERROR leaves no state to reuse */
		*ring = NULL;
		table_multi_insert(rel, slots, n, GetCurrentCommandId(true), 0, bis);
		ReleaseBulkInsertStatePin(bis);
		*ring = bis;
	}
	for (int r = 0; r < n; r++)
	{
		ResetPerTupleExprContext(estate);
		list_free(ExecInsertIndexTuples(rri, slots[r], estate, false, false, NULL, NIL));
	}
}

/* nango_direct_insert: see directinsert.h and the file header. */
bool
nango_direct_insert(Relation rel, int n, const NangoDirectInsert *di)
{
	TupleDesc	td = RelationGetDescr(rel);
	ColumnDefault *defs = palloc(sizeof(ColumnDefault) * Max(td->natts, 1));
	EState	   *estate;
	ResultRelInfo *rri;
	TupleTableSlot **slots;
	TupleDesc	sdesc;
	bool		ok;

	if (n <= 0 || !table_allows(rel, di) || !column_defaults(rel, di, defs))
		return false;
	estate = CreateExecutorState();
	rri = makeNode(ResultRelInfo);
	InitResultRelInfo(rri, rel, 1, NULL, 0);
	ExecOpenIndices(rri, false);
	ok = indexes_immediate(rri);

	/*
	 * The slots get a copy of the descriptor, which is not reference
	 * counted: slots of the relation's own descriptor would each pin it in
	 * the resource owner, which cost more than the rest of the slot's work
	 * at 1,000 rows per page.
	 */
	sdesc = CreateTupleDescCopy(td);
	slots = palloc(sizeof(TupleTableSlot *) * n);
	for (int r = 0; ok && r < n; r++)
	{
		slots[r] = ExecInitExtraTupleSlot(estate, sdesc, table_slot_callbacks(rel));
		ok = fill_slot(td, di, defs, r, slots[r]);
	}
	if (ok)
		insert_slots(rel, rri, estate, slots, n, di);
	ExecCloseIndices(rri);
	ExecResetTupleTable(estate->es_tupleTable, false);
	FreeExecutorState(estate);
	pfree(slots);
	pfree(defs);
	if (ok)
		CommandCounterIncrement();
	return ok;
}
