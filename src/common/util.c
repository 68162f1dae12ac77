/*-------------------------------------------------------------------------
 *
 * util.c
 *	  Small helpers shared by the modules: identity switching and lookups.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/objectaccess.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_extension.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/syscache.h"
#include "access/table.h"
#include "access/genam.h"
#include "access/relscan.h"
#include "access/skey.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_index.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "util.h"

/*
 * True while the code of a sync's owner runs for another role (between
 * nango_push_owner and nango_pop_role of a restricted switch).  An error
 * can leave it set until the end of the transaction, which clears it; it
 * only counts inside a security-restricted operation.
 */
static bool owner_code_restricted = false;
static bool owner_guard_installed = false;
static object_access_hook_type prev_object_access_hook = NULL;

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

/*
 * nango_push_role: become role for the writes that follow, remembering the
 * identity to return to.
 */
void
nango_push_role(Oid role, NangoSavedRole *saved)
{
	bool		pin = (role == nango_extension_owner());

	GetUserIdAndSecContext(&saved->userid, &saved->sec_context);
	saved->guc_level = NewGUCNestLevel();
	saved->restricted = false;
	if (pin)
		(void) set_config_option("search_path", "pg_catalog, pg_temp",
								 PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
	SetUserIdAndSecContext(role, saved->sec_context | SECURITY_LOCAL_USERID_CHANGE);
}

/*
 * owner_guard_hook: PostgreSQL refuses temporary tables and types in a
 * security-restricted operation but lets functions, operators, collations
 * and the like be created in the temporary schema, which is the caller's
 * session's: while the code of a sync's owner runs for another role, the
 * creation of any object in a temporary schema is refused (42501).  The
 * new row is read with SnapshotSelf: the catalogs do not show it yet.
 */
static void
owner_guard_hook(ObjectAccessType access, Oid classId, Oid objectId, int subId, void *arg)
{
	if (prev_object_access_hook)
		prev_object_access_hook(access, classId, objectId, subId, arg);
	if (access == OAT_POST_CREATE && subId == 0 && owner_code_restricted &&
		InSecurityRestrictedOperation() && is_objectclass_supported(classId) &&
		get_object_attnum_namespace(classId) != InvalidAttrNumber)
	{
		Relation	rel = table_open(classId, AccessShareLock);
		ScanKeyData key;
		SysScanDesc scan;
		HeapTuple	tup;
		Oid			nsp = InvalidOid;
		bool		isnull;

		ScanKeyInit(&key, get_object_attnum_oid(classId), BTEqualStrategyNumber,
					F_OIDEQ, ObjectIdGetDatum(objectId));
		scan = systable_beginscan(rel, get_object_oid_index(classId), true, SnapshotSelf, 1, &key);
		tup = systable_getnext(scan);
		if (HeapTupleIsValid(tup))
		{
			Datum		d = heap_getattr(tup, get_object_attnum_namespace(classId),
										 RelationGetDescr(rel), &isnull);

			if (!isnull)
				nsp = DatumGetObjectId(d);
		}
		systable_endscan(scan);
		table_close(rel, AccessShareLock);
		if (OidIsValid(nsp) && isAnyTempNamespace(nsp))
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("cannot create temporary objects within security-restricted operation"),
					 errdetail("The code of a sync's owner runs here for another role, whose session it must not change."),
					 errhint("Create the object in a schema of the sync's owner.")));
	}
}

/*
 * owner_guard_xact: the end of a transaction ends every restricted switch.
 */
static void
owner_guard_xact(XactEvent event, void *arg)
{
	owner_code_restricted = false;
}

/*
 * nango_push_owner: become owner, a sync's owner, to run what touches the
 * sync's mapped table.  When caller (the role nango acts for) is not owner,
 * as in a superuser's run_sync, the switch is a security-restricted
 * operation, as REFRESH MATERIALIZED VIEW's: the owner's code (triggers,
 * defaults, index expressions, ...) can then neither switch identity back
 * nor create temporary objects, cursors WITH HOLD or LISTEN in the
 * caller's session, nor queue deferred triggers, which would fire later
 * with the caller's rights; and nango_pop_role undoes every setting it
 * changed.
 */
void
nango_push_owner(Oid owner, Oid caller, NangoSavedRole *saved)
{
	GetUserIdAndSecContext(&saved->userid, &saved->sec_context);
	saved->guc_level = NewGUCNestLevel();
	saved->restricted = (owner != caller);
	saved->was_restricted = owner_code_restricted;
	if (saved->restricted)
	{
		if (!owner_guard_installed)
		{
			prev_object_access_hook = object_access_hook;
			object_access_hook = owner_guard_hook;
			RegisterXactCallback(owner_guard_xact, NULL);
			owner_guard_installed = true;
		}
		owner_code_restricted = true;
	}
	SetUserIdAndSecContext(owner, saved->sec_context | SECURITY_LOCAL_USERID_CHANGE |
						   (saved->restricted ? SECURITY_RESTRICTED_OPERATION : 0));
}

/*
 * nango_pop_role: return to the identity saved by nango_push_role or
 * nango_push_owner.  After a restricted switch, every setting changed
 * since (by set_config in a trigger, say) gets its previous value back,
 * as at the end of REFRESH MATERIALIZED VIEW; otherwise only the
 * search_path pinned by nango_push_role is restored.
 */
void
nango_pop_role(NangoSavedRole *saved)
{
	AtEOXact_GUC(!saved->restricted, saved->guc_level);
	SetUserIdAndSecContext(saved->userid, saved->sec_context);
	if (saved->restricted)
		owner_code_restricted = saved->was_restricted;
}

int
nango_pin_search_path(void)
{
	int			nestlevel = NewGUCNestLevel();

	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	return nestlevel;
}

void
nango_unpin_search_path(int nestlevel)
{
	AtEOXact_GUC(true, nestlevel);
}

/*
 * The key filter: 1 MB whatever the number of keys (about 2% false
 * positives at 1,000,000 keys, each costing only the lookup it would have
 * cost anyway).
 */
#define KEY_FILTER_KEYS 1000000
#define KEY_FILTER_KB 1024

/* nango_key_filter_create: see util.h. */
bloom_filter *
nango_key_filter_create(void)
{
	return bloom_create(KEY_FILTER_KEYS, KEY_FILTER_KB, UINT64CONST(0x6e616e676f6b6579));
}

/* nango_key_filter_lacks: see util.h. */
bool
nango_key_filter_lacks(bloom_filter *filter, const char *key)
{
	return filter != NULL && bloom_lacks_element(filter, (unsigned char *) key, strlen(key));
}

/* nango_key_filter_add: see util.h. */
void
nango_key_filter_add(bloom_filter *filter, const char *key)
{
	if (filter != NULL)
		bloom_add_element(filter, (unsigned char *) key, strlen(key));
}

/* nango_key_index_open: see util.h. */
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

/* nango_key_probe: see util.h. */
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

/* nango_has_column: see util.h. */
bool
nango_has_column(const char *table, const char *column)
{
	Oid			nsp = get_namespace_oid("nango", true);
	Oid			rel = OidIsValid(nsp) ? get_relname_relid(table, nsp) : InvalidOid;

	return OidIsValid(rel) && get_attnum(rel, column) != InvalidAttrNumber;
}
