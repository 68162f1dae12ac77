/*-------------------------------------------------------------------------
 *
 * supervisor.c
 *	  The "nango supervisor": a static background worker, connected to no
 *	  database, that keeps one launcher running in every served database.
 *
 * A background worker can only connect to a database that exists, and
 * connecting to a missing one is a FATAL error.  Restarting a launcher
 * that connects directly would fill the log with that error while the
 * database is missing (and would fight DROP DATABASE).  The supervisor
 * instead reads the shared catalog pg_database every few seconds (and at
 * once when woken: CREATE EXTENSION nango committed, a launcher ended),
 * and starts a launcher in each database that nango.databases (or
 * nango.database) names, that allows connections and is not a template,
 * and that nobody is dropping or renaming.  With '*', a database where a
 * launcher found no extension is left alone (the launcher left) until
 * CREATE EXTENSION nango commits there, or a re-probe every 10 minutes.
 * A database named explicitly that is missing or refuses connections is
 * said once in the log.
 *
 * Owns: registering the background worker when nango is preloaded (the
 * hooks of shmem.c, databases.c and ddlguard.c, and the supervisor
 * itself, a static worker) and starting launchers.  Must not: connect to
 * a database, run SQL, or start job workers (launchers do).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "commands/dbcommands.h"
#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "databases.h"
#include "nango.h"
#include "worker.h"
#include "worker_int.h"

/* Shortest time between two launcher starts in one database (ms). */
#define LAUNCHER_RESTART_MS 2000
/* How often a database where no extension was found is probed again (ms). */
#define REPROBE_MS (10 * 60 * 1000)
/* How often pg_database is read when nothing is pending (ms). */
#define RESCAN_MS 5000

/* One row of pg_database, as the supervisor needs it. */
typedef struct DbRow
{
	Oid			oid;
	char		name[NAMEDATALEN];
	bool		usable;			/* allows connections, not a template, valid */
} DbRow;

/* What the supervisor keeps about the database of one shared entry. */
typedef struct SupDb
{
	Oid			dboid;
	BackgroundWorkerHandle *handle;
	TimestampTz last_start;
} SupDb;

/* A database where a launcher found no extension ('*' mode). */
typedef struct NoExt
{
	Oid			dboid;
	TimestampTz probed_at;
} NoExt;

static SupDb *sup = NULL;		/* parallel to the shared table's entries */
static NoExt *noext = NULL;
static int	nnoext = 0;
static int	maxnoext = 0;
static uint64 created_seen = 0;	/* CREATE EXTENSION commits taken in */
static MemoryContext tick_cxt = NULL;
static List *said = NIL;		/* names already said missing/unusable */
static bool no_slot_said = false;
static bool full_said = false;

/*
 * scan_databases: every database of pg_database (*n of them), in tick_cxt.
 * With no database selected only a heap scan of the shared catalog works
 * (as in the logical replication launcher).
 */
static DbRow *
scan_databases(int *n)
{
	int			max = 64;
	DbRow	   *rows = MemoryContextAlloc(tick_cxt, sizeof(DbRow) * max);
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;

	*n = 0;
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		Form_pg_database db = (Form_pg_database) GETSTRUCT(tup);

		if (*n == max)
		{
			max *= 2;
			rows = repalloc(rows, sizeof(DbRow) * max);
		}
		rows[*n].oid = db->oid;
		strlcpy(rows[*n].name, NameStr(db->datname), NAMEDATALEN);
		rows[*n].usable = db->datallowconn && !db->datistemplate &&
			!database_is_invalid_form(db);
		(*n)++;
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	PopActiveSnapshot();
	CommitTransactionCommand();
	MemoryContextSwitchTo(tick_cxt);
	return rows;
}

/*
 * say_once: log a line about a database named in the settings, once until
 * it is served again (key is the database name).
 */
static void
say_once(const char *name, const char *what)
{
	ListCell   *lc;
	MemoryContext old;

	foreach(lc, said)
		if (strcmp((char *) lfirst(lc), name) == 0)
			return;
	nango_log(NANGO_LOG_INFO, LOG,
			  "nango: database \"%s\" (%s) %s; the launcher waits for it",
			  name, nango_databases_setting(), what);
	old = MemoryContextSwitchTo(TopMemoryContext);
	said = lappend(said, pstrdup(name));
	MemoryContextSwitchTo(old);
}

