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

/*
 * nango_job_create: inserts the 'running' row of a new job of sync_id and
 * returns its id.  The worker commits it before executing the job so that a
 * crash leaves a visible 'running' row to recover.
 */
extern int64 nango_job_create(int64 sync_id, int attempt);

/*
 * nango_job_mark_parent_run: a due run of a child sync without a schedule
 * of its own is one its parent's successful job asked for: the job's
 * trigger is 'parent' (SPEC section 13).  Nothing for other syncs.
 */
extern void nango_job_mark_parent_run(int64 job_id);

/*
 * nango_job_execute: runs job_id (created by nango_job_create) in a
 * subtransaction of the current transaction: all data changes of the job
 * commit with the caller's transaction or not at all.  Any ERROR inside the
 * job is caught, the data changes are rolled back, and the job row records
 * the failure (status 'cancelled' for a query cancel).  Returns the final
 * status.
 */
extern NangoJobStatus nango_job_execute(int64 job_id);

#endif							/* NANGO_JOB_H */
