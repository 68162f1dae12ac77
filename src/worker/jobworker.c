/*-------------------------------------------------------------------------
 *
 * jobworker.c
 *	  A job worker: a dynamic background worker that runs one job of one
 *	  sync, connected to the sync's database as its owner, and exits.
 *
 * The job row is created and committed in a first transaction, so that a
 * crash or a kill during the job leaves a visible 'running' row for the
 * launcher to mark failed.  The job itself runs in a second transaction;
 * nango_job_execute catches every ERROR and records the outcome, and a
 * query cancel (SIGINT, pg_cancel_backend) ends it as 'cancelled'.
 * SIGTERM (pg_terminate_backend, shutdown) ends the process at once; the
 * job's changes roll back and the launcher marks the job failed.
 *
 * Owns: the job worker process, from its slot to its exit.  Must not:
 * start other workers, touch other slots, or run anything but the one job
 * its slot describes (the job itself is job.c's).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/snapmgr.h"

#include "job.h"
#include "nango.h"
#include "worker.h"
#include "worker_int.h"

/* What the launcher put in our slot, copied at start. */
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
		order->dboid = slot->dboid;
		order->owner = slot->owner;
		order->owner_nologin = slot->owner_nologin;
		order->sync_id = slot->sync_id;
		order->attempt = slot->attempt;
		order->trigger = slot->trigger;
		strlcpy(order->label, slot->label, sizeof(order->label));
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
 */
static NangoJobStatus
execute_job(int64 job_id, JobOrder *order, bool *retryable)
{
	NangoJobStatus status;
	ErrorContextCallback context;

	context.callback = job_log_context;
	context.arg = order;
	context.previous = error_context_stack;
	error_context_stack = &context;
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	status = nango_job_execute(job_id, retryable);
	if (ActiveSnapshotSet())
		PopActiveSnapshot();
	CommitTransactionCommand();
	error_context_stack = context.previous;
	return status;
}

/*
 * nango_job_worker_main: entry point; the main argument is the index of
 * the launcher's slot that describes the job.
 */
void
nango_job_worker_main(Datum arg)
{
	int			idx = DatumGetInt32(arg);
	JobOrder	order;
	int64		job_id;
	NangoJobStatus status;
	bool		retryable = false;
	char		activity[BGW_MAXLEN + 16];

	pqsignal(SIGTERM, die);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	/* SIGINT stays StatementCancelHandler: a query cancel ends the job. */
	BackgroundWorkerUnblockSignals();

	if (nango_shared == NULL || idx < 0 || idx >= nango_shared->nslots)
		proc_exit(0);
	if (!claim_slot(idx, &order))
		proc_exit(0);

	connect_as_owner(&order);
	snprintf(activity, sizeof(activity), "nango job: %s", order.label);
	pgstat_report_appname(activity);
	pgstat_report_activity(STATE_RUNNING, activity);

	job_id = create_job(&order, idx);
	if (job_id == 0)
		proc_exit(0);
	LWLockAcquire(nango_shared->lock, LW_EXCLUSIVE);
	nango_slot(idx)->job_id = job_id;
	LWLockRelease(nango_shared->lock);
	nango_log(NANGO_LOG_DEBUG, LOG, "nango: job %lld of %s started (attempt %d)",
			  (long long) job_id, order.label, order.attempt);

	status = execute_job(job_id, &order, &retryable);
	/* before we exit: the launcher reads it when it sees us gone */
	LWLockAcquire(nango_shared->lock, LW_EXCLUSIVE);
	nango_slot(idx)->retryable = retryable;
	LWLockRelease(nango_shared->lock);
	nango_log(NANGO_LOG_DEBUG, LOG, "nango: job %lld of %s ended (%s)",
			  (long long) job_id, order.label,
			  status == NANGO_JOB_SUCCEEDED ? "succeeded" :
			  status == NANGO_JOB_CANCELLED ? "cancelled" : "failed");
	pgstat_report_activity(STATE_IDLE, NULL);
	proc_exit(0);
}
