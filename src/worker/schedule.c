/*-------------------------------------------------------------------------
 *
 * schedule.c
 *	  The launcher's scheduling: which syncs are due, starting a job worker
 *	  for each, and, when a worker ends, recording a job its worker left
 *	  'running' as failed and computing the sync's next run.
 *
 * Schedule columns of nango.syncs:
 *	- next_run_at: the next scheduled run.  After a scheduled run it moves
 *	  to the first frequency tick (anchored at the run's due time) or cron
 *	  tick after the run ended, so a job longer than its interval never
 *	  piles up runs.
 *	- triggered_at: set by trigger_sync; cleared when the run starts.
 *	- retry_at / retry_attempt: a job that failed in a way that may pass
 *	  (see job.c, failure_retryable; a worker that died counts too) is
 *	  retried up to 3 times, 5 s, 10 s and 20 s after it ended, each retry
 *	  a new job with attempt + 1, but never at or after the next scheduled
 *	  run, which then takes over.  A permanent failure (a 404, a body that
 *	  is not JSON, ...) waits for the next scheduled run.
 *	- resumed_at: set by resume_sync, so the run it asks for is reported
 *	  as trigger 'resume'; cleared when the run starts, like triggered_at.
 *
 * Owns: due syncs, the job slots and job workers this launcher starts and
 * reaps, next runs and retries.  Must not: call launcher.c (the launcher
 * calls it, with its state), loop or sleep, run a job or fetch from an
 * API (job workers do), or hold the shared lock while running SQL.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>
#include <errno.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "catalog.h"
#include "cron.h"
#include "databases.h"
#include "launcher.h"
#include "nango.h"
#include "extinfo.h"
#include "worker.h"
#include "worker_int.h"

#define NANGO_MAX_RETRIES 3
#define NANGO_FIRST_RETRY_MS 5000

/* A due sync, copied out of SPI's result. */
typedef struct DueSync
{
	int64		id;
	Oid			owner;
	bool		owner_exists;
	bool		owner_can_login;
	bool		owner_can_connect;
	bool		scheduled;		/* next_run_at <= now() and active */
	bool		retry_due;
	TimestampTz due_at;
	int			retry_attempt;
	bool		has_trigger;
	TimestampTz triggered_at;
	bool		resumed;		/* resume_sync asked for this run */
	TimestampTz resumed_at;
	bool		after_parent;	/* a child without a schedule: its parent's job made it due */
	char		label[BGW_MAXLEN];
} DueSync;

/* The outcome of a finished job worker, for the next-run computation. */
typedef struct RunEnd
{
	NangoJobSlot slot;			/* copy of the worker's slot */
	bool		failed;
	bool		recorded;		/* finish_run committed */
} RunEnd;

/*
 * make_label: "sync 12 (friendly name) in mydb", clipped to fit a worker
 * name: log lines of a job name its sync and its database.
 */
static void
make_label(const LauncherState *ls, char *dst, int64 id, const char *friendly)
{
	int			dblen = pg_mbcliplen(ls->dbname, strlen(ls->dbname), 30);

	if (friendly == NULL || friendly[0] == '\0')
		snprintf(dst, BGW_MAXLEN, "sync %lld in %.*s", (long long) id, dblen, ls->dbname);
	else
	{
		int			len = pg_mbcliplen(friendly, strlen(friendly), 40);

		snprintf(dst, BGW_MAXLEN, "sync %lld (%.*s) in %.*s", (long long) id, len, friendly,
				 dblen, ls->dbname);
	}
}

/*
 * slot_done: has the worker of slot i ended?  Our own workers are followed
 * through their handle; workers adopted from a previous launcher through
 * the flag they set at exit and their pid.
 */
static bool
slot_done(const LauncherState *ls, int i, const NangoJobSlot *copy)
{
	pid_t		pid;

	if (ls->handles[i] != NULL)
		return GetBackgroundWorkerPid(ls->handles[i], &pid) == BGWH_STOPPED;
	if (copy->exited)
		return true;
	if (copy->pid != 0)
		return kill(copy->pid, 0) != 0 && errno == ESRCH;
	return TimestampDifferenceExceeds(copy->launched_at, GetCurrentTimestamp(), 60000);
}

/*
 * advance_schedule: after a run of sync_id ends, move next_run_at past now
 * when the run was the scheduled one (and nobody rescheduled meanwhile),
 * and return the resulting next_run_at (0 when none).  When a user's open
 * transaction holds the sync's row (update_sync, say), it fails at once
 * (55P03) instead of waiting, and the caller tries again on a later turn.
 */
