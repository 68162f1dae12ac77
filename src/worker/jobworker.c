/*-------------------------------------------------------------------------
 *
 * jobworker.c
 *	  A job worker: a dynamic background worker that runs a job of a sync,
 *	  connected to the sync's database as its owner; then, instead of
 *	  exiting, it may run the next due job of the same database and owner
 *	  that the launcher hands it through its slot (see "Reuse" below).
 *
 * The job row is created and committed in a first transaction, so that a
 * crash or a kill during the job leaves a visible 'running' row for the
 * launcher to mark failed.  The job itself runs in a second transaction
 * (a job with checkpoints commits it on the way and goes on in new ones);
 * nango_job_execute catches every ERROR and records the outcome, and a
 * query cancel (SIGINT, pg_cancel_backend; nango.cancel_job's targeted
 * cancel, progress.c) ends it as 'cancelled'.
 * SIGTERM (pg_terminate_backend, shutdown) ends the process at once; the
 * job's changes roll back and the launcher marks the job failed.
 *
 * Reuse: after a job the worker marks its slot idle, wakes the launcher
 * and waits on its latch.  The launcher records the job's end and either
 * puts the next due job of a sync of the same owner in the slot
 * (order_pending) or asks the worker to retire; the worker also retires
 * after NANGO_IDLE_WAIT_MS without an order, on a query cancel while
 * idle (DROP EXTENSION), after NANGO_REUSE_MAX_JOBS jobs or
 * NANGO_REUSE_MAX_MS of life, so its caches never grow without bound.
 * Between two jobs the session is reset as DISCARD ALL would (portals,
 * settings, prepared statements, LISTEN, advisory locks, cached plans,
 * temporary tables, sequence caches; not the session's role), every job's
 * memory lives in a context reset after it, and the worker checks that it
 * still runs as the role it connected as: if not, it exits.  It never
 * takes a job of another role (the launcher offers none; it checks).
 *
 * Owns: the job worker process, from its slot to its exit.  Must not:
 * start other workers, touch other slots, or run anything but the jobs
 * its slot describes (the job itself is job.c's).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "commands/async.h"
#include "commands/prepare.h"
#include "commands/sequence.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "storage/lock.h"
#include "utils/acl.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/plancache.h"
#include "utils/portal.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "job.h"
#include "nango.h"
#include "progress.h"
#include "worker.h"
#include "worker_int.h"

/* Bounds of a worker's life: jobs run, and time since it started. */
#define NANGO_REUSE_MAX_JOBS 100
#define NANGO_REUSE_MAX_MS 60000
/* How long an idle worker waits for the launcher's next job. */
#define NANGO_IDLE_WAIT_MS 5000

/* What the launcher put in our slot, copied when the job is taken. */
typedef struct JobOrder
{
	Oid			dboid;
	Oid			owner;
	bool		owner_nologin;
	int64		sync_id;
	int			attempt;
	NangoJobTrigger trigger;
	char		label[BGW_MAXLEN];
} JobOrder;

/* job_worker_exit: tell the launcher (through our slot) that we are gone. */
static void
job_worker_exit(int code, Datum arg)
{
	NangoJobSlot *slot = nango_slot(DatumGetInt32(arg));

	LWLockAcquire(nango_shared->lock, LW_EXCLUSIVE);
	slot->exited = true;
	LWLockRelease(nango_shared->lock);
	nango_wake_launcher();
}

/* copy_order_locked: copy the order in slot (lock held). */
static void
copy_order_locked(const NangoJobSlot *slot, JobOrder *order)
{
	order->dboid = slot->dboid;
	order->owner = slot->owner;
	order->owner_nologin = slot->owner_nologin;
	order->sync_id = slot->sync_id;
	order->attempt = slot->attempt;
	order->trigger = slot->trigger;
	strlcpy(order->label, slot->label, sizeof(order->label));
}

/*
 * claim_slot: check that slot idx still holds the order this worker was
 * started for (the generation in bgw_extra), copy it and record our pid.
 * Returns false when the worker should exit without doing anything: a
 * stale start, or the database is being dropped.
 */
