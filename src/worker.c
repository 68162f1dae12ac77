/*-------------------------------------------------------------------------
 *
 * worker.c
 *	  The background worker launcher and the job workers it starts.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "nango.h"
#include "worker.h"

/*
 * nango_worker_register: registers shared memory and the launcher.
 */
void
nango_worker_register(void)
{
}

/*
 * nango_wake_launcher_at_commit: arranges for the launcher to look for due
 * syncs once the current transaction commits.
 */
void
nango_wake_launcher_at_commit(void)
{
}

/*
 * nango_report_progress: publishes a running job's progress.
 */
void
nango_report_progress(int64 job_id, int64 page_count, int64 fetched_count)
{
}
