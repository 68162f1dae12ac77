/*-------------------------------------------------------------------------
 *
 * worker_int.h
 *	  Internals shared by the background worker's parts: the shared memory
 *	  state (shmem.c), the supervisor (supervisor.c), the launchers
 *	  (launcher.c, schedule.c, jobslots.c, launchstep.c), the job workers (jobworker.c)
 *	  and the DDL guard (ddlguard.c).
 *
 * Three kinds of processes:
 *	- the supervisor ("nango supervisor"), a static background worker that
 *	  connects to no database; it starts a launcher in every served
 *	  database (databases.c) that exists (and nobody is dropping or
 *	  renaming), so a missing database costs one log line instead of a
 *	  crash loop;
 *	- launchers ("nango launcher"), one dynamic worker per served database,
 *	  which schedule its syncs and start job workers;
 *	- job workers ("nango job"), one dynamic worker per running job,
 *	  connected as the sync's owner; a worker that ended its job may be
 *	  handed the next due job of the same database and owner through its
 *	  slot (jobworker.c, schedule.c) instead of exiting.
 *
 * Only plain values live in shared memory (no process-local pointers).
 * The launchers of the served databases are in the table of databases.h.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NANGO_WORKER_INT_H
#define NANGO_WORKER_INT_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "port/atomics.h"
#include "postmaster/bgworker.h"
#include "storage/lwlock.h"
#include "storage/spin.h"

#include "job.h"

/* One running (or starting) job worker, owned by the launcher. */
typedef struct NangoJobSlot
{
	bool		in_use;			/* allocated by the launcher */
	bool		exited;			/* the worker has gone (set at its exit) */
	bool		busy;			/* the sync was running elsewhere: no job */
	uint32		generation;		/* bumped at every allocation */
	Oid			dboid;
	Oid			owner;			/* role the job runs as */
	bool		owner_nologin;	/* owner may not log in: see jobworker.c */
	int64		sync_id;
	int			attempt;
	bool		scheduled;		/* started because next_run_at was due */
	NangoJobTrigger trigger;	/* what started the job (nango.jobs.trigger) */
	bool		retryable;		/* the job failed in a way that may pass */
	TimestampTz due_at;			/* that next_run_at (schedule anchor) */
	TimestampTz launched_at;
	pid_t		pid;			/* 0 until the worker runs */
	int64		job_id;			/* 0 until the job row exists */
	char		label[BGW_MAXLEN];	/* "sync 12 (friendly name)" for logs */
	/* Reuse of a job worker for the next job of the same database and owner: */
	int			procno;			/* the worker's pgprocno (its latch), -1 until it runs */
	bool		idle;			/* the worker ended its job and waits for another */
	bool		parked;			/* the launcher recorded that job's end: reusable */
	bool		order_pending;	/* the launcher put a new job here: not yet taken */
	bool		retire;			/* the launcher has no job for it: exit */
	bool		retired;		/* the worker takes no more jobs (it is exiting) */
} NangoJobSlot;

/* Bytes kept of a running job's current request ("GET https://...") and trigger. */
#define NANGO_PROGRESS_REQUEST_LEN 512
#define NANGO_PROGRESS_TRIGGER_LEN 24

/*
 * Progress of the job a process is running, one entry per PGPROC (indexed
 * by pgprocno), so every backend and background worker that can run a job
 * has one and the array is never full.  Written only by its process
 * (progress.c), but for cancel_target, which a canceller sets; read by
 * nango.job_progress, nango.cancel_job, nango.delete_sync and the
 * launcher, which copies pages and fetched into the job's row.
 */
typedef struct NangoProgress
{
	slock_t		mutex;
	Oid			dboid;
	int64		job_id;			/* 0 when no job runs */
	int64		pages;
	int64		fetched;
	int64		sync_id;
	Oid			owner;			/* the sync's owner: who may see and cancel */
	int			pid;
	int			waiting;		/* NangoWaiting */
	TimestampTz started_at;
	char		trigger[NANGO_PROGRESS_TRIGGER_LEN];	/* "" when unknown */
	char		request[NANGO_PROGRESS_REQUEST_LEN];	/* method and redacted URL */
	bool		targeted;		/* cancel with SIGUSR2 and cancel_target (progress.c) */
	pg_atomic_uint64 cancel_target; /* the job a canceller last asked to cancel */
} NangoProgress;

/*
 * The header of the shared state.  lock (an LWLock of the "nango" tranche)
 * protects everything but progress[], and the table of served databases
 * (databases.c): shared to read, exclusive to change.  It is never held
 * while running SQL, waiting, or starting a process.
 */
typedef struct NangoShared
{
	LWLock	   *lock;			/* protects everything but progress[] */
	int			supervisor_procno;	/* -1 when not running */
	Oid			blocked_dboid;	/* DROP/RENAME DATABASE in progress */
	Oid			no_jobs_dboid;	/* DROP EXTENSION in progress: start no job */
	int			nslots;
	int			nprogress;
	/* followed by NangoJobSlot[nslots] and NangoProgress[nprogress] */
} NangoShared;

extern NangoShared *nango_shared;

extern NangoJobSlot *nango_slot(int i);
extern NangoProgress *nango_progress_entry(int i);

/* Wake this database's launcher or the supervisor (harmless when none). */
extern void nango_wake_launcher(void);
extern void nango_wake_supervisor(void);
/* Set the latch of the process with that pgprocno (nothing when -1). */
extern void nango_wake_procno(int procno);

/* Hooks installed when preloaded: shared memory (shmem.c), DDL guard (ddlguard.c). */
extern void nango_shmem_install_hooks(void);
extern void nango_ddlguard_install_hook(void);

/* Entry points of the workers (named in bgw_function_name). */
extern PGDLLEXPORT void nango_supervisor_main(Datum arg);
extern PGDLLEXPORT void nango_launcher_main(Datum arg);
extern PGDLLEXPORT void nango_job_worker_main(Datum arg);


#endif							/* NANGO_WORKER_INT_H */
