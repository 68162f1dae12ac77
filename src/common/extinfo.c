/*-------------------------------------------------------------------------
 *
 * extinfo.c
 *	  What the installed nango extension is: its owner (read from
 *	  pg_extension once per transaction) and whether one of its tables has a
 *	  column.  Read-only catalog lookups; it changes no identity and writes
 *	  nothing.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_extension.h"
#include "storage/proc.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "extinfo.h"

/* The extension owner read last, and the transaction it was read in. */
static Oid	owner_cache = InvalidOid;
static LocalTransactionId owner_cache_lxid = InvalidLocalTransactionId;

/*
 * nango_extension_owner: the owner of the nango extension, read from
 * pg_extension once per transaction (every write to nango's tables asks
 * for it, several times per page).  Only REASSIGN OWNED or a DROP and
 * CREATE EXTENSION change it, which a job does not do in the middle of its
 * transaction; the owner is a superuser either way (nango.control).
 * Errors out when the extension is not installed.
 */
Oid
nango_extension_owner(void)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			owner = InvalidOid;

	if (OidIsValid(owner_cache) && MyProc != NULL && owner_cache_lxid == MyProc->lxid)
		return owner_cache;
	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber,
				F_NAMEEQ, CStringGetDatum("nango"));
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
		owner = ((Form_pg_extension) GETSTRUCT(tup))->extowner;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	if (!OidIsValid(owner))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"nango\" is not installed in this database"),
				 errhint("Run CREATE EXTENSION nango.")));
	if (MyProc != NULL)
	{
		owner_cache = owner;
		owner_cache_lxid = MyProc->lxid;
	}
	return owner;
}

/* nango_has_column: see extinfo.h. */
bool
nango_has_column(const char *table, const char *column)
{
	Oid			nsp = get_namespace_oid("nango", true);
	Oid			rel = OidIsValid(nsp) ? get_relname_relid(table, nsp) : InvalidOid;

	return OidIsValid(rel) && get_attnum(rel, column) != InvalidAttrNumber;
}