static TimestampTz
advance_schedule(int64 sync_id, bool scheduled, TimestampTz due_at, bool *found)
{
	/* never wait for a user's transaction: a locked row is retried later */
	char	   *cron = catalog_lock_sync_cron(sync_id, found);

	if (!*found)
		return 0;
	return catalog_advance_next_run(sync_id, scheduled, due_at, cron != NULL,
									cron != NULL ? nango_cron_next(cron, GetCurrentTimestamp()) : 0);
}

/*
 * schedule_retry: after a failed run, plan the next automatic retry (or
 * none) in retry_at/retry_attempt, never at or after next_run.  A failure
 * that is not retryable gets no retry.
 */
static void
schedule_retry(int64 sync_id, int attempt, bool failed, bool retryable,
			   TimestampTz next_run, const char *label)
{
	TimestampTz retry_at = 0;
	int			retry = 0;

	if (failed && !retryable)
		nango_log(NANGO_LOG_INFO, LOG,
				  "nango: %s failed in a way that a retry would not cure; it runs again at its next scheduled time",
				  label);
	else if (failed && attempt <= NANGO_MAX_RETRIES)
	{
		int			delay_ms = NANGO_FIRST_RETRY_MS << (attempt - 1);
		TimestampTz at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), delay_ms);

		if (next_run == 0 || at < next_run)
		{
			retry = attempt;
			retry_at = at;
			nango_log(NANGO_LOG_INFO, LOG, "nango: %s failed; retry %d of %d in %d s",
					  label, retry, NANGO_MAX_RETRIES, delay_ms / 1000);
		}
	}
	else if (failed && retry == 0)
		nango_log(NANGO_LOG_INFO, LOG, "nango: %s failed; it runs again at its next scheduled time",
				  label);
	catalog_set_retry(sync_id, retry, retry_at);
}

/*
 * close_dead_job: the worker of slot s ended; if it left its job 'running'
 * (killed, terminated, crashed), mark it failed and notify.  The job is
 * found by id, or by the worker's pid when the worker died before it could
 * publish the id.  Returns the job's final status (NULL: no job).
 */
static char *
close_dead_job(const NangoJobSlot *s, bool *closed)
{
	int64		job_id = s->job_id;

	*closed = catalog_fail_dead_job(&job_id,
									"the job's worker process ended before the job did (terminated or crashed)",
									s->sync_id, s->pid);
	if (*closed)
		nango_log(NANGO_LOG_WARNING, WARNING,
				  "nango: the worker of job %lld of %s ended before the job did; the job is marked failed",
				  (long long) job_id, s->label);
	if (job_id == 0)
		return NULL;
	return catalog_job_status(job_id);
}

/*
 * finish_run: a job worker ended: close its job and compute the sync's
 * next run (arg is a RunEnd).
 */
static void
finish_run(LauncherState *ls, void *arg)
{
	RunEnd	   *end = (RunEnd *) arg;
	NangoJobSlot *s = &end->slot;
	char	   *status = NULL;
	bool		found;
	bool		closed = false;
	bool		retryable;
	TimestampTz next_run;

	end->recorded = false;
	if (!nango_launcher_tx_begin(ls, "nango launcher: finishing a job"))
		return;
	status = close_dead_job(s, &closed);
	if (status == NULL && !s->busy)
		nango_log(NANGO_LOG_WARNING, WARNING,
				  "nango: the job worker of %s ended before starting its job", s->label);
	/* A run skipped because the sync ran elsewhere is not a failure. */
	end->failed = (status == NULL) ? !s->busy : strcmp(status, "failed") == 0;
	/* a worker that died may do better next time; else its job's verdict */
	retryable = status == NULL || closed || s->retryable;
	next_run = advance_schedule(s->sync_id, s->scheduled, s->due_at, &found);
	if (found)
		schedule_retry(s->sync_id, s->attempt, end->failed, retryable, next_run, s->label);
	nango_launcher_tx_commit(ls);
	end->recorded = true;
}

/* free_slot: the launcher is done with job slot i. */
static void
free_slot(LauncherState *ls, int i)
{
	LWLockAcquire(nango_shared->lock, LW_EXCLUSIVE);
	nango_slot(i)->in_use = false;
	LWLockRelease(nango_shared->lock);
	if (ls->handles[i] != NULL)
		pfree(ls->handles[i]);
	ls->handles[i] = NULL;
	nango_db_wake_waiting();
}

/*
 * nango_schedule_reap: handle every job worker of this database that has
 * ended, or ended its job and waits for another (it is parked for
 * nango_schedule_start_due).  Without the extension there is nothing to
 * record; the slot is just freed (the idle worker asked to exit).  When
 * recording fails (a lock timeout), it is tried again on the next turn.
 */
