/*-------------------------------------------------------------------------
 *
 * progress.c
 *	  Running jobs in shared memory: each process that runs a job (a job
 *	  worker, or a backend in nango.run_sync) publishes it in its own entry
 *	  of an array with one entry per PGPROC, as PostgreSQL's progress
 *	  reporting (pg_stat_progress_copy) does.  The job's own row in
 *	  nango.jobs cannot serve: a run_sync job's row is not committed until
 *	  the caller's transaction commits, so no other session sees it.
 *
 *	  From that array: nango.job_progress (nango_get_job_progress),
 *	  nango.cancel_job, and the cancelling of a sync's running job by
 *	  nango.delete_sync.  The job catches the query cancel and ends as
 *	  'cancelled' (src/job.c).
 *
 *	  A cancel names a job, not a process: a job worker runs one job after
 *	  another, so a job may end between the moment a canceller finds it
 *	  and the moment its signal arrives, and the signal must not stop the
 *	  next one.  So the canceller records the job in the entry's
 *	  cancel_target, after checking under the entry's lock that the entry
 *	  still shows that job, and then signals SIGUSR2 (which PostgreSQL's
 *	  backends and background workers ignore); the handler that this
 *	  process installed turns it into a query cancel only when that target
 *	  is the job it runs now (cancellable_job).  Job ids never repeat, so a
 *	  target left from an earlier job never matches.  SIGINT keeps its
 *	  meaning (pg_cancel_backend names the process: it stops whatever the
 *	  process runs).  A process whose SIGUSR2 is not ignored (another
 *	  extension's worker) is left alone and cancelled with SIGINT.
 *
 *	  An entry is released when the job ends, at the end of its
 *	  transaction (commit or abort, whatever happened in between) and when
 *	  the process exits (before_shmem_exit: ERROR, FATAL, SIGTERM); after a
 *	  crash the postmaster creates shared memory afresh.  So a job that is
 *	  gone never leaves a row behind.
 *
 *	  Without shared_preload_libraries there is no shared memory: nothing is
 *	  published, nango.job_progress is empty and only the job rows remain.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>
#include <errno.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "catalog.h"
#include "nango.h"
#include "progress.h"
#include "extinfo.h"
#include "roles.h"
#include "worker.h"
#include "worker_int.h"

PG_FUNCTION_INFO_V1(nango_get_job_progress);
PG_FUNCTION_INFO_V1(nango_cancel_job);

/* This process's entry holds a job (published by nango_progress_begin). */
static bool published = false;
static bool callbacks_registered = false;

/*
 * The job that a targeted cancel (SIGUSR2 with cancel_target) may stop
 * now, 0 when none.  Set before the job is published and cleared when it
 * is over; read by targeted_cancel_handler.  worker_scoped: the job
 * worker sets it around the whole job (nango_progress_cancellable), so
 * that it covers the moments between the transactions of a job with
 * checkpoints, when the job is not published.
 */
static volatile int64 cancellable_job = 0;
static bool worker_scoped = false;
/* SIGUSR2 is this process's targeted cancel: 0 not tried yet, 1 yes, -1 no */
static int	targeted_state = 0;

/* A copy of one entry, taken under its spinlock. */
typedef struct ProgressCopy
{
	Oid			dboid;
	int64		job_id;
	bool		targeted;
	int64		sync_id;
	Oid			owner;
	int			pid;
	int			waiting;
	int64		pages;
	int64		fetched;
	TimestampTz started_at;
	char		trigger[NANGO_PROGRESS_TRIGGER_LEN];
	char		request[NANGO_PROGRESS_REQUEST_LEN];
} ProgressCopy;

/* my_entry: this process's entry, or NULL without shared memory. */
static NangoProgress *
my_entry(void)
{
	if (nango_shared == NULL || MyProc == NULL ||
		MyProc->pgprocno < 0 || MyProc->pgprocno >= nango_shared->nprogress)
		return NULL;
	return nango_progress_entry(MyProc->pgprocno);
}

