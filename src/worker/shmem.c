/*-------------------------------------------------------------------------
 *
 * shmem.c
 *	  Shared memory of the background worker and what every backend does
 *	  with it: wake the launcher when a transaction that changed a schedule
 *	  commits, and step the launcher and
 *	  job workers out of the way of DROP DATABASE and ALTER DATABASE
 *	  RENAME (which refuse to run while other backends are connected to
 *	  the database), and tell the supervisor when CREATE EXTENSION nango
 *	  commits.
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
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "tcop/utility.h"
#include "utils/acl.h"

#include "api.h"
#include "databases.h"
#include "nango.h"
#include "worker.h"
#include "worker_int.h"

NangoShared *nango_shared = NULL;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;
static ProcessUtility_hook_type prev_process_utility_hook = NULL;

/* Per-backend state of the transaction callback. */
static bool xact_callback_registered = false;
static bool wake_at_commit = false;
static bool unblock_at_end = false;
static bool allow_jobs_at_end = false;
static bool ext_created_at_commit = false;

/* How long DROP DATABASE waits for our processes to leave (ms). */
#define NANGO_DROPDB_WAIT_MS 10000

/*
 * shared_size: bytes of shared memory needed: the header, one job slot per
 * possible background worker and one progress entry per backend.
 */
static Size
shared_size(void)
{
	Size		size = MAXALIGN(sizeof(NangoShared));

	size = add_size(size, mul_size(max_worker_processes, sizeof(NangoJobSlot)));
	size = add_size(size, mul_size(MaxBackends, sizeof(NangoProgress)));
	return size;
}

/*
 * nango_slot / nango_progress_entry: the i-th job slot and progress entry,
 * laid out after the header.
 */
NangoJobSlot *
nango_slot(int i)
{
	char	   *base = (char *) nango_shared + MAXALIGN(sizeof(NangoShared));

	return ((NangoJobSlot *) base) + i;
}

NangoProgress *
nango_progress_entry(int i)
{
	char	   *base = (char *) nango_shared + MAXALIGN(sizeof(NangoShared));

	base += sizeof(NangoJobSlot) * nango_shared->nslots;
	return ((NangoProgress *) base) + i;
}

/* shmem_request_hook: reserve our shared memory (PG15 way). */
static void
nango_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(shared_size());
}

/*
 * nango_shmem_startup: create (postmaster) or attach to the shared state.
 * After a crash restart the postmaster creates it afresh, which forgets
 * every job worker: they are all gone by then.
 */
static void
nango_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	nango_shared = ShmemInitStruct("nango", shared_size(), &found);
	if (!found)
	{
		memset(nango_shared, 0, shared_size());
		SpinLockInit(&nango_shared->mutex);
		nango_shared->supervisor_procno = -1;
		nango_shared->nslots = max_worker_processes;
		nango_shared->nprogress = MaxBackends;
		for (int i = 0; i < nango_shared->nprogress; i++)
			SpinLockInit(&nango_progress_entry(i)->mutex);
	}
	LWLockRelease(AddinShmemInitLock);
}

/* set_latch_of: set the latch of the process with that pgprocno, if any. */
static void
set_latch_of(int procno)
{
	if (procno >= 0 && procno < (int) ProcGlobal->allProcCount)
		SetLatch(&GetPGProcByNumber(procno)->procLatch);
}

/* nango_wake_launcher: set the latch of this database's launcher now. */
void
nango_wake_launcher(void)
{
	nango_wake_launcher_of(MyDatabaseId);
}

/* nango_wake_supervisor: set the supervisor's latch now. */
void
nango_wake_supervisor(void)
{
	int			procno;

	if (nango_shared == NULL)
		return;
	SpinLockAcquire(&nango_shared->mutex);
	procno = nango_shared->supervisor_procno;
	SpinLockRelease(&nango_shared->mutex);
	set_latch_of(procno);
}

/*
 * nango_xact_callback: at the end of a top-level transaction, wake the
 * launcher when it committed a schedule change, and lift a DROP DATABASE
 * block this backend set.
 */
static void
nango_xact_callback(XactEvent event, void *arg)
{
	bool		commit = (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT);
	bool		abort = (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT);

	if (!commit && !abort)
		return;
	if (commit && wake_at_commit)
		nango_wake_launcher();
	wake_at_commit = false;
	if (commit && ext_created_at_commit)
		nango_db_extension_created(MyDatabaseId);
	ext_created_at_commit = false;
	if ((unblock_at_end || allow_jobs_at_end) && nango_shared != NULL)
	{
		SpinLockAcquire(&nango_shared->mutex);
		if (unblock_at_end)
			nango_shared->blocked_dboid = InvalidOid;
		if (allow_jobs_at_end)
			nango_shared->no_jobs_dboid = InvalidOid;
		SpinLockRelease(&nango_shared->mutex);
		unblock_at_end = false;
		allow_jobs_at_end = false;
		nango_wake_supervisor();
		nango_wake_launcher();
	}
}

/* ensure_xact_callback: register nango_xact_callback once per backend. */
static void
ensure_xact_callback(void)
{
	if (xact_callback_registered)
		return;
	RegisterXactCallback(nango_xact_callback, NULL);
	xact_callback_registered = true;
}

/*
 * nango_wake_launcher_at_commit: the launcher looks for due syncs as soon
 * as the current transaction commits (nothing happens on rollback).
 */
void
nango_wake_launcher_at_commit(void)
{
	if (nango_shared == NULL)
		return;
	ensure_xact_callback();
	wake_at_commit = true;
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

	SpinLockAcquire(&nango_shared->mutex);
	e = nango_db_find_locked(dboid);
	if (e != NULL && e->launcher_pid != 0 && n < max)
		pids[n++] = e->launcher_pid;
	for (int i = 0; with_jobs && i < nango_shared->nslots && n < max; i++)
	{
		NangoJobSlot *slot = nango_slot(i);

		if (slot->in_use && !slot->exited && slot->dboid == dboid && slot->pid != 0)
			pids[n++] = slot->pid;
	}
	SpinLockRelease(&nango_shared->mutex);
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
	SpinLockAcquire(&nango_shared->mutex);
	nango_shared->blocked_dboid = dboid;
	SpinLockRelease(&nango_shared->mutex);
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
	SpinLockAcquire(&nango_shared->mutex);
	nango_shared->no_jobs_dboid = MyDatabaseId;
	SpinLockRelease(&nango_shared->mutex);
	allow_jobs_at_end = true;

	for (;;)
	{
		pid_t		pids[64];
		int			n = 0;

		SpinLockAcquire(&nango_shared->mutex);
		for (int i = 0; i < nango_shared->nslots && n < lengthof(pids); i++)
		{
			NangoJobSlot *slot = nango_slot(i);

			if (slot->in_use && !slot->exited && slot->dboid == MyDatabaseId &&
				slot->pid != 0)
				pids[n++] = slot->pid;
		}
		SpinLockRelease(&nango_shared->mutex);
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
 * nango_shmem_install_hooks: called from _PG_init when preloaded.
 */
void
nango_shmem_install_hooks(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = nango_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = nango_shmem_startup;
	prev_process_utility_hook = ProcessUtility_hook;
	ProcessUtility_hook = nango_process_utility;
}
