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

#endif							/* NANGO_WORKER_H */