/* copy_entry: entry i as it is now (job_id 0: no job). */
static void
copy_entry(int i, ProgressCopy *c)
{
	NangoProgress *p = nango_progress_entry(i);

	SpinLockAcquire(&p->mutex);
	c->job_id = p->job_id;
	if (c->job_id != 0)
	{
		c->targeted = p->targeted;
		c->dboid = p->dboid;
		c->sync_id = p->sync_id;
		c->owner = p->owner;
		c->pid = p->pid;
		c->waiting = p->waiting;
		c->pages = p->pages;
		c->fetched = p->fetched;
		c->started_at = p->started_at;
		memcpy(c->trigger, p->trigger, sizeof(c->trigger));
		memcpy(c->request, p->request, sizeof(c->request));
	}
	SpinLockRelease(&p->mutex);
}

/* release_entry: this process runs no job any more. */
static void
release_entry(void)
{
	NangoProgress *p = my_entry();

	if (!published || p == NULL)
		return;
	SpinLockAcquire(&p->mutex);
	p->job_id = 0;
	p->waiting = NANGO_WAITING_NONE;
	SpinLockRelease(&p->mutex);
	published = false;
}

/* progress_exit: before_shmem_exit callback; a process that exits runs no job. */
static void
progress_exit(int code, Datum arg)
{
	cancellable_job = 0;
	release_entry();
}

/*
 * targeted_cancel_handler: SIGUSR2: a query cancel when the job a
 * canceller named in this process's entry is the job running now, else
 * nothing (it named a job that has ended).  Only plain reads here: no
 * lock may be taken in a signal handler.
 */
static void
targeted_cancel_handler(SIGNAL_ARGS)
{
	int			save_errno = errno;
	NangoProgress *p = my_entry();
	int64		job = cancellable_job;

	if (p != NULL && job != 0 && (int64) pg_atomic_read_u64(&p->cancel_target) == job)
		StatementCancelHandler(postgres_signal_arg);
	errno = save_errno;
}

/*
 * install_targeted_cancel: take SIGUSR2 for targeted cancels, once, if
 * this process ignores it (as backends and background workers do);
 * otherwise leave the process's handler and be cancelled with SIGINT.
 */
static void
install_targeted_cancel(void)
{
	pqsigfunc	old;

	if (targeted_state != 0)
		return;
	old = pqsignal(SIGUSR2, targeted_cancel_handler);
	if (old == SIG_IGN)
		targeted_state = 1;
	else
	{
		if (old != SIG_ERR)
			pqsignal(SIGUSR2, old);
		targeted_state = -1;
	}
}

void
nango_progress_cancellable(int64 job_id)
{
	install_targeted_cancel();
	worker_scoped = true;
	cancellable_job = job_id;
}

/*
 * progress_xact_callback: a job runs inside one transaction, so whatever
 * way that transaction ends, the job is over.
 */
static void
progress_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT)
	{
		if (!worker_scoped)
			cancellable_job = 0;
		release_entry();
	}
}

/* copy_text: strlcpy cut at a character boundary of the database encoding. */
static void
copy_text(char *dst, const char *src, int size)
{
	int			len = (int) strlen(src);

	if (len >= size)
		len = pg_mbcliplen(src, len, size - 1);
	memcpy(dst, src, len);
	dst[len] = '\0';
}

bool
nango_progress_begin(int64 job_id, int64 sync_id, Oid owner, const char *trigger,
					 TimestampTz started_at)
{
	NangoProgress *p = my_entry();

	if (p == NULL || published)
		return false;
	if (!callbacks_registered)
	{
		RegisterXactCallback(progress_xact_callback, NULL);
		before_shmem_exit(progress_exit, (Datum) 0);
		callbacks_registered = true;
	}
	install_targeted_cancel();
	if (!worker_scoped)
		cancellable_job = job_id;
	SpinLockAcquire(&p->mutex);
	p->targeted = (targeted_state == 1);
	p->dboid = MyDatabaseId;
	p->sync_id = sync_id;
	p->owner = owner;
	p->pid = MyProcPid;
	p->waiting = NANGO_WAITING_NONE;
	p->pages = 0;
	p->fetched = 0;
	p->started_at = started_at;
	copy_text(p->trigger, trigger ? trigger : "", sizeof(p->trigger));
	p->request[0] = '\0';
	p->job_id = job_id;
	SpinLockRelease(&p->mutex);
	published = true;
	return true;
}

void
nango_progress_end(void)
{
	cancellable_job = 0;
	release_entry();
}

/*
 * nango_report_progress: see worker.h.  Only the job this process shows is
 * updated (a job started from inside it is not shown).
 */
