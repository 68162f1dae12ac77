/*-------------------------------------------------------------------------
 *
 * worker.h
 *	  The background worker launcher and the job workers it starts.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NANGO_WORKER_H
#define NANGO_WORKER_H

/* Called from _PG_init when preloaded: shared memory and the launcher. */
extern void nango_worker_register(void);

/* Ask the launcher to look for due syncs when the current transaction commits. */
extern void nango_wake_launcher_at_commit(void);

/*
 * Publish a running job's progress (pages and records fetched so far).  The
 * job calls it after every page; the worker makes it visible in the job's
 * row in nango.jobs while the job's own transaction is still open.
 */
extern void nango_report_progress(int64 job_id, int64 page_count, int64 fetched_count);

#endif							/* NANGO_WORKER_H */
