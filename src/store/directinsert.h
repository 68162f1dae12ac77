/*-------------------------------------------------------------------------
 *
 * directinsert.h
 *	  Inserting a page of new rows without an INSERT statement, for
 *	  nango.raw and the mapped tables alike (directinsert.c says when it
 *	  is used and when the caller's statement runs instead).
 *
 *-------------------------------------------------------------------------
 */
#ifndef NANGO_DIRECTINSERT_H
#define NANGO_DIRECTINSERT_H

#include "postgres.h"

#include "access/heapam.h"
#include "nodes/parsenodes.h"
#include "utils/relcache.h"

/* Where the direct insert takes an attribute's value from. */
typedef enum NangoDirectSource
{
	NANGO_DIRECT_VALUE,			/* the caller's fill: a column the statement names */
	NANGO_DIRECT_DEFAULT		/* the column's default: one the statement leaves out */
} NangoDirectSource;

/*
 * NangoDirectFill: puts row r's values into values[]/isnull[] (indexed by
 * attribute, 0-based) for the attributes whose source is
 * NANGO_DIRECT_VALUE; every entry is null when it is called.  The values
 * must live until nango_direct_insert returns.
 */
typedef void (*NangoDirectFill) (void *arg, int r, Datum *values, bool *isnull);

/* The statement a direct insert stands in for, and what the caller vouches for. */
typedef struct NangoDirectInsert
{
	AclMode		privileges;		/* what the statement needs on the table:
								 * ACL_INSERT, with ACL_SELECT | ACL_UPDATE
								 * for ON CONFLICT DO UPDATE */
	AttrNumber	locked_att;		/* a column whose foreign key the caller has
								 * checked itself, holding FOR KEY SHARE on the
								 * referenced row to the end of the
								 * transaction; InvalidAttrNumber for none */
	Oid			locked_table;	/* the table that foreign key references */
	AttrNumber	locked_ref_att; /* the referenced column the lock matched */
	const NangoDirectSource *sources;	/* one per attribute of the table
										 * (a dropped one's is ignored) */
	NangoDirectFill fill;
	void	   *arg;
	BulkInsertState *ring;		/* the caller's bulk-insert state for this
								 * table, kept across its pages (see
								 * nango_direct_insert), or NULL */
	MemoryContext ring_cxt;		/* where *ring is made when it is NULL */
} NangoDirectInsert;

/*
 * nango_direct_insert: inserts n rows (n > 0) into rel, opened with
 * RowExclusiveLock, with one table_multi_insert and each row's index
 * entries, as COPY does, then makes them visible (CommandCounterIncrement).
 * Returns false, having inserted nothing, when that would not do exactly
 * what the caller's statement does (then the caller runs the statement).
 * Sequence values drawn before it gives up are not returned (a gap, as
 * after a failed INSERT).
 *
 * With di->ring, the heap's new pages go through *ring (made here in
 * di->ring_cxt, which must outlive the caller's pages, when it is NULL):
 * a ring of buffers, as COPY uses, so a long job neither pushes the rest
 * of the database out of shared buffers nor takes a fresh buffer per new
 * page.  No buffer stays
 * pinned after the call (it may be followed by a commit or a subtransaction's
 * end); an ERROR in the call sets *ring to NULL (its pin is released by the
 * abort, so the state is dropped rather than reused).
 */
extern bool nango_direct_insert(Relation rel, int n, const NangoDirectInsert *di);

#endif							/* NANGO_DIRECTINSERT_H */