/* unsay: a database is served: say it again if it goes missing. */
static void
unsay(const char *name)
{
	ListCell   *lc;

	foreach(lc, said)
	{
		if (strcmp((char *) lfirst(lc), name) == 0)
		{
			said = foreach_delete_current(said, lc);
			return;
		}
	}
}

/* noext_find: index of dboid among the databases without extension, or -1. */
static int
noext_find(Oid dboid)
{
	for (int i = 0; i < nnoext; i++)
		if (noext[i].dboid == dboid)
			return i;
	return -1;
}

/* noext_remove: dboid is to be probed again (when it was left alone). */
static void
noext_remove(Oid dboid)
{
	int			i = noext_find(dboid);

	if (i >= 0)
		noext[i] = noext[--nnoext];
}

/* noext_add: a launcher found no extension in dboid just now. */
static void
noext_add(Oid dboid)
{
	if (noext_find(dboid) >= 0)
		return;
	if (nnoext == maxnoext)
	{
		maxnoext = Max(16, maxnoext * 2);
		noext = noext == NULL ?
			MemoryContextAlloc(TopMemoryContext, sizeof(NoExt) * maxnoext) :
			repalloc(noext, sizeof(NoExt) * maxnoext);
	}
	noext[nnoext].dboid = dboid;
	noext[nnoext].probed_at = GetCurrentTimestamp();
	nnoext++;
}

/*
 * take_created: databases where CREATE EXTENSION nango committed since the
 * last look are probed again (all of them when too many to tell).
 */
static void
take_created(void)
{
	Oid			oids[16];
	int			n;

	if (!nango_db_created_since(&created_seen, oids, &n, lengthof(oids)))
		nnoext = 0;
	for (int i = 0; i < n; i++)
		noext_remove(oids[i]);
}

/*
 * start_launcher: register a launcher as a dynamic worker connected to
 * row's database; the supervisor is told when it stops.
 */
static BackgroundWorkerHandle *
start_launcher(const DbRow *row)
{
	BackgroundWorker w;
	BackgroundWorkerHandle *handle;
	MemoryContext old;
	bool		ok;

	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "nango");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "nango_launcher_main");
	snprintf(w.bgw_name, BGW_MAXLEN, "nango launcher in %s", row->name);
	snprintf(w.bgw_type, BGW_MAXLEN, "nango launcher");
	w.bgw_main_arg = ObjectIdGetDatum(row->oid);
	w.bgw_notify_pid = MyProcPid;
	old = MemoryContextSwitchTo(TopMemoryContext);
	ok = RegisterDynamicBackgroundWorker(&w, &handle);
	MemoryContextSwitchTo(old);
	if (!ok)
	{
		if (!no_slot_said)
			nango_log(NANGO_LOG_WARNING, WARNING,
					  "nango: could not start the launcher of database \"%s\": no free background worker slot",
					  row->name);
		no_slot_said = true;
		return NULL;
	}
	no_slot_said = false;
	return handle;
}

/*
 * forget_entry: the launcher of dboid found no extension and left: free
 * its entry and remember the database locally, unless CREATE EXTENSION
 * nango committed there meanwhile (then false: start it again).
 */
static bool
forget_entry(NangoDbEntry *e, Oid dboid)
{
	bool		freed = false;

	LWLockAcquire(nango_shared->lock, LW_EXCLUSIVE);
	if (e->dboid == dboid && e->launcher_pid == 0 && e->no_extension && !e->ext_created)
	{
		e->dboid = InvalidOid;
		freed = true;
	}
	LWLockRelease(nango_shared->lock);
	if (freed)
		noext_add(dboid);
	return freed;
}

/*
 * ensure_launcher: row's database is served: start its launcher unless one
 * runs, the database is being dropped or renamed, a probe found no
 * extension there (and nothing changed since), or it started less than
 * LAUNCHER_RESTART_MS ago.  Returns true when it should be looked at again
 * soon (a start was held back).
 */