static bool
claim_slot(int idx, JobOrder *order)
{
	NangoJobSlot *slot = nango_slot(idx);
	uint32		generation;
	bool		claimed;
	bool		blocked = false;

	memcpy(&generation, MyBgworkerEntry->bgw_extra, sizeof(generation));
	LWLockAcquire(nango_shared->lock, LW_EXCLUSIVE);
	claimed = slot->in_use && !slot->exited && slot->generation == generation &&
		slot->pid == 0;
	if (claimed)
	{
		slot->pid = MyProcPid;
		slot->procno = MyProc->pgprocno;
		copy_order_locked(slot, order);
		blocked = (nango_shared->blocked_dboid == slot->dboid);
	}
	LWLockRelease(nango_shared->lock);
	if (!claimed)
		return false;
	/* From now on the slot is ours: say so when we exit, however we exit. */
	before_shmem_exit(job_worker_exit, Int32GetDatum(idx));
	return !blocked;
}

/*
 * connect_as_owner: connect to the database as the sync's owner, so the
 * job has exactly the owner's privileges.
 *
 * A role without LOGIN cannot open a connection (LOGIN is about sessions,
 * not privileges: a group role may own syncs).  For such an owner the
 * worker connects as the bootstrap superuser and becomes the owner for
 * the rest of its life, as SET SESSION AUTHORIZATION would, inside a
 * security-restricted operation: the session was authenticated as a
 * superuser, so without that restriction code running as the owner (a
 * trigger on the mapped table, say) could SET SESSION AUTHORIZATION back
 * to the superuser.  The restriction forbids that (and SET ROLE, DISCARD,
 * LISTEN and temporary tables), as it does for REFRESH MATERIALIZED VIEW.
 */
static void
connect_as_owner(const JobOrder *order)
{
	bool		owner_is_super;

	if (!order->owner_nologin)
	{
		BackgroundWorkerInitializeConnectionByOid(order->dboid, order->owner, 0);
		return;
	}
	BackgroundWorkerInitializeConnectionByOid(order->dboid, InvalidOid, 0);
	StartTransactionCommand();
	owner_is_super = superuser_arg(order->owner);
	CommitTransactionCommand();
	SetSessionAuthorization(order->owner, owner_is_super);
	SetUserIdAndSecContext(order->owner, SECURITY_RESTRICTED_OPERATION);
}

/*
 * create_job: first transaction: insert and commit the 'running' job row.
 * When the sync is already running elsewhere (nango.run_sync in a session
 * holds it), there is nothing to do: say so in the slot and return 0.
 */
static int64
create_job(const JobOrder *order, int idx)
{
	volatile int64 job_id = 0;
	MemoryContext cxt = CurrentMemoryContext;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	PG_TRY();
	{
		job_id = nango_job_create(order->sync_id, order->attempt, order->trigger);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		if (edata->sqlerrcode != ERRCODE_OBJECT_IN_USE)
			PG_RE_THROW();
		FlushErrorState();
		AbortCurrentTransaction();
		LWLockAcquire(nango_shared->lock, LW_EXCLUSIVE);
		nango_slot(idx)->busy = true;
		LWLockRelease(nango_shared->lock);
		nango_log(NANGO_LOG_INFO, LOG, "nango: %s is already running in another session; this run is skipped",
				  order->label);
		return 0;
	}
	PG_END_TRY();
	PopActiveSnapshot();
	CommitTransactionCommand();
	return job_id;
}

/*
 * job_log_context: error context callback: every line the job logs (and
 * every error it raises) says which job, sync and database it is about.
 */
static void
job_log_context(void *arg)
{
	const JobOrder *order = (const JobOrder *) arg;

	errcontext("nango job of %s", order->label);
}