void
nango_report_progress(int64 job_id, int64 page_count, int64 fetched_count)
{
	NangoProgress *p = my_entry();

	if (!published || p == NULL)
		return;
	SpinLockAcquire(&p->mutex);
	if (p->job_id == job_id)
	{
		p->pages = page_count;
		p->fetched = fetched_count;
	}
	SpinLockRelease(&p->mutex);
}

void
nango_progress_request(const char *method, const char *redacted_url)
{
	NangoProgress *p = my_entry();
	char		buf[NANGO_PROGRESS_REQUEST_LEN];

	if (!published || p == NULL)
		return;
	copy_text(buf, psprintf("%s %s", method, redacted_url), sizeof(buf));
	SpinLockAcquire(&p->mutex);
	memcpy(p->request, buf, sizeof(buf));
	SpinLockRelease(&p->mutex);
}

void
nango_progress_wait(NangoWaiting waiting)
{
	NangoProgress *p = my_entry();

	if (!published || p == NULL)
		return;
	SpinLockAcquire(&p->mutex);
	p->waiting = (int) waiting;
	SpinLockRelease(&p->mutex);
}

/* waiting_name: nango.job_progress.waiting_for, NULL when not waiting. */
static const char *
waiting_name(int waiting)
{
	switch ((NangoWaiting) waiting)
	{
		case NANGO_WAITING_API:
			return "api";
		case NANGO_WAITING_RATE_LIMIT:
			return "rate_limit";
		case NANGO_WAITING_RETRY:
			return "retry";
		case NANGO_WAITING_STORE:
			return "store";
		case NANGO_WAITING_NONE:
			break;
	}
	return NULL;
}

/* may_manage: the current user may see and cancel the jobs of owner's syncs. */
static bool
may_manage(Oid owner)
{
	return catalog_may_manage(GetUserId(), owner);
}

/*
 * nango_get_job_progress: the SRF behind the view nango.job_progress: one
 * row per job running now, in any database, session or worker, that the
 * current user may see (the owner of its sync, a member of that role, or
 * a superuser: the rule of nango.syncs's row-level security).
 */
Datum
nango_get_job_progress(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; nango_shared != NULL && i < nango_shared->nprogress; i++)
	{
		ProgressCopy c;
		Datum		values[10];
		bool		nulls[10] = {0};
		const char *w;

		copy_entry(i, &c);
		if (c.job_id == 0 || !may_manage(c.owner))
			continue;
		values[0] = Int64GetDatum(c.job_id);
		values[1] = Int64GetDatum(c.sync_id);
		values[2] = Int32GetDatum(c.pid);
		values[3] = ObjectIdGetDatum(c.dboid);
		values[4] = CStringGetTextDatum(c.trigger);
		nulls[4] = (c.trigger[0] == '\0');
		values[5] = TimestampTzGetDatum(c.started_at);
		values[6] = Int64GetDatum(c.pages);
		values[7] = Int64GetDatum(c.fetched);
		values[8] = CStringGetTextDatum(c.request);
		nulls[8] = (c.request[0] == '\0');
		w = waiting_name(c.waiting);
		values[9] = w ? CStringGetTextDatum(w) : (Datum) 0;
		nulls[9] = (w == NULL);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * find_job: the index of the entry of job_id of this database, copied
 * into *c; -1 when no process runs that job now.
 */
static int
find_job(int64 job_id, ProgressCopy *c)
{
	for (int i = 0; nango_shared != NULL && i < nango_shared->nprogress; i++)
	{
		copy_entry(i, c);
		if (c->job_id == job_id && c->dboid == MyDatabaseId)
			return i;
	}
	return -1;
}

/*
 * signal_cancel: cancel job_id, which entry i showed: if the entry still
 * shows it, record it as the entry's cancel target and signal its
 * process (SIGUSR2, or SIGINT for a process that does not take targeted
 * cancels: see the header).  False when the job has ended meanwhile or
 * its process is gone.
 */
static bool
signal_cancel(int i, int64 job_id)
{
	NangoProgress *p = nango_progress_entry(i);
	bool		runs;
	int			pid = 0;
	int			signo = SIGINT;

	SpinLockAcquire(&p->mutex);
	runs = (p->job_id == job_id && p->dboid == MyDatabaseId);
	if (runs)
	{
		pid = p->pid;
		if (p->targeted)
			signo = SIGUSR2;
		pg_atomic_write_u64(&p->cancel_target, (uint64) job_id);
	}
	SpinLockRelease(&p->mutex);
	return runs && kill(pid, signo) == 0;
}

/*
 * job_row_owner: the owner of the sync of job_id, read from the job's row
 * as the extension owner; false when there is no such (committed) row.
 */
static bool
job_row_owner(int64 job_id, Oid *owner)
{
	NangoSavedRole saved;
	bool		found;

	nango_push_role(nango_extension_owner(), &saved);
	SPI_connect();
	found = catalog_job_owner(job_id, owner);
	SPI_finish();
	nango_pop_role(&saved);
	return found;
}

/* refuse_cancel: the 42501 error of a caller who may not cancel job_id. */
static void
refuse_cancel(int64 job_id)
{
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied to cancel job " INT64_FORMAT, job_id),
			 errdetail("Only the owner of a sync (or a member of that role) and superusers may cancel its jobs.")));
}