static bool
ensure_launcher(const DbRow *row)
{
	NangoDbEntry *e;
	SupDb	   *sd;
	pid_t		pid = 0;
	pid_t		started;
	bool		blocked = false;
	bool		left = false;
	TimestampTz now = GetCurrentTimestamp();
	int			k = noext_find(row->oid);

	if (k >= 0 && !TimestampDifferenceExceeds(noext[k].probed_at, now, REPROBE_MS))
		return false;
	noext_remove(row->oid);

	LWLockAcquire(nango_shared->lock, LW_EXCLUSIVE);
	e = nango_db_add_locked(row->oid);
	if (e != NULL)
	{
		pid = e->launcher_pid;
		blocked = (nango_shared->blocked_dboid == row->oid);
		left = e->no_extension && !e->ext_created;
	}
	LWLockRelease(nango_shared->lock);
	if (e == NULL)
	{
		if (!full_said)
			nango_log(NANGO_LOG_WARNING, WARNING,
					  "nango: database \"%s\" is not served: more databases than max_worker_processes",
					  row->name);
		full_said = true;
		return false;
	}
	sd = &sup[e - nango_db_entry(0)];
	if (sd->dboid != row->oid)
	{
		if (sd->handle != NULL)
			pfree(sd->handle);
		memset(sd, 0, sizeof(*sd));
		sd->dboid = row->oid;
	}
	if (sd->handle != NULL && GetBackgroundWorkerPid(sd->handle, &started) != BGWH_STOPPED)
		return false;
	if (sd->handle != NULL)
		pfree(sd->handle);
	sd->handle = NULL;
	/* A launcher started before this supervisor restarted still runs. */
	if (pid != 0 && kill(pid, 0) == 0)
		return false;
	if (left && forget_entry(e, row->oid))
		return false;
	if (blocked)
		return false;
	if (!TimestampDifferenceExceeds(sd->last_start, now, LAUNCHER_RESTART_MS))
		return true;
	LWLockAcquire(nango_shared->lock, LW_EXCLUSIVE);
	e->no_extension = false;
	e->ext_created = false;
	LWLockRelease(nango_shared->lock);
	sd->last_start = now;
	sd->handle = start_launcher(row);
	return false;
}

/*
 * release_gone: forget the entries of databases that are no longer served
 * (dropped, renamed, refusing connections) once their launcher is gone,
 * and free the job slots of dropped databases whose worker has ended
 * (their launcher, which would have, is gone with the database).
 */
static void
release_gone(const Oid *served, int nserved, const DbRow *rows, int nrows)
{
	TimestampTz now = GetCurrentTimestamp();

	LWLockAcquire(nango_shared->lock, LW_EXCLUSIVE);
	for (int i = 0; i < nango_db_count(); i++)
	{
		NangoDbEntry *e = nango_db_entry(i);
		bool		keep = false;

		for (int k = 0; k < nserved && !keep; k++)
			keep = (served[k] == e->dboid);
		if (OidIsValid(e->dboid) && !keep &&
			(e->launcher_pid == 0 || kill(e->launcher_pid, 0) != 0))
			e->dboid = InvalidOid;
	}
	for (int i = 0; i < nango_shared->nslots; i++)
	{
		NangoJobSlot *slot = nango_slot(i);
		bool		exists = false;

		if (!slot->in_use)
			continue;
		for (int k = 0; k < nrows && !exists; k++)
			exists = (rows[k].oid == slot->dboid);
		if (!exists && (slot->exited ||
						(slot->pid != 0 && kill(slot->pid, 0) != 0) ||
						(slot->pid == 0 &&
						 TimestampDifferenceExceeds(slot->launched_at, now, 60000))))
			slot->in_use = false;
	}
	LWLockRelease(nango_shared->lock);
}

/* supervisor_exit: forget our latch in shared memory. */
static void
supervisor_exit(int code, Datum arg)
{
	LWLockAcquire(nango_shared->lock, LW_EXCLUSIVE);
	nango_shared->supervisor_procno = -1;
	LWLockRelease(nango_shared->lock);
}