void
nango_schedule_reap(LauncherState *ls)
{
	for (int i = 0; i < nango_shared->nslots; i++)
	{
		RunEnd		end;
		bool		done;

		LWLockAcquire(nango_shared->lock, LW_SHARED);
		end.slot = *nango_slot(i);
		LWLockRelease(nango_shared->lock);
		/* Other databases' workers are their launchers' (or dropped). */
		if (!end.slot.in_use || end.slot.dboid != MyDatabaseId)
			continue;
		done = slot_done(ls, i, &end.slot);
		if (!done && (!end.slot.idle || end.slot.parked || end.slot.order_pending ||
					  end.slot.retire))
			continue;
		/* a parked worker's job was recorded when it was parked */
		if (OidIsValid(ls->ext_oid) && !(done && end.slot.parked) &&
			(!nango_launcher_run_step(ls, finish_run, &end, "recording the end of a job") ||
			 !end.recorded))
			continue;
		if (done)
			free_slot(ls, i);
		else
			nango_slot_park_or_retire(i, end.slot.generation, OidIsValid(ls->ext_oid));
	}
}

/*
 * fetch_due: up to limit due syncs without a running job, with what is
 * needed to start them, their rows locked until the launcher's
 * transaction ends.  A sync whose row a user's open transaction holds
 * (update_sync, pause_sync, ... not yet committed) is passed over for
 * this round (SKIP LOCKED), so it never holds up the other syncs.
 */
static DueSync *
fetch_due(LauncherState *ls, int limit, int *count)
{
	int64	   *busy = palloc(sizeof(int64) * Max(nango_shared->nslots, 1));
	int			nbusy = 0;
	DueSync    *due;
	DueSyncRow *rows;
	MemoryContext cxt = ls->loop_cxt;

	LWLockAcquire(nango_shared->lock, LW_SHARED);
	for (int i = 0; i < nango_shared->nslots; i++)
		if (nango_slot(i)->in_use && nango_slot(i)->dboid == MyDatabaseId)
			busy[nbusy++] = nango_slot(i)->sync_id;
	LWLockRelease(nango_shared->lock);
	rows = catalog_due_syncs(busy, nbusy, limit, count, cxt);
	due = MemoryContextAllocZero(cxt, sizeof(DueSync) * Max(*count, 1));
	for (int r = 0; r < *count; r++)
	{
		due[r].id = rows[r].id;
		due[r].owner = rows[r].owner;
		make_label(ls, due[r].label, due[r].id, rows[r].friendly_name);
		due[r].owner_exists = rows[r].owner_exists;
		due[r].owner_can_login = rows[r].owner_can_login;
		due[r].owner_can_connect = rows[r].owner_can_connect;
		due[r].scheduled = rows[r].scheduled;
		due[r].retry_due = rows[r].retry_due;
		due[r].due_at = rows[r].due_at;
		due[r].retry_attempt = rows[r].retry_attempt;
		due[r].has_trigger = rows[r].has_trigger;
		due[r].triggered_at = rows[r].triggered_at;
		due[r].resumed = rows[r].resumed;
		due[r].resumed_at = rows[r].resumed_at;
		due[r].after_parent = rows[r].after_parent;
	}
	return due;
}

/*
 * fetch_next_due: the earliest future next_run_at or retry_at of an
 * active sync, to sleep no longer than that.  Each minimum is read from
 * its partial index (syncs_due_idx, syncs_retry_idx), not from a scan of
 * every sync.
 */
static void
fetch_next_due(LauncherState *ls)
{
	ls->next_due = catalog_next_due();
}

/*
 * mark_started: the run of d has started: clear the trigger or resume that
 * asked for it (unless a newer one came meanwhile) and the retry it
 * fulfils.
 */
static void
mark_started(const DueSync *d)
{
	catalog_mark_started(d->id, d->has_trigger, d->triggered_at, d->resumed, d->resumed_at);
}

/*
 * skip_sync: d cannot run (why); say so once per sync and move its
 * schedule on as if it had run, so it does not come back every second.
 */
