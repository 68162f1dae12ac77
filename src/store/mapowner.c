/*-------------------------------------------------------------------------
 *
 * mapowner.c
 *	  Whose mapped table it is (docs/security.md): a sync writes only into
 *	  a table its owner owns or has the privileges of, a name in schema
 *	  nango is not taken from another role's sync, and no deferred trigger
 *	  of the table would fire for a role other than the sync's owner.
 *
 *	  This file checks and raises errors; it must not create, change or
 *	  write the table.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "mapping.h"
#include "catalog.h"
#include "mapping_int.h"

/*
 * owner_may_use: whether role may write into a table owned by relowner:
 * it owns it or has the privileges of its owner role.  For a superuser,
 * who has the privileges of every role, the owner must be a superuser too
 * or a role it is a member of: otherwise the code of any role (a trigger
 * on its table) would run with a superuser's rights.
 */
static bool
owner_may_use(Oid role, Oid relowner)
{
	if (role == relowner)
		return true;
	if (superuser_arg(role))
		return superuser_arg(relowner) || is_member_of_role_nosuper(role, relowner);
	return has_privs_of_role(role, relowner);
}

/*
 * check_table_owner: the mapped table relid (named qualname) belongs to
 * the sync's owner (docs/security.md): owner_may_use, or ERROR 42501 naming
 * the table's owner.
 */
void
check_table_owner(Oid relid, const char *qualname, Oid owner)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			relowner;

	if (!HeapTupleIsValid(tup))
		return;					/* dropped meanwhile: nothing to check */
	relowner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	if (owner_may_use(owner, relowner))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied for mapped_table %s: it is owned by role \"%s\", not by the sync's owner \"%s\"",
					qualname, GetUserNameFromId(relowner, false), GetUserNameFromId(owner, false)),
			 errdetail("A sync writes only into a table that its owner owns or has the privileges of "
					   "(for a superuser: a table of a superuser or of a role it is a member of), "
					   "since code on the table runs with the rights of the role that writes."),
			 errhint("Choose another mapped_table, or let the table's owner run the sync.")));
}

/*
 * check_name_claimed: a mapped table in schema nango that does not exist
 * yet is created by the first job of a sync that names it, and belongs to
 * that sync's owner (elsewhere, the schema's CREATE privilege decides who
 * may create it, as for any table).  When a sync of another role (one whose table owner may not use,
 * owner_may_use) already names it, the first job to run would take the
 * table from the other: ERROR 42501 naming that role, at add_sync and
 * update_sync rather than at a job.  Runs inside SPI (an api_begin scope).
 */
static void
check_name_claimed(int64 sync_id, const char *mapped_table, const char *qualname, Oid owner)
{
	int			n;
	Oid		   *others = catalog_mapped_table_owners(mapped_table, sync_id, &n);

	for (int i = 0; i < n; i++)
	{
		Oid			other = others[i];

		if (OidIsValid(other) && !owner_may_use(owner, other))
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied for mapped_table %s: a sync of role \"%s\" maps into it",
							qualname, GetUserNameFromId(other, true) ? GetUserNameFromId(other, true) : "(dropped)"),
					 errdetail("The table does not exist yet; the first job of a sync that names it creates it "
							   "for that sync's owner, so two roles cannot share it."),
					 errhint("Choose another mapped_table.")));
	}
}

/* nango_map_check_owner: see mapping.h. */
void
nango_map_check_owner(int64 sync_id, const char *mapped_table, Oid owner)
{
	char	   *nsp,
			   *rel;
	Oid			nspid;
	Oid			relid;

	resolve_name(sync_id, mapped_table, &nsp, &rel);
	nspid = get_namespace_oid(nsp, true);
	relid = OidIsValid(nspid) ? get_relname_relid(rel, nspid) : InvalidOid;
	if (OidIsValid(relid))
		check_table_owner(relid, quote_qualified_identifier(nsp, rel), owner);
	else if (strcmp(nsp, "nango") == 0)
		check_name_claimed(sync_id, mapped_table, quote_qualified_identifier(nsp, rel), owner);
}

/*
 * check_deferred_triggers: inside a security-restricted operation (the
 * sync's owner's code run for another role, see nango_push_owner), a
 * trigger of the table or its partitions that fires at commit for the
 * events in events (TRIGGER_TYPE_* bits) would fire with the caller's
 * rights, and PostgreSQL refuses to queue it there.  Says so before any
 * row is written, with what to do.  A DEFERRABLE INITIALLY IMMEDIATE
 * trigger passes: should the caller's SET CONSTRAINTS defer it,
 * PostgreSQL's own error stops it.
 */
void
check_deferred_triggers(Oid relid, const char *qualname, int16 events, const char *hint)
{
	List	   *rels;
	ListCell   *lc;

	if (!InSecurityRestrictedOperation())
		return;
	rels = find_all_inheritors(relid, NoLock, NULL);
	foreach(lc, rels)
	{
		Relation	tgrel = table_open(TriggerRelationId, AccessShareLock);
		ScanKeyData key;
		SysScanDesc scan;
		HeapTuple	tup;
		char	   *found = NULL;

		ScanKeyInit(&key, Anum_pg_trigger_tgrelid, BTEqualStrategyNumber, F_OIDEQ,
					ObjectIdGetDatum(lfirst_oid(lc)));
		scan = systable_beginscan(tgrel, TriggerRelidNameIndexId, true, NULL, 1, &key);
		while (found == NULL && HeapTupleIsValid(tup = systable_getnext(scan)))
		{
			Form_pg_trigger tg = (Form_pg_trigger) GETSTRUCT(tup);

			if (tg->tgdeferrable && tg->tginitdeferred && tg->tgenabled != TRIGGER_DISABLED &&
				(tg->tgtype & events) != 0)
				found = pstrdup(NameStr(tg->tgname));
		}
		systable_endscan(scan);
		table_close(tgrel, AccessShareLock);
		if (found != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("mapped_table %s has a deferred trigger \"%s\", which cannot run for a role other than the sync's owner",
							qualname, found),
					 errdetail("A deferred trigger fires at commit in the session of the role that acts on the sync, "
							   "with that role's rights; nango runs the code of a sync's owner only as the owner, "
							   "in a security-restricted operation, where PostgreSQL does not allow deferred triggers."),
					 errhint("%s", hint)));
	}
}
