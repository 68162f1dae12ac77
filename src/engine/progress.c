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
 *	  nango.delete_sync.  A job is cancelled with SIGINT to the process the
 *	  entry names, as pg_cancel_backend would: the job catches the query
 *	  cancel and ends as 'cancelled' (src/job.c).
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

/* A copy of one entry, taken under its spinlock. */
typedef struct ProgressCopy
{
	Oid			dboid;
	int64		job_id;
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
	release_entry();
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
		release_entry();
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
	SpinLockAcquire(&p->mutex);
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
 * find_job: the entry of job_id of this database, copied; false when no
 * process runs that job now.
 */
static bool
find_job(int64 job_id, ProgressCopy *c)
{
	for (int i = 0; nango_shared != NULL && i < nango_shared->nprogress; i++)
	{
		copy_entry(i, c);
		if (c->job_id == job_id && c->dboid == MyDatabaseId)
			return true;
	}
	return false;
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
 * of this database runs it now, by sending that process SIGINT (the job
 * ends as 'cancelled'; for a nango.run_sync job, run_sync returns with a
 * WARNING).  Returns false when the job is not running.  The process is
 * the one that published the job in shared memory, never a pid read from
 * elsewhere; as with pg_cancel_backend, a job ending at the very moment of
 * the signal may see it in what it does next (its last steps).
 */
Datum
nango_cancel_job(PG_FUNCTION_ARGS)
{
	int64		job_id = PG_GETARG_INT64(0);
	ProgressCopy c;
	Oid			owner;

	if (!find_job(job_id, &c))
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
	if (kill(c.pid, SIGINT) != 0)
		PG_RETURN_BOOL(false);	/* it exited meanwhile */
	nango_log(NANGO_LOG_INFO, LOG, "nango: job " INT64_FORMAT " of sync " INT64_FORMAT
			  " cancelled by nango.cancel_job (process %d)", job_id, c.sync_id, c.pid);
	PG_RETURN_BOOL(true);
}

/*
 * sync_job_pids: the pids of other processes running a job of sync_id in
 * this database, up to max; returns how many.
 */
static int
sync_job_pids(int64 sync_id, int *pids, int64 *jobs, int max)
{
	int			n = 0;

	for (int i = 0; nango_shared != NULL && i < nango_shared->nprogress && n < max; i++)
	{
		ProgressCopy c;

		copy_entry(i, &c);
		if (c.job_id != 0 && c.dboid == MyDatabaseId && c.sync_id == sync_id &&
			c.pid != MyProcPid)
		{
			pids[n] = c.pid;
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
		int			pids[8];
		int64		jobs[8];

		n = sync_job_pids(sync_id, pids, jobs, lengthof(pids));
		if (n == 0)
			break;
		/* at once, and again every second (a job started meanwhile) */
		for (int i = 0; waited % 1000 == 0 && i < n; i++)
		{
			if (waited == 0)
				ereport(NOTICE,
						(errmsg("cancelling the running job " INT64_FORMAT " of sync " INT64_FORMAT,
								jobs[i], sync_id)));
			(void) kill(pids[i], SIGINT);
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
