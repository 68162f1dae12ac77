/*-------------------------------------------------------------------------
 *
 * launcher.c
 *	  The "nango launcher": a dynamic background worker connected to one
 *	  served database (as the bootstrap superuser) that runs its schedule;
 *	  the supervisor starts one per served database.
 *
 * Every turn of its loop, each step in its own short transaction and each
 * protected so that an ERROR is logged and the loop carries on:
 *	- check that the extension exists (idle with one log line if not, or
 *	  leave when every database is served, '*'); the
 *	  first time it is seen, jobs left 'running' by processes that are gone
 *	  (a crash or restart) are marked failed and their syncs run again;
 *	- reap job workers that ended: a job left 'running' by a worker that
 *	  died is marked failed; the sync's next run is computed (next frequency
 *	  or cron tick, automatic retries of failed jobs with backoff);
 *	- copy the progress jobs publish in shared memory into their rows;
 *	- delete finished jobs older than nango.job_retention;
 *	- start a job worker for each due sync, up to nango.max_workers.
 * Then it sleeps on its latch, which add/update/resume/trigger set at
 * commit and job workers set when they exit, at most nango.poll_interval.
 *
 * Owns: the loop, the launcher's state (LauncherState, passed by pointer
 * to every step), its place in the table of served databases, and the
 * housekeeping steps (extension check, recovery of jobs left running,
 * progress copies, retention).  Must not: decide what runs or when
 * (schedule.c does), fetch from an API, or be called from schedule.c or
 * launchstep.c (see launcher.h).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>
#include <errno.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "catalog.h"
#include "databases.h"
#include "launcher.h"
#include "nango.h"
#include "worker.h"
#include "worker_int.h"

/*
 * live_job_pids: the pids of job workers of this database that are still
 * alive, as an int4[] Datum.
 */
static Datum
live_job_pids(void)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(nango_shared->nslots, 1));
	int			n = 0;

	LWLockAcquire(nango_shared->lock, LW_SHARED);
	for (int i = 0; i < nango_shared->nslots; i++)
	{
		NangoJobSlot *slot = nango_slot(i);

		if (slot->in_use && !slot->exited && slot->pid != 0 && slot->dboid == MyDatabaseId)
			elems[n++] = Int32GetDatum(slot->pid);
	}
	LWLockRelease(nango_shared->lock);
	return PointerGetDatum(construct_array(elems, n, INT4OID, 4, true, TYPALIGN_INT));
}

/*
 * recover: mark failed the jobs left 'running' by processes that are gone
 * (a crash, a restart), notify, and make their syncs run again now.  arg
 * points to a bool set when done.  Rows a user's transaction holds are
 * skipped (a job row then waits for a later sweep; a sync row keeps its
 * schedule), so the launcher never waits for them.
 */
static void
recover(LauncherState *ls, void *arg)
{
	bool	   *done = (bool *) arg;

	Datum		live;
	const char *message;
	int			n;

	live = live_job_pids();
	message = (ls->ext_oid == InvalidOid ?
			  "server restarted while the job was running" :
			  "the job's process ended before the job did");
	if (!nango_launcher_tx_begin(ls, "nango launcher: recovery"))
		return;
	n = catalog_recover_jobs(live, message);
	nango_launcher_tx_commit(ls);
	*done = true;
	if (n > 0)
		nango_log(NANGO_LOG_INFO, LOG,
				  "nango: %d job(s) of database \"%s\" left running by a process that is gone were marked failed; their syncs run again",
				  n, ls->dbname);
}

/*
 * step_extension: is the extension installed?  Idle with one log line when
 * it is not; recover when it (re)appears.
 */
static void
step_extension(LauncherState *ls, void *arg)
{
	Oid			ext;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	ext = get_extension_oid("nango", true);
	CommitTransactionCommand();
	MemoryContextSwitchTo(ls->loop_cxt);

	if (!OidIsValid(ext))
	{
		/* With '*', a database without the extension is not waited in. */
		if (nango_serve_all())
		{
			if (OidIsValid(ls->ext_oid))
				nango_log(NANGO_LOG_INFO, LOG,
						  "nango: extension \"nango\" was dropped in database \"%s\"; its launcher leaves",
						  ls->dbname);
			ls->ext_oid = InvalidOid;
			ls->leave = (nango_db_running_count(MyDatabaseId) == 0);
			return;
		}
		if (!ls->ext_missing_logged)
			nango_log(NANGO_LOG_INFO, LOG,
					  "nango: extension \"nango\" is not installed in database \"%s\"; the launcher waits for CREATE EXTENSION nango",
					  ls->dbname);
		ls->ext_missing_logged = true;
		ls->ext_oid = InvalidOid;
		return;
	}
	ls->ext_missing_logged = false;
	if (ext != ls->ext_oid)
	{
		bool		recovered = false;

		recover(ls, &recovered);
		if (!recovered)
			return;				/* tables locked: try again next turn */
		if (!OidIsValid(ls->ext_oid))
			nango_log(NANGO_LOG_INFO, LOG, "nango launcher started in database \"%s\"", ls->dbname);
		ls->ext_oid = ext;
		ls->last_retention = 0;
	}
}