static void
skip_sync(LauncherState *ls, const DueSync *d, const char *why)
{
	bool		found;
	bool		warned = false;

	for (int i = 0; i < ls->nwarned; i++)
		warned |= (ls->warned[i] == d->id);
	if (!warned)
	{
		nango_log(NANGO_LOG_WARNING, WARNING, "nango: %s skipped: %s", d->label, why);
		if (ls->nwarned == ls->maxwarned)
		{
			ls->maxwarned = Max(16, ls->maxwarned * 2);
			ls->warned = ls->warned == NULL ?
				MemoryContextAlloc(TopMemoryContext, sizeof(int64) * ls->maxwarned) :
				repalloc(ls->warned, sizeof(int64) * ls->maxwarned);
		}
		ls->warned[ls->nwarned++] = d->id;
	}
	mark_started(d);
	(void) advance_schedule(d->id, d->scheduled, d->due_at, &found);
	if (found)
		schedule_retry(d->id, 0, false, false, 0, d->label);
}

/*
 * run_trigger: why d runs (nango.jobs.trigger): resume_sync, its schedule
 * (for a child sync without one of its own: its parent's successful job),
 * trigger_sync, or an automatic retry, in that order when several apply.
 */
static NangoJobTrigger
run_trigger(const DueSync *d)
{
	if (d->scheduled && d->resumed)
		return NANGO_TRIGGER_RESUME;
	if (d->scheduled && d->after_parent)
		return NANGO_TRIGGER_PARENT;
	if (d->scheduled)
		return NANGO_TRIGGER_SCHEDULE;
	if (d->has_trigger)
		return NANGO_TRIGGER_TRIGGER;
	return NANGO_TRIGGER_RETRY;
}

/*
 * fill_order: put the job of d in slot s (lock held exclusively): a new
 * generation, the sync, its owner, why it runs.
 */
static void
fill_order(NangoJobSlot *s, const DueSync *d, int attempt)
{
	s->busy = false;
	s->generation++;
	s->dboid = MyDatabaseId;
	s->owner = d->owner;
	s->owner_nologin = !d->owner_can_login;
	s->sync_id = d->id;
	s->attempt = attempt;
	s->scheduled = d->scheduled;
	s->trigger = run_trigger(d);
	s->retryable = false;
	s->due_at = d->due_at;
	s->launched_at = GetCurrentTimestamp();
	s->job_id = 0;
	strlcpy(s->label, d->label, sizeof(s->label));
}

/*
 * claim_slot: take a free job slot for d and fill it; -1 when none, or
 * when it is another database's turn (nango.max_workers is shared).
 */
static int
claim_slot(const DueSync *d, int attempt)
{
	int			idx = -1;
	int			cap = Min(nango_max_workers, nango_shared->nslots);

	LWLockAcquire(nango_shared->lock, LW_EXCLUSIVE);
	if (!nango_db_take_turn_locked(MyDatabaseId, cap))
	{
		LWLockRelease(nango_shared->lock);
		return -1;
	}
	for (int i = 0; i < nango_shared->nslots && idx < 0; i++)
	{
		NangoJobSlot *s = nango_slot(i);

		if (s->in_use)
			continue;
		idx = i;
		s->in_use = true;
		s->exited = false;
		s->pid = 0;
		s->procno = -1;
		s->idle = false;
		s->parked = false;
		s->order_pending = false;
		s->retire = false;
		s->retired = false;
		fill_order(s, d, attempt);
	}
	LWLockRelease(nango_shared->lock);
	return idx;
}

/*
 * reuse_slot: hand d to a parked job worker of this database connected as
 * d's owner (the same way: LOGIN or not), when it is this database's turn
 * (the parked worker's slot counts as free for the turn, as if it had
 * exited and been started again).  Returns the slot, -1 when no worker
 * fits, -2 when it is another database's turn.  The worker is woken after
 * the launcher's transaction commits.
 */
static int
reuse_slot(const DueSync *d, int attempt)
{
	int			idx = -1;
	int			cap = Min(nango_max_workers, nango_shared->nslots);

	LWLockAcquire(nango_shared->lock, LW_EXCLUSIVE);
	for (int i = 0; i < nango_shared->nslots && idx < 0; i++)
	{
		NangoJobSlot *s = nango_slot(i);

		if (s->in_use && s->dboid == MyDatabaseId && s->parked && !s->order_pending &&
			!s->retire && !s->retired && !s->exited && s->owner == d->owner &&
			s->owner_nologin == !d->owner_can_login)
			idx = i;
	}
	if (idx >= 0)
	{
		NangoJobSlot *s = nango_slot(idx);
		bool		turn;

		s->in_use = false;
		turn = nango_db_take_turn_locked(MyDatabaseId, cap);
		s->in_use = true;
		if (turn)
		{
			fill_order(s, d, attempt);
			s->parked = false;
			s->order_pending = true;
		}
		else
			idx = -2;
	}
	LWLockRelease(nango_shared->lock);
	return idx;
}