/*
 * nango_cancel_job: nango.cancel_job(job_id): cancels job_id if a process
 * of this database runs it now (the job ends as 'cancelled'; for a
 * nango.run_sync job, run_sync returns with a WARNING).  Returns false
 * when the job is not running.  The process is the one that published the
 * job in shared memory, never a pid read from elsewhere, and the cancel
 * reaches that job only, never the next one of the same process (see the
 * header); a job ending at the very moment of the signal may see it in
 * its last steps.
 */
Datum
nango_cancel_job(PG_FUNCTION_ARGS)
{
	int64		job_id = PG_GETARG_INT64(0);
	ProgressCopy c;
	Oid			owner;
	int			i = find_job(job_id, &c);

	if (i < 0)
	{
		if (!job_row_owner(job_id, &owner))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("job " INT64_FORMAT " does not exist", job_id),
					 nango_shared == NULL ?
					 errhint("Without nango in shared_preload_libraries, jobs of other sessions are not seen; use pg_cancel_backend.") :
					 errhint("See nango.job_progress for the jobs running now.")));
		if (!may_manage(owner))
			refuse_cancel(job_id);
		PG_RETURN_BOOL(false);
	}
	if (!may_manage(c.owner))
		refuse_cancel(job_id);
	if (!signal_cancel(i, job_id))
		PG_RETURN_BOOL(false);	/* it ended meanwhile */
	nango_log(NANGO_LOG_INFO, LOG, "nango: job " INT64_FORMAT " of sync " INT64_FORMAT
			  " cancelled by nango.cancel_job (process %d)", job_id, c.sync_id, c.pid);
	PG_RETURN_BOOL(true);
}

/*
 * sync_jobs: the entries (in idx) and jobs of other processes running a
 * job of sync_id in this database, up to max; returns how many.
 */
static int
sync_jobs(int64 sync_id, int *idx, int64 *jobs, int max)
{
	int			n = 0;

	for (int i = 0; nango_shared != NULL && i < nango_shared->nprogress && n < max; i++)
	{
		ProgressCopy c;

		copy_entry(i, &c);
		if (c.job_id != 0 && c.dboid == MyDatabaseId && c.sync_id == sync_id &&
			c.pid != MyProcPid)
		{
			idx[n] = i;
			jobs[n++] = c.job_id;
		}
	}
	return n;
}

int
nango_cancel_sync_jobs(int64 sync_id, int timeout_ms)
{
	int			waited = 0;
	int			n;

	for (;;)
	{
		int			idx[8];
		int64		jobs[8];

		n = sync_jobs(sync_id, idx, jobs, lengthof(idx));
		if (n == 0)
			break;
		/*
		 * At once, and again every second: a job of the sync started
		 * meanwhile (each signal names the job just found).
		 */
		for (int i = 0; waited % 1000 == 0 && i < n; i++)
		{
			if (waited == 0)
				ereport(NOTICE,
						(errmsg("cancelling the running job " INT64_FORMAT " of sync " INT64_FORMAT,
								jobs[i], sync_id)));
			(void) signal_cancel(idx[i], jobs[i]);
		}
		if (waited >= timeout_ms)
			break;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 50, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		waited += 50;
	}
	return n;
}
