/*-------------------------------------------------------------------------
 *
 * launchstep.c
 *	  How the launcher runs its statements: each step in a short
 *	  transaction that takes its locks on nango's tables without waiting,
 *	  and an ERROR in a step logged and rolled back so the loop carries on.
 *
 * Owns: starting and ending the launcher's transactions and catching
 * their errors.  Must not: run statements of its own, or call launcher.c
 * or schedule.c by name (both call it; it runs the step it is given).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "executor/spi.h"
#include "pgstat.h"
#include "storage/lmgr.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "launcher.h"
#include "nango.h"

/*
 * nango_launcher_tx_begin: start a short transaction with SPI, shown in
 * pg_stat_activity as what, holding the locks on nango.syncs and
 * nango.jobs that the launcher's statements need.  They are taken without
 * waiting: when someone else holds a conflicting lock (DROP EXTENSION,
 * TRUNCATE, VACUUM FULL, ...) the transaction is abandoned and false
 * returned, so the launcher never waits inside a transaction for a lock a
 * DDL command could be waiting for in turn (no deadlock, no blocking).
 */
bool
nango_launcher_tx_begin(LauncherState *ls, const char *what)
{
	Oid			nsp;
	Oid			syncs = InvalidOid;
	Oid			jobs = InvalidOid;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	nsp = get_namespace_oid("nango", true);
	if (OidIsValid(nsp))
	{
		syncs = get_relname_relid("syncs", nsp);
		jobs = get_relname_relid("jobs", nsp);
	}
	if (!OidIsValid(syncs) || !OidIsValid(jobs) ||
		!ConditionalLockRelationOid(syncs, RowExclusiveLock) ||
		!ConditionalLockRelationOid(jobs, RowExclusiveLock))
	{
		PopActiveSnapshot();
		AbortCurrentTransaction();
		MemoryContextSwitchTo(ls->loop_cxt);
		return false;
	}
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	pgstat_report_activity(STATE_RUNNING, what);
	return true;
}

/* nango_launcher_tx_commit: end the transaction begun above. */
void
nango_launcher_tx_commit(LauncherState *ls)
{
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	MemoryContextSwitchTo(ls->loop_cxt);
	pgstat_report_stat(false);
	pgstat_report_activity(STATE_IDLE, NULL);
}

/*
 * nango_launcher_run_step: run fn(ls, arg); an ERROR is logged, its
 * transaction rolled back, and false returned, so one bad row or a
 * concurrent DROP EXTENSION never stops the launcher.
 */
bool
nango_launcher_run_step(LauncherState *ls, LauncherStepFn fn, void *arg,
						const char *what)
{
	volatile bool ok = true;

	PG_TRY();
	{
		fn(ls, arg);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(ls->loop_cxt);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		MemoryContextSwitchTo(ls->loop_cxt);
		pgstat_report_activity(STATE_IDLE, NULL);
		/* Expected while DROP EXTENSION runs: say it only when debugging. */
		if (edata->sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE ||
			edata->sqlerrcode == ERRCODE_UNDEFINED_TABLE)
			nango_log(NANGO_LOG_DEBUG, LOG, "nango launcher in database \"%s\": %s failed: %s",
					  ls->dbname, what, edata->message);
		else
			nango_log(NANGO_LOG_WARNING, WARNING, "nango launcher in database \"%s\": %s failed: %s",
					  ls->dbname, what, edata->message);
		FreeErrorData(edata);
		ok = false;
	}
	PG_END_TRY();
	return ok;
}
