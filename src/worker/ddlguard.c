/*-------------------------------------------------------------------------
 *
 * ddlguard.c
 *	  The utility hook that steps nango's processes out of the way of DDL
 *	  commands that need a database or the extension to themselves.
 *
 * DROP DATABASE and ALTER DATABASE ... RENAME refuse to run while other
 * backends are connected to the database, and CREATE DATABASE ...
 * TEMPLATE while anyone is connected to the template: before them, the
 * launcher (and for DROP and RENAME the job workers) of that database are
 * asked to leave, and no launcher starts there until the command's
 * transaction ends.  Before DROP EXTENSION nango the running jobs of the
 * database are cancelled and no job starts until the transaction ends.
 * When CREATE EXTENSION nango commits, the supervisor serves the database
 * at once.
 *
 * Owns: the ProcessUtility hook and the blocks it sets in shared memory
 * (blocked_dboid, no_jobs_dboid), lifted by its own transaction callback.
 * Must not: run SQL, change nango's tables, or wait without a bound (a
 * DDL command is never made to hang).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>

#include "access/xact.h"
#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "storage/lwlock.h"
#include "tcop/utility.h"
#include "utils/acl.h"

#include "api.h"
#include "databases.h"
#include "nango.h"
#include "worker.h"
#include "worker_int.h"

static ProcessUtility_hook_type prev_process_utility_hook = NULL;

/* Per-backend state of the transaction callback. */
static bool xact_callback_registered = false;
static bool unblock_at_end = false;
static bool allow_jobs_at_end = false;
static bool ext_created_at_commit = false;

/* How long DROP DATABASE waits for our processes to leave (ms). */
#define NANGO_DROPDB_WAIT_MS 10000

/*
 * guard_xact_callback: at the end of a top-level transaction, have a
 * database served where CREATE EXTENSION nango committed, and lift a
 * DROP DATABASE or DROP EXTENSION block this backend set.
 */
static void
guard_xact_callback(XactEvent event, void *arg)
{
	bool		commit = (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT);
	bool		abort = (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT);

	if (!commit && !abort)
		return;
	if (commit && ext_created_at_commit)
		nango_db_extension_created(MyDatabaseId);
	ext_created_at_commit = false;
	if ((unblock_at_end || allow_jobs_at_end) && nango_shared != NULL)
	{
		LWLockAcquire(nango_shared->lock, LW_EXCLUSIVE);
		if (unblock_at_end)
			nango_shared->blocked_dboid = InvalidOid;
		if (allow_jobs_at_end)
			nango_shared->no_jobs_dboid = InvalidOid;
		LWLockRelease(nango_shared->lock);
		unblock_at_end = false;
		allow_jobs_at_end = false;
		nango_wake_supervisor();
		nango_wake_launcher();
	}
}

/* ensure_xact_callback: register guard_xact_callback once per backend. */
static void
ensure_xact_callback(void)
{
	if (xact_callback_registered)
		return;
	RegisterXactCallback(guard_xact_callback, NULL);
	xact_callback_registered = true;
}

/*
 * collect_db_pids: the pids of our processes connected to dboid (the
 * launcher and, with_jobs, job workers), up to max; returns how many.
 */
static int
collect_db_pids(Oid dboid, bool with_jobs, pid_t *pids, int max)
{
	int			n = 0;

	NangoDbEntry *e;

	LWLockAcquire(nango_shared->lock, LW_SHARED);
	e = nango_db_find_locked(dboid);
	if (e != NULL && e->launcher_pid != 0 && n < max)
		pids[n++] = e->launcher_pid;
	for (int i = 0; with_jobs && i < nango_shared->nslots && n < max; i++)
	{
		NangoJobSlot *slot = nango_slot(i);

		if (slot->in_use && !slot->exited && slot->dboid == dboid && slot->pid != 0)
			pids[n++] = slot->pid;
	}
	LWLockRelease(nango_shared->lock);
	return n;
}

/*
 * clear_database: before DROP or RENAME of database dbname (served or
 * being probed: any database may be), ask our
 * processes connected to it to exit and wait (bounded) until they have;
 * before it is copied (CREATE DATABASE ... TEMPLATE), only the launcher
 * (running jobs are not interrupted for a copy; while they run the copy
 * fails as with any other session).
 * The supervisor starts no launcher there until this transaction ends.
 * Only done for a caller who owns the database: anyone else's command
 * fails its own permission check and must not disturb running jobs.
 */
static void
clear_database(const char *dbname, bool with_jobs)
{
	Oid			dboid;
	pid_t		pids[64];
	int			waited = 0;

	if (nango_shared == NULL || dbname == NULL)
		return;
	dboid = get_database_oid(dbname, true);
	if (!OidIsValid(dboid) || !pg_database_ownercheck(dboid, GetUserId()))
		return;

	ensure_xact_callback();
	LWLockAcquire(nango_shared->lock, LW_EXCLUSIVE);
	nango_shared->blocked_dboid = dboid;
	LWLockRelease(nango_shared->lock);
	unblock_at_end = true;

	for (;;)
	{
		int			n = collect_db_pids(dboid, with_jobs, pids, lengthof(pids));

		if (n == 0 || waited >= NANGO_DROPDB_WAIT_MS)
			break;
		for (int i = 0; i < n; i++)
			kill(pids[i], SIGTERM);
		CHECK_FOR_INTERRUPTS();
		pg_usleep(50 * 1000L);
		waited += 50;
	}
}