/*
 * execute_job: second transaction: run the job and commit its outcome;
 * *retryable tells whether a failure may pass (for the launcher's retry).
 * A job with checkpoints commits on the way and goes on in new
 * transactions (docs/config.md#checkpoint): what it keeps between pages
 * lives in a memory context of its own, outside the transaction.
 */
static NangoJobStatus
execute_job(int64 job_id, JobOrder *order, bool *retryable)
{
	NangoJobStatus status;
	ErrorContextCallback context;
	MemoryContext jobcxt = AllocSetContextCreate(TopMemoryContext, "nango job worker",
												 ALLOCSET_DEFAULT_SIZES);

	context.callback = job_log_context;
	context.arg = order;
	context.previous = error_context_stack;
	error_context_stack = &context;
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	MemoryContextSwitchTo(jobcxt);
	status = nango_job_execute(job_id, retryable);
	if (ActiveSnapshotSet())
		PopActiveSnapshot();
	CommitTransactionCommand();
	MemoryContextDelete(jobcxt);
	error_context_stack = context.previous;
	return status;
}

/*
 * run_order: run the job of order (slot idx): name it in pg_stat_activity,
 * create its row (committed), run it, and leave in the slot whether a
 * failure may pass, which the launcher reads when the job has ended.
 */
static void
run_order(JobOrder *order, int idx)
{
	int64		job_id;
	NangoJobStatus status;
	bool		retryable = false;
	char		activity[BGW_MAXLEN + 16];
	MemoryContext cxt = CurrentMemoryContext;

	snprintf(activity, sizeof(activity), "nango job: %s", order->label);
	pgstat_report_appname(activity);
	pgstat_report_activity(STATE_RUNNING, activity);

	job_id = create_job(order, idx);
	/* transactions end in TopMemoryContext: this job's allocations go to cxt */
	MemoryContextSwitchTo(cxt);
	if (job_id == 0)
		return;
	LWLockAcquire(nango_shared->lock, LW_EXCLUSIVE);
	nango_slot(idx)->job_id = job_id;
	LWLockRelease(nango_shared->lock);
	nango_log(NANGO_LOG_DEBUG, LOG, "nango: job %lld of %s started (attempt %d, process %d)",
			  (long long) job_id, order->label, order->attempt, MyProcPid);

	/* a cancel that names this job may stop it; one naming another may not */
	nango_progress_cancellable(job_id);
	status = execute_job(job_id, order, &retryable);
	nango_progress_cancellable(0);
	MemoryContextSwitchTo(cxt);
	LWLockAcquire(nango_shared->lock, LW_EXCLUSIVE);
	nango_slot(idx)->retryable = retryable;
	LWLockRelease(nango_shared->lock);
	nango_log(NANGO_LOG_DEBUG, LOG, "nango: job %lld of %s ended (%s)",
			  (long long) job_id, order->label,
			  status == NANGO_JOB_SUCCEEDED ? "succeeded" :
			  status == NANGO_JOB_CANCELLED ? "cancelled" : "failed");
	pgstat_report_activity(STATE_IDLE, NULL);
}

/*
 * reset_session: after a job, reset what it may have left in the session
 * as DISCARD ALL does (but for the session's role, which the worker set
 * at connection), and check that the worker still runs as first's owner,
 * with the security context it started with.  False: do not run another
 * job in this process.
 */
static bool
reset_session(const JobOrder *first)
{
	Oid			user;
	int			sec;

	/* a cancel arriving now was meant for the job that ended: see await_order */
	HOLD_CANCEL_INTERRUPTS();
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PortalHashTableDeleteAll();
	ResetAllOptions();
	DropAllPreparedStatements();
	Async_UnlistenAll();
	LockReleaseAll(USER_LOCKMETHOD, true);
	ResetPlanCache();
	ResetTempTableNamespace();
	ResetSequenceCaches();
	CommitTransactionCommand();
	RESUME_CANCEL_INTERRUPTS();
	GetUserIdAndSecContext(&user, &sec);
	return user == first->owner && GetSessionUserId() == first->owner &&
		GetOuterUserId() == first->owner &&
		sec == (first->owner_nologin ? SECURITY_RESTRICTED_OPERATION : 0);
}

