/*-------------------------------------------------------------------------
 *
 * roles.c
 *	  Identity switching: nango_push_role / nango_push_owner and
 *	  nango_pop_role, the guard that keeps a sync owner's code from creating
 *	  temporary objects in the caller's session, and the pinned search_path.
 *	  It owns the current user and security context while nango runs SQL;
 *	  it runs no statement of its own on nango's tables.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/objectaccess.h"
#include "catalog/objectaddress.h"
#include "miscadmin.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "extinfo.h"
#include "roles.h"

/*
 * True while the code of a sync's owner runs for another role (between
 * nango_push_owner and nango_pop_role of a restricted switch).  An error
 * can leave it set until the end of the transaction, which clears it; it
 * only counts inside a security-restricted operation.
 */
static bool owner_code_restricted = false;
static bool owner_guard_installed = false;
static object_access_hook_type prev_object_access_hook = NULL;

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

/* nango_pin_search_path: see roles.h. */
int
nango_pin_search_path(void)
{
	int			nestlevel = NewGUCNestLevel();

	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	return nestlevel;
}

/* nango_unpin_search_path: see roles.h. */
void
nango_unpin_search_path(int nestlevel)
{
	AtEOXact_GUC(true, nestlevel);
}