/*
 * explicit_missing: say once about each database named in the settings
 * that does not exist; true when there is one (look again soon).
 */
static bool
explicit_missing(const DbRow *rows, int nrows)
{
	char	   *list;
	char	   *tok;
	char	   *save = NULL;
	bool		missing = false;

	if (nango_serve_all())
		return false;
	list = pstrdup(nango_database != NULL && nango_database[0] != '\0' ?
				   nango_database : nango_databases_list);
	for (tok = strtok_r(list, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save))
	{
		bool		found = false;
		char	   *end;

		while (*tok == ' ' || *tok == '\t')
			tok++;
		end = tok + strlen(tok);
		while (end > tok && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		for (int k = 0; k < nrows && !found; k++)
			found = (strcmp(rows[k].name, tok) == 0);
		if (!found)
		{
			say_once(tok, "does not exist");
			missing = true;
		}
	}
	return missing;
}

/*
 * supervise_once: one look at pg_database and the launchers; starts those
 * that are needed and allowed.  Returns true when something should be
 * looked at again within a second.
 */
static bool
supervise_once(void)
{
	int			nrows;
	DbRow	   *rows = scan_databases(&nrows);
	Oid		   *served = palloc(sizeof(Oid) * Max(nrows, 1));
	int			nserved = 0;
	bool		soon = false;

	take_created();
	for (int i = 0; i < nrows; i++)
	{
		if (!nango_database_named(rows[i].name))
			continue;
		if (!rows[i].usable)
		{
			/* Left alone quietly with '*'; said once when named. */
			if (!nango_serve_all())
			{
				say_once(rows[i].name, "does not allow connections or is a template");
				soon = true;
			}
			continue;
		}
		unsay(rows[i].name);
		served[nserved++] = rows[i].oid;
		soon |= ensure_launcher(&rows[i]);
	}
	soon |= explicit_missing(rows, nrows);
	/* Databases dropped since a probe are forgotten. */
	for (int k = nnoext - 1; k >= 0; k--)
	{
		bool		exists = false;

		for (int i = 0; i < nrows && !exists; i++)
			exists = (rows[i].oid == noext[k].dboid);
		if (!exists)
			noext[k] = noext[--nnoext];
	}
	release_gone(served, nserved, rows, nrows);
	return soon;
}

/*
 * nango_supervisor_main: entry point of the static worker.  SIGTERM ends it
 * (die), SIGHUP reloads settings; it exits with the postmaster.
 */
void
nango_supervisor_main(Datum arg)
{
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);
	pgstat_report_appname("nango supervisor");

	LWLockAcquire(nango_shared->lock, LW_EXCLUSIVE);
	nango_shared->supervisor_procno = MyProc->pgprocno;
	LWLockRelease(nango_shared->lock);
	before_shmem_exit(supervisor_exit, (Datum) 0);
	sup = MemoryContextAllocZero(TopMemoryContext, sizeof(SupDb) * Max(nango_db_count(), 1));
	tick_cxt = AllocSetContextCreate(TopMemoryContext, "nango supervisor tick",
									 ALLOCSET_DEFAULT_SIZES);

	for (;;)
	{
		bool		soon;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		MemoryContextReset(tick_cxt);
		MemoryContextSwitchTo(tick_cxt);
		soon = supervise_once();
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 soon ? 1000L : RESCAN_MS, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

/*
 * nango_worker_register: called from _PG_init while shared_preload_libraries
 * is processed (never in a binary upgrade).  Installs the hooks and
 * registers the supervisor, restarted by the postmaster 5 seconds after it
 * ends abnormally.
 */
void
nango_worker_register(void)
{
	BackgroundWorker w;

	nango_shmem_install_hooks();
	nango_ddlguard_install_hook();
	nango_databases_install_hooks();

	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = 5;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "nango");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "nango_supervisor_main");
	snprintf(w.bgw_name, BGW_MAXLEN, "nango supervisor");
	snprintf(w.bgw_type, BGW_MAXLEN, "nango supervisor");
	RegisterBackgroundWorker(&w);
}