/* template_of: the TEMPLATE option of CREATE DATABASE, or NULL. */
static const char *
template_of(CreatedbStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->options)
	{
		DefElem    *def = lfirst(lc);

		if (strcmp(def->defname, "template") == 0 && def->arg != NULL)
			return defGetString(def);
	}
	return NULL;
}

/*
 * drops_nango: is this DROP EXTENSION about nango, run by someone allowed
 * to drop it?
 */
static bool
drops_nango(DropStmt *stmt)
{
	ListCell   *lc;
	Oid			ext;

	if (stmt->removeType != OBJECT_EXTENSION)
		return false;
	foreach(lc, stmt->objects)
	{
		Node	   *obj = lfirst(lc);

		if (IsA(obj, String) && strcmp(strVal(obj), "nango") == 0)
		{
			ext = get_extension_oid("nango", true);
			return OidIsValid(ext) && pg_extension_ownercheck(ext, GetUserId());
		}
	}
	return false;
}

/*
 * cancel_jobs_for_drop: before DROP EXTENSION nango, cancel the jobs that
 * job workers run in this database (they end as 'cancelled') and wait
 * (bounded) until they are gone, with the launcher starting no new job
 * until this transaction ends.  A job holds locks on nango's tables until
 * it ends, and DROP EXTENSION takes its locks one table at a time, so
 * letting both run could deadlock and fail the DROP.
 */
static void
cancel_jobs_for_drop(void)
{
	int			waited = 0;

	if (nango_shared == NULL || !OidIsValid(MyDatabaseId))
		return;
	ensure_xact_callback();
	LWLockAcquire(nango_shared->lock, LW_EXCLUSIVE);
	nango_shared->no_jobs_dboid = MyDatabaseId;
	LWLockRelease(nango_shared->lock);
	allow_jobs_at_end = true;

	for (;;)
	{
		pid_t		pids[64];
		int			n = 0;

		LWLockAcquire(nango_shared->lock, LW_SHARED);
		for (int i = 0; i < nango_shared->nslots && n < lengthof(pids); i++)
		{
			NangoJobSlot *slot = nango_slot(i);

			if (slot->in_use && !slot->exited && slot->dboid == MyDatabaseId &&
				slot->pid != 0)
				pids[n++] = slot->pid;
		}
		LWLockRelease(nango_shared->lock);
		if (n == 0 || waited >= NANGO_DROPDB_WAIT_MS)
			break;
		if (waited % 1000 == 0)
			for (int i = 0; i < n; i++)
				kill(pids[i], SIGINT);
		CHECK_FOR_INTERRUPTS();
		pg_usleep(50 * 1000L);
		waited += 50;
	}
}

/*
 * creates_nango: is this a CREATE EXTENSION nango that will create it (it
 * does not exist yet)?
 */
static bool
creates_nango(Node *node)
{
	return IsA(node, CreateExtensionStmt) &&
		strcmp(((CreateExtensionStmt *) node)->extname, "nango") == 0 &&
		!OidIsValid(get_extension_oid("nango", true));
}

/*
 * extension_created: CREATE EXTENSION nango ran in this database: at
 * commit the supervisor serves it (within a second, no restart); when the
 * worker does not serve it, warn now (README.md).
 */
static void
extension_created(void)
{
	if (!OidIsValid(get_extension_oid("nango", true)))
		return;
	ensure_xact_callback();
	ext_created_at_commit = true;
	nango_warn_not_scheduled();
}

/*
 * nango_process_utility: ProcessUtility_hook; cancels running jobs before
 * DROP EXTENSION nango, clears a database of our processes before DROP
 * DATABASE, ALTER DATABASE ... RENAME and CREATE DATABASE ... TEMPLATE, and
 * has a database served as soon as CREATE EXTENSION nango commits there.
 */
static void
nango_process_utility(PlannedStmt *pstmt, const char *queryString,
					  bool readOnlyTree, ProcessUtilityContext context,
					  ParamListInfo params, QueryEnvironment *queryEnv,
					  DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *node = pstmt->utilityStmt;
	bool		creates = creates_nango(node);

	if (IsA(node, DropStmt) && drops_nango((DropStmt *) node))
		cancel_jobs_for_drop();
	else if (IsA(node, DropdbStmt))
		clear_database(((DropdbStmt *) node)->dbname, true);
	else if (IsA(node, RenameStmt) &&
			 ((RenameStmt *) node)->renameType == OBJECT_DATABASE)
		clear_database(((RenameStmt *) node)->subname, true);
	else if (IsA(node, CreatedbStmt))
		clear_database(template_of((CreatedbStmt *) node), false);

	if (prev_process_utility_hook)
		prev_process_utility_hook(pstmt, queryString, readOnlyTree, context,
								  params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
	if (creates)
		extension_created();
}

/*
 * nango_ddlguard_install_hook: called from _PG_init when preloaded.
 */
void
nango_ddlguard_install_hook(void)
{
	prev_process_utility_hook = ProcessUtility_hook;
	ProcessUtility_hook = nango_process_utility;
}
