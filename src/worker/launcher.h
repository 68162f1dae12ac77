/*-------------------------------------------------------------------------
 *
 * launcher.h
 *	  The launcher's state and the interface of its parts.  The calls go
 *	  one way: launcher.c (the loop and its housekeeping) calls
 *	  schedule.c (due syncs, job workers, next runs), and both run their
 *	  statements through launchstep.c (short transactions that never wait
 *	  for a lock, steps whose ERROR never stops the loop).  Neither
 *	  schedule.c nor launchstep.c calls launcher.c.
 *
 * The state belongs to nango_launcher_main and is passed by pointer; it is
 * process-local (never in shared memory).
 *
 *-------------------------------------------------------------------------
 */
#ifndef NANGO_LAUNCHER_H
#define NANGO_LAUNCHER_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "postmaster/bgworker.h"

typedef struct LauncherState
{
	MemoryContext loop_cxt;		/* reset every turn of the loop */
	BackgroundWorkerHandle **handles;	/* per job slot; NULL when adopted */
	int64	   *copied_job;		/* per progress entry: last copied values */
	int64	   *copied_pages;
	int64	   *copied_fetched;
	Oid			ext_oid;		/* extension seen (InvalidOid: missing) */
	bool		ext_missing_logged;
	bool		no_slot_logged;
	TimestampTz last_progress;
	TimestampTz last_retention;
	TimestampTz next_due;		/* earliest next_run_at/retry_at, 0 unknown */
	char	   *dbname;			/* this database, for log lines */
	bool		leave;			/* '*' mode, no extension: exit */
	int			wants;			/* due syncs left waiting for a job slot */
	int64	   *warned;			/* syncs skipped with a log line */
	int			nwarned;
	int			maxwarned;
} LauncherState;

/* A step of the launcher: runs in its own transaction(s); see launchstep.c. */
typedef void (*LauncherStepFn) (LauncherState *ls, void *arg);

/* launchstep.c */
extern bool nango_launcher_tx_begin(LauncherState *ls, const char *what);
extern void nango_launcher_tx_commit(LauncherState *ls);
extern bool nango_launcher_run_step(LauncherState *ls, LauncherStepFn fn, void *arg,
									const char *what);

/* schedule.c */
extern void nango_schedule_reap(LauncherState *ls);
extern void nango_schedule_start_due(LauncherState *ls, void *arg);

#endif							/* NANGO_LAUNCHER_H */