/*
 * launch: hand d to a parked job worker of its owner (reuse_slot), or
 * else start a job worker for it.  Returns false when neither could be
 * done (no free slot, or another database's turn): the sync stays due and
 * is tried again.
 */
static bool
launch(LauncherState *ls, const DueSync *d)
{
	BackgroundWorker w;
	int			attempt = d->scheduled ? 1 : (d->retry_due ? d->retry_attempt + 1 : 1);
	int			idx = reuse_slot(d, attempt);
	uint32		generation;
	MemoryContext old;
	bool		registered;

	if (idx == -2)
		return false;
	if (idx >= 0)
	{
		mark_started(d);
		ls->handed[ls->nhanded++] = idx;
		nango_log(NANGO_LOG_DEBUG, LOG, "nango: handing a job of %s (attempt %d) to the job worker of slot %d",
				  d->label, attempt, idx);
		return true;
	}
	idx = claim_slot(d, attempt);
	if (idx < 0)
		return false;
	generation = nango_slot(idx)->generation;
	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "nango");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "nango_job_worker_main");
	snprintf(w.bgw_name, BGW_MAXLEN, "nango job: %s", d->label);
	snprintf(w.bgw_type, BGW_MAXLEN, "nango job");
	w.bgw_main_arg = Int32GetDatum(idx);
	memcpy(w.bgw_extra, &generation, sizeof(generation));
	w.bgw_notify_pid = MyProcPid;

	old = MemoryContextSwitchTo(TopMemoryContext);
	registered = RegisterDynamicBackgroundWorker(&w, &ls->handles[idx]);
	MemoryContextSwitchTo(old);
	if (!registered)
	{
		ls->handles[idx] = NULL;
		free_slot(ls, idx);
		if (!ls->no_slot_logged)
			nango_log(NANGO_LOG_WARNING, WARNING,
					  "nango: could not start a job worker for %s: no free background worker slot",
					  d->label);
		ls->no_slot_logged = true;
		return false;
	}
	ls->no_slot_logged = false;
	mark_started(d);
	nango_log(NANGO_LOG_DEBUG, LOG, "nango: starting a job of %s (attempt %d)", d->label, attempt);
	return true;
}

/*
 * set_wants: publish how many due syncs of this database wait for a job
 * slot, so other databases' launchers let it have its turn.
 */
static void
set_wants(LauncherState *ls, int wants)
{
	if (wants == ls->wants && wants == 0)
		return;
	ls->wants = wants;
	nango_db_set_wants(MyDatabaseId, wants);
}

/*
 * nango_schedule_start_due: start a job for each due sync, as many as
 * nango.max_workers (and free job slots) allow, on a parked worker of its
 * owner when there is one (see launch); parked workers left without a job
 * are asked to exit (jobslots.c).  An ERROR here (caught by the caller) leaves parked
 * workers to exit on their own (jobworker.c, NANGO_IDLE_WAIT_MS) and
 * handed ones to be woken by their own timeout check.
 */
void
nango_schedule_start_due(LauncherState *ls, void *arg)
{
	int			cap = Min(nango_max_workers, nango_shared->nslots);
	int			free_n = cap - nango_slots_running() + nango_slots_parked();
	int			n = 0;
	int			i;
	DueSync    *due;
	bool		no_jobs;

	LWLockAcquire(nango_shared->lock, LW_SHARED);
	no_jobs = (nango_shared->no_jobs_dboid == MyDatabaseId);
	LWLockRelease(nango_shared->lock);
	ls->nhanded = 0;
	if (no_jobs)
	{
		nango_slots_retire_parked();
		set_wants(ls, 0);
		return;					/* DROP EXTENSION nango in progress */
	}
	if (!nango_launcher_tx_begin(ls, "nango launcher: looking for due syncs"))
	{
		nango_slots_retire_parked();
		return;
	}
	/* With no free slot, one due sync still says this database waits. */
	due = fetch_due(ls, Max(free_n, 1), &n);
	for (i = 0; i < n; i++)
	{
		if (!due[i].owner_exists)
			skip_sync(ls, &due[i], psprintf("its owner role (oid %u) no longer exists", due[i].owner));
		else if (!due[i].owner_can_connect)
			skip_sync(ls, &due[i], "its owner may not connect to this database (CONNECT privilege)");
		else if (!launch(ls, &due[i]))
			break;
	}
	fetch_next_due(ls);
	nango_launcher_tx_commit(ls);
	nango_slots_wake_handed(ls);
	nango_slots_retire_parked();
	set_wants(ls, n - i);
}