/*
 * await_order: mark slot idx idle, wake the launcher and wait for the next
 * job it puts there; true with it in *order.  False when the worker
 * should exit instead: the launcher asked it to retire, no order came in
 * NANGO_IDLE_WAIT_MS, a query cancel arrived while idle (DROP EXTENSION
 * cancels every worker of its database), or the database is being dropped
 * or its extension dropped.  Only SIGTERM is acted on while waiting; a
 * cancel that arrived while idle was meant for the job that had ended.
 */
static bool
await_order(int idx, JobOrder *order)
{
	NangoJobSlot *slot = nango_slot(idx);
	TimestampTz deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													   NANGO_IDLE_WAIT_MS);
	bool		took = false;
	bool		blocked = false;

	LWLockAcquire(nango_shared->lock, LW_EXCLUSIVE);
	slot->idle = true;
	LWLockRelease(nango_shared->lock);
	nango_wake_launcher();
	HOLD_CANCEL_INTERRUPTS();
	for (;;)
	{
		long		left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), deadline);
		bool		stop;

		LWLockAcquire(nango_shared->lock, LW_EXCLUSIVE);
		took = slot->order_pending;
		if (took)
		{
			copy_order_locked(slot, order);
			slot->order_pending = false;
			slot->idle = false;
			blocked = (nango_shared->blocked_dboid == slot->dboid ||
					   nango_shared->no_jobs_dboid == slot->dboid);
		}
		stop = !took && (slot->retire || QueryCancelPending || left <= 0);
		if (stop)
			slot->retired = true;
		LWLockRelease(nango_shared->lock);
		if (took || stop)
			break;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 Max(left, 1L), PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
	}
	QueryCancelPending = false;
	RESUME_CANCEL_INTERRUPTS();
	return took && !blocked;
}

/*
 * nango_job_worker_main: entry point; the main argument is the index of
 * the launcher's slot that describes the job.  Runs that job, then the
 * jobs the launcher hands it (see the header), then exits.
 */
void
nango_job_worker_main(Datum arg)
{
	int			idx = DatumGetInt32(arg);
	JobOrder	first;
	JobOrder	order;
	MemoryContext job_cxt;
	TimestampTz born = GetCurrentTimestamp();

	pqsignal(SIGTERM, die);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	/*
	 * SIGINT stays StatementCancelHandler: a query cancel (pg_cancel_backend)
	 * ends the job.  nango.cancel_job uses SIGUSR2, which progress.c takes
	 * and turns into a query cancel only while the job it names runs here.
	 */
	BackgroundWorkerUnblockSignals();

	if (nango_shared == NULL || idx < 0 || idx >= nango_shared->nslots)
		proc_exit(0);
	if (!claim_slot(idx, &order))
		proc_exit(0);

	connect_as_owner(&order);
	first = order;
	job_cxt = AllocSetContextCreate(TopMemoryContext, "nango job", ALLOCSET_DEFAULT_SIZES);
	for (int njobs = 1;; njobs++)
	{
		MemoryContextSwitchTo(job_cxt);
		run_order(&order, idx);
		MemoryContextSwitchTo(TopMemoryContext);
		MemoryContextReset(job_cxt);
		if (njobs >= NANGO_REUSE_MAX_JOBS ||
			TimestampDifferenceExceeds(born, GetCurrentTimestamp(), NANGO_REUSE_MAX_MS) ||
			!reset_session(&first) || !await_order(idx, &order))
			break;
		/* the launcher only hands a worker jobs of its own role */
		if (order.owner != first.owner || order.owner_nologin != first.owner_nologin ||
			order.dboid != first.dboid)
		{
			nango_log(NANGO_LOG_WARNING, WARNING,
					  "nango: the job worker of role %u was handed a job of %s of role %u; it exits instead",
					  first.owner, order.label, order.owner);
			break;
		}
	}
	proc_exit(0);
}