/*
 * step_progress: copy the progress running jobs of this database published
 * since the last copy into their rows.  Rows locked by their job (which is
 * writing its final state) are skipped rather than waited for.
 */
static void
step_progress(LauncherState *ls, void *arg)
{
	int			n = 0;
	int			np = nango_shared->nprogress;
	Datum	   *ids = palloc(sizeof(Datum) * np);
	Datum	   *pages = palloc(sizeof(Datum) * np);
	Datum	   *fetched = palloc(sizeof(Datum) * np);
	int		   *which = palloc(sizeof(int) * np);
	Datum		values[3];

	for (int i = 0; i < np; i++)
	{
		NangoProgress *p = nango_progress_entry(i);
		int64		job,
					pg,
					f;
		Oid			db;

		SpinLockAcquire(&p->mutex);
		job = p->job_id;
		pg = p->pages;
		f = p->fetched;
		db = p->dboid;
		SpinLockRelease(&p->mutex);
		if (job == 0 || db != MyDatabaseId ||
			(ls->copied_job[i] == job && ls->copied_pages[i] == pg && ls->copied_fetched[i] == f))
			continue;
		ids[n] = Int64GetDatum(job);
		pages[n] = Int64GetDatum(pg);
		fetched[n] = Int64GetDatum(f);
		which[n++] = i;
	}
	if (n == 0)
		return;
	values[0] = PointerGetDatum(construct_array(ids, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	values[1] = PointerGetDatum(construct_array(pages, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	values[2] = PointerGetDatum(construct_array(fetched, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));

	if (!nango_launcher_tx_begin(ls, "nango launcher: job progress"))
		return;
	catalog_copy_progress(values[0], values[1], values[2]);
	nango_launcher_tx_commit(ls);
	for (int k = 0; k < n; k++)
	{
		ls->copied_job[which[k]] = DatumGetInt64(ids[k]);
		ls->copied_pages[which[k]] = DatumGetInt64(pages[k]);
		ls->copied_fetched[which[k]] = DatumGetInt64(fetched[k]);
	}
}

/*
 * step_retention: delete finished jobs older than nango.job_retention
 * (those a user's transaction holds, at a later turn).
 */
static void
step_retention(LauncherState *ls, void *arg)
{
	uint64		n;

	if (nango_job_retention_s <= 0)
		return;
	if (!nango_launcher_tx_begin(ls, "nango launcher: job retention"))
		return;
	n = catalog_delete_old_jobs((double) nango_job_retention_s);
	if (n > 0)
		nango_log(NANGO_LOG_DEBUG, LOG, "nango: deleted %llu job(s) older than nango.job_retention",
				  (unsigned long long) n);
	nango_launcher_tx_commit(ls);
}

/*
 * launcher_exit: forget the launcher in shared memory, saying whether it
 * left because the extension is not installed ('*' mode).
 */
static void
launcher_exit(int code, Datum arg)
{
	LauncherState *ls = (LauncherState *) DatumGetPointer(arg);
	NangoDbEntry *e;

	LWLockAcquire(nango_shared->lock, LW_EXCLUSIVE);
	e = nango_db_find_locked(MyDatabaseId);
	if (e != NULL && e->launcher_pid == MyProcPid)
	{
		e->launcher_pid = 0;
		e->launcher_procno = -1;
		e->wants = 0;
		e->no_extension = ls->leave;
	}
	LWLockRelease(nango_shared->lock);
	nango_wake_supervisor();
}

/*
 * claim_launcher: become the launcher of dboid in shared memory; false
 * when another live launcher already is (a supervisor restarted while it
 * ran), or the database is being dropped or renamed.
 */
static bool
claim_launcher(Oid dboid)
{
	bool		ok;
	NangoDbEntry *e;

	LWLockAcquire(nango_shared->lock, LW_EXCLUSIVE);
	e = nango_db_find_locked(dboid);
	ok = e != NULL &&
		(e->launcher_pid == 0 || (kill(e->launcher_pid, 0) != 0 && errno == ESRCH)) &&
		nango_shared->blocked_dboid != dboid;
	if (ok)
	{
		e->launcher_pid = MyProcPid;
		e->launcher_procno = MyProc->pgprocno;
		e->wants = 0;
	}
	LWLockRelease(nango_shared->lock);
	return ok;
}

/*
 * launcher_init: connect, claim the launcher role, set up local state and
 * the settings the launcher's own queries run with.
 */
static void
launcher_init(LauncherState *ls, Oid dboid)
{
	char		appname[NAMEDATALEN];

	BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);
	StartTransactionCommand();
	appname[0] = '\0';
	strlcat(appname, "nango launcher in ", sizeof(appname));
	strlcat(appname, get_database_name(dboid), sizeof(appname));
	pgstat_report_appname(appname);
	ls->dbname = MemoryContextStrdup(TopMemoryContext, get_database_name(dboid));
	CommitTransactionCommand();
	SetConfigOption("search_path", "pg_catalog", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("lock_timeout", "2000", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("statement_timeout", "60000", PGC_SUSET, PGC_S_OVERRIDE);

	ls->loop_cxt = AllocSetContextCreate(TopMemoryContext, "nango launcher loop",
									   ALLOCSET_DEFAULT_SIZES);
	ls->handles = MemoryContextAllocZero(TopMemoryContext,
									   sizeof(BackgroundWorkerHandle *) * Max(nango_shared->nslots, 1));
	ls->handed = MemoryContextAllocZero(TopMemoryContext, sizeof(int) * Max(nango_shared->nslots, 1));
	ls->copied_job = MemoryContextAllocZero(TopMemoryContext, sizeof(int64) * nango_shared->nprogress);
	ls->copied_pages = MemoryContextAllocZero(TopMemoryContext, sizeof(int64) * nango_shared->nprogress);
	ls->copied_fetched = MemoryContextAllocZero(TopMemoryContext, sizeof(int64) * nango_shared->nprogress);
}

/*
 * launcher_timeout: how long to sleep: nango.poll_interval, at most one
 * second while jobs run (progress), and no later than the next due run.
 */
static long
launcher_timeout(const LauncherState *ls)
{
	long		timeout = nango_poll_interval_ms;
	TimestampTz now = GetCurrentTimestamp();

	if (!OidIsValid(ls->ext_oid))
		return Max(timeout, 1000L);
	if (nango_db_running_count(MyDatabaseId) > 0 || ls->wants > 0)
		timeout = Min(timeout, 1000L);
	if (ls->next_due != 0 && ls->next_due > now)
	{
		long		ms = (long) ((ls->next_due - now) / 1000) + 1;

		timeout = Min(timeout, ms);
	}
	return Max(timeout, 1L);
}

/*
 * nango_launcher_main: entry point; the main argument is the oid of the
 * served database.  SIGTERM ends it at once (die); SIGHUP reloads settings
 * (nango.max_workers, nango.poll_interval, ...).
 */
void
nango_launcher_main(Datum arg)
{
	Oid			dboid = DatumGetObjectId(arg);
	LauncherState *ls;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	ls = MemoryContextAllocZero(TopMemoryContext, sizeof(LauncherState));
	ls->dbname = "?";
	if (nango_shared == NULL || !claim_launcher(dboid))
		proc_exit(0);
	before_shmem_exit(launcher_exit, PointerGetDatum(ls));
	launcher_init(ls, dboid);

	for (;;)
	{
		TimestampTz now;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			ls->last_retention = 0;	/* apply a new nango.job_retention now */
		}
		MemoryContextReset(ls->loop_cxt);
		MemoryContextSwitchTo(ls->loop_cxt);

		nango_launcher_run_step(ls, step_extension, NULL, "checking the extension");
		nango_schedule_reap(ls);
		if (ls->leave)
			proc_exit(0);		/* no extension here ('*' mode) */
		now = GetCurrentTimestamp();
		if (OidIsValid(ls->ext_oid))
		{
			if (TimestampDifferenceExceeds(ls->last_progress, now, 900))
			{
				ls->last_progress = now;
				nango_launcher_run_step(ls, step_progress, NULL, "copying job progress");
			}
			if (TimestampDifferenceExceeds(ls->last_retention, now, 60000))
			{
				bool		swept = false;

				ls->last_retention = now;
				nango_launcher_run_step(ls, step_retention, NULL, "deleting old jobs");
				nango_launcher_run_step(ls, recover, &swept, "sweeping jobs left running");
			}
			nango_launcher_run_step(ls, nango_schedule_start_due, NULL, "starting due syncs");
		}
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 launcher_timeout(ls), PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}
