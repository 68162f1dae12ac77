/*-------------------------------------------------------------------------
 *
 * launcher.h
 *	  State and steps of the launcher, shared by launcher.c (the loop) and
 *	  schedule.c (starting due syncs, reaping job workers, computing the
 *	  next run).
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

extern LauncherState L;

extern bool nango_launcher_tx_begin(const char *what);
extern void nango_launcher_tx_commit(void);
extern bool nango_launcher_run_step(void (*fn) (void *), void *arg, const char *what);

/* schedule.c */
extern int	nango_launcher_running_count(void);
extern void nango_launcher_reap(void);
extern void nango_launcher_start_due(void *arg);

#endif							/* NANGO_LAUNCHER_H */
