/*-------------------------------------------------------------------------
 *
 * progress.h
 *	  What a running job publishes in shared memory while it runs (shown by
 *	  nango.job_progress and nango.sync_status), and cancelling running
 *	  jobs through it (nango.cancel_job, nango.delete_sync).
 *
 * Without shared_preload_libraries there is no shared memory: every
 * function here then does nothing (no job is seen running).
 *
 *-------------------------------------------------------------------------
 */
#ifndef NANGO_PROGRESS_H
#define NANGO_PROGRESS_H

#include "postgres.h"

#include "datatype/timestamp.h"

/* What a running job waits for (nango.job_progress.waiting_for). */
typedef enum NangoWaiting
{
	NANGO_WAITING_NONE = 0,
	NANGO_WAITING_API,			/* an HTTP request's answer */
	NANGO_WAITING_RATE_LIMIT,	/* a rate limit's budget or reset */
	NANGO_WAITING_RETRY,		/* the backoff before a request is retried */
	NANGO_WAITING_STORE			/* storing a page (nango.raw, mapped table) */
} NangoWaiting;

/*
 * nango_progress_begin: this process starts running job_id of sync_id
 * (owned by owner, started for trigger, which may be NULL); it shows in
 * nango.job_progress from now until nango_progress_end, the end of the
 * transaction or the exit of the process, whichever comes first.
 * Returns false, publishing nothing, when this process already shows a job
 * (a job started from inside another one, by a trigger say): the outer
 * job stays the one shown, and nango_progress_end must not be called.
 */
extern bool nango_progress_begin(int64 job_id, int64 sync_id, Oid owner,
								 const char *trigger, TimestampTz started_at);

/* nango_progress_end: the job of this process is over. */
extern void nango_progress_end(void);

/*
 * nango_progress_cancellable: this process (a job worker) runs job_id
 * from now until it calls this again with 0: nango.cancel_job and
 * nango.delete_sync may cancel that job, and only that job, including
 * between the transactions of a job with checkpoints.  Without it the job
 * published by nango_progress_begin is the one they may cancel.
 */
extern void nango_progress_cancellable(int64 job_id);

/*
 * nango_progress_request: the request the job sends now (method and a
 * redacted URL: never pass a secret).
 */
extern void nango_progress_request(const char *method, const char *redacted_url);

/*
 * nango_progress_wait: what the job waits for now (NANGO_WAITING_NONE when
 * the wait is over).  Does nothing when this process runs no job (preview,
 * add_sync's checks), so HTTP code may call it unconditionally.
 */
extern void nango_progress_wait(NangoWaiting waiting);

/*
 * nango_cancel_sync_jobs: cancels the running jobs of sync_id in this
 * database (other processes') and waits, at most timeout_ms, until they
 * have ended (0: signal them and return).  Returns how many were still
 * running at the end.  The
 * caller has checked that it may manage the sync.
 */
extern int	nango_cancel_sync_jobs(int64 sync_id, int timeout_ms);

#endif							/* NANGO_PROGRESS_H */
