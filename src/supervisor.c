/*-------------------------------------------------------------------------
 *
 * supervisor.c
 *	  The "nango supervisor": a static background worker, connected to no
 *	  database, that keeps one launcher running in nango.database.
 *
 * A background worker can only connect to a database that exists, and
 * connecting to a missing one is a FATAL error.  Restarting a launcher
 * that connects directly would fill the log with that error while the
 * database is missing (and would fight DROP DATABASE).  The supervisor
 * instead looks the database up in the shared catalog, says once that it
 * is missing, and starts the launcher when it exists and nobody is
 * dropping or renaming it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "commands/dbcommands.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "nango.h"
#include "worker.h"
#include "worker_int.h"

/* Shortest time between two launcher starts (ms): no restart storms. */
#define LAUNCHER_RESTART_MS 2000

/*
 * lookup_database: the oid of nango.database when it exists and accepts
 * connections, otherwise InvalidOid with *why saying what is wrong.  With
 * no database selected only a heap scan of the shared catalog works (as in
 * the logical replication launcher).
 */
static Oid
lookup_database(const char **why)
{
	Oid			dboid = InvalidOid;
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;

	*why = "does not exist";
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		Form_pg_database db = (Form_pg_database) GETSTRUCT(tup);

		if (strcmp(NameStr(db->datname), nango_database) != 0)
			continue;
		if (db->datallowconn)
			dboid = db->oid;
		else
			*why = "does not allow connections";
		break;
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	PopActiveSnapshot();
	CommitTransactionCommand();
	return dboid;
}

/*
 * start_launcher: register the launcher as a dynamic worker connected to
 * dboid; the supervisor is told when it stops.
 */
static BackgroundWorkerHandle *
start_launcher(Oid dboid)
{
	BackgroundWorker w;
	BackgroundWorkerHandle *handle;

	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "nango");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "nango_launcher_main");
	snprintf(w.bgw_name, BGW_MAXLEN, "nango launcher");
	snprintf(w.bgw_type, BGW_MAXLEN, "nango launcher");
	w.bgw_main_arg = ObjectIdGetDatum(dboid);
	w.bgw_notify_pid = MyProcPid;
	if (!RegisterDynamicBackgroundWorker(&w, &handle))
	{
		nango_log(NANGO_LOG_WARNING, WARNING,
				  "nango: could not start the launcher: no free background worker slot");
		return NULL;
	}
	return handle;
}

/* supervisor_exit: forget our latch in shared memory. */
static void
supervisor_exit(int code, Datum arg)
{
	SpinLockAcquire(&nango_shared->mutex);
	nango_shared->supervisor_procno = -1;
	SpinLockRelease(&nango_shared->mutex);
}

/*
 * supervise_once: one look at the launcher and the database; starts the
 * launcher when it is needed and allowed.  Returns the handle to keep.
 */
static BackgroundWorkerHandle *
supervise_once(BackgroundWorkerHandle *handle, TimestampTz *last_start)
{
	pid_t		pid;
	const char *why;
	Oid			dboid;
	bool		blocked;
	pid_t		other;

	if (handle != NULL && GetBackgroundWorkerPid(handle, &pid) != BGWH_STOPPED)
		return handle;
	if (handle != NULL)
		pfree(handle);
	handle = NULL;

	dboid = lookup_database(&why);
	if (!OidIsValid(dboid))
	{
		if (!nango_shared->db_missing_logged)
			nango_log(NANGO_LOG_INFO, LOG,
					  "nango: database \"%s\" (nango.database) %s; the launcher waits for it",
					  nango_database, why);
		nango_shared->db_missing_logged = true;
		return NULL;
	}
	SpinLockAcquire(&nango_shared->mutex);
	blocked = (nango_shared->blocked_dboid == dboid);
	other = nango_shared->launcher_pid;
	SpinLockRelease(&nango_shared->mutex);
	/* A launcher started before this supervisor restarted still runs. */
	if (other != 0 && kill(other, 0) == 0)
		return NULL;
	if (blocked || !TimestampDifferenceExceeds(*last_start, GetCurrentTimestamp(),
											   LAUNCHER_RESTART_MS))
		return NULL;
	*last_start = GetCurrentTimestamp();
	return start_launcher(dboid);
}

/*
 * nango_supervisor_main: entry point of the static worker.  SIGTERM ends it
 * (die), SIGHUP reloads settings; it exits with the postmaster.
 */
void
nango_supervisor_main(Datum arg)
{
	BackgroundWorkerHandle *handle = NULL;
	TimestampTz last_start = 0;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);
	pgstat_report_appname("nango supervisor");

	SpinLockAcquire(&nango_shared->mutex);
	nango_shared->supervisor_procno = MyProc->pgprocno;
	SpinLockRelease(&nango_shared->mutex);
	before_shmem_exit(supervisor_exit, (Datum) 0);

	for (;;)
	{
		bool		running;
		pid_t		pid;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		handle = supervise_once(handle, &last_start);
		running = (handle != NULL && GetBackgroundWorkerPid(handle, &pid) != BGWH_STOPPED);
		if (running)
			nango_shared->db_missing_logged = false;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 running ? 10000L : 1000L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}
