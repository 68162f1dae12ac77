/*-------------------------------------------------------------------------
 *
 * job.h
 *	  One job of a sync, end to end: fetch every page, store every record,
 *	  record the outcome in nango.jobs.  Used by nango.run_sync and by the
 *	  background job workers alike.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NANGO_JOB_H
#define NANGO_JOB_H

#include "postgres.h"

typedef enum NangoJobStatus
{
	NANGO_JOB_RUNNING,
	NANGO_JOB_SUCCEEDED,
	NANGO_JOB_FAILED,
	NANGO_JOB_CANCELLED
} NangoJobStatus;

/* What started a job (nango.jobs.trigger, docs/tables.md). */
typedef enum NangoJobTrigger
{
	NANGO_TRIGGER_SCHEDULE,		/* next_run_at was due */
	NANGO_TRIGGER_MANUAL,		/* nango.run_sync */
	NANGO_TRIGGER_TRIGGER,		/* nango.trigger_sync */
	NANGO_TRIGGER_RESUME,		/* nango.resume_sync */
	NANGO_TRIGGER_RETRY,		/* automatic retry of a failed job */
	NANGO_TRIGGER_PARENT,		/* after a successful job of the parent sync */
	NANGO_TRIGGER_RESUME_CHECKPOINT /* resumes after a checkpoint */
} NangoJobTrigger;

/* The text stored in nango.jobs.trigger. */
extern const char *nango_job_trigger_name(NangoJobTrigger trigger);

/*
 * nango_job_create: inserts the 'running' row of a new job of sync_id and
 * returns its id.  The worker commits it before executing the job so that a
 * crash leaves a visible 'running' row to recover.
 */
extern int64 nango_job_create(int64 sync_id, int attempt, NangoJobTrigger trigger);

/*
 * nango_job_execute: runs job_id (created by nango_job_create) in a
 * subtransaction of the current transaction: all data changes of the job
 * commit with the caller's transaction or not at all.  Any ERROR inside the
 * job is caught, the data changes are rolled back, and the job row records
 * the failure (status 'cancelled' for a query cancel).  Returns the final
 * status.  *retryable (may be NULL) tells whether a failure can pass by
 * itself (connection errors, timeouts, HTTP 5xx, 429 and 408, a lock or
 * resource shortage), so that an automatic retry makes sense (docs/sync-modes.md); it is false for a job that did not fail.
 */
extern NangoJobStatus nango_job_execute(int64 job_id, bool *retryable);

/*
 * nango_job_warn: adds a line to the warnings of the job running in this
 * process (nango.jobs.warnings: what a user should know about a job that
 * succeeded).  The same line is kept once and at most NANGO_MAX_WARNINGS
 * lines are kept.  Does nothing when no job runs (nango.flatten, say).
 */
#define NANGO_MAX_WARNINGS 20
extern void nango_job_warn(const char *fmt,...) pg_attribute_printf(1, 2);

/*
 * Checkpoints (docs/config.md#checkpoint).  nango_checkpoint_usable: the
 * sync has a checkpoint written with its current URL and config, so its
 * next job of the worker resumes there (SPI connected, as the extension
 * owner).  nango_checkpoint_discard: removes it (a changed config).
 */
extern bool nango_checkpoint_usable(int64 sync_id);
extern void nango_checkpoint_discard(int64 sync_id);

/*
 * nango_page_memo_discard: drops a sync's page memos (a changed config or
 * URL; docs/config.md#skip_unchanged_pages).  As the extension owner.
 */
extern void nango_page_memo_discard(int64 sync_id);

#endif							/* NANGO_JOB_H */
