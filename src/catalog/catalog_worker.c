/*-------------------------------------------------------------------------
 *
 * catalog_worker.c
 *	  The catalog statements of the worker's launcher (catalog.h): due
 *	  syncs, schedule and retry columns of nango.syncs, jobs left behind by
 *	  dead processes, job progress and retention in nango.jobs.  Part of the
 *	  catalog module (see catalog.c for what it owns and must not do); kept
 *	  apart only for the length of the file.
 *
 *	  They run in the launcher's short transactions (its own identity, with
 *	  search_path set to pg_catalog for the whole process).  None of them
 *	  waits for a lock a user's transaction holds: locked rows are skipped
 *	  (SKIP LOCKED) or fail at once (NOWAIT) and are taken up at a later
 *	  turn.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "catalog.h"
#include "extinfo.h"

/* ---------------------------------------------------------------------
 * nango.syncs and nango.jobs, for the worker's launcher
 * ---------------------------------------------------------------------
 */

/* due_row: row r of the last result of catalog_due_syncs, into *d. */
static void
due_row(int r, DueSyncRow *d)
{
	HeapTuple	tup = SPI_tuptable->vals[r];
	TupleDesc	desc = SPI_tuptable->tupdesc;
	bool		isnull;
	Datum		v;

	d->id = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
	d->owner = DatumGetObjectId(SPI_getbinval(tup, desc, 2, &isnull));
	d->friendly_name = SPI_getvalue(tup, desc, 3);
	d->owner_exists = DatumGetBool(SPI_getbinval(tup, desc, 4, &isnull));
	d->owner_can_login = DatumGetBool(SPI_getbinval(tup, desc, 5, &isnull));
	v = SPI_getbinval(tup, desc, 6, &isnull);
	d->owner_can_connect = !isnull && DatumGetBool(v);
	v = SPI_getbinval(tup, desc, 7, &isnull);
	d->scheduled = !isnull && DatumGetBool(v);
	v = SPI_getbinval(tup, desc, 8, &isnull);
	d->retry_due = !isnull && DatumGetBool(v);
	v = SPI_getbinval(tup, desc, 9, &isnull);
	d->due_at = isnull ? 0 : DatumGetTimestampTz(v);
	d->retry_attempt = DatumGetInt32(SPI_getbinval(tup, desc, 10, &isnull));
	v = SPI_getbinval(tup, desc, 11, &isnull);
	d->has_trigger = !isnull;
	d->triggered_at = isnull ? 0 : DatumGetTimestampTz(v);
	v = SPI_getbinval(tup, desc, 12, &isnull);
	d->resumed = !isnull;
	d->resumed_at = isnull ? 0 : DatumGetTimestampTz(v);
	v = SPI_getbinval(tup, desc, 13, &isnull);
	d->after_parent = !isnull && DatumGetBool(v);
}

/*
 * catalog_due_syncs: up to limit due syncs (scheduled, retry due or
 * triggered), not among busy and without a running job of a live
 * process, earliest first, with what starting them needs; allocated in
 * cxt, *count of them.  Their rows stay locked until the transaction
 * ends; a row a user's open transaction holds is passed over (SKIP
 * LOCKED).  resumed_at is new in 0.3 (see nango_has_column).
 */
DueSyncRow *
catalog_due_syncs(const int64 *busy, int nbusy, int limit, int *count, MemoryContext cxt)
{
	Oid			types[2] = {INT8ARRAYOID, INT4OID};
	Datum		values[2];
	Datum	   *elems = palloc(sizeof(Datum) * Max(nbusy, 1));
	DueSyncRow *due;
	MemoryContext old;

	for (int i = 0; i < nbusy; i++)
		elems[i] = Int64GetDatum(busy[i]);
	values[0] = PointerGetDatum(construct_array(elems, nbusy, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	values[1] = Int32GetDatum(limit);
	if (SPI_execute_with_args(psprintf(
							  "SELECT s.id, s.owner::oid, s.friendly_name, a.oid IS NOT NULL,"
							  "  COALESCE(a.rolcanlogin, false),"
							  "  a.oid IS NOT NULL AND pg_catalog.has_database_privilege(a.oid,"
							  "    (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database()), 'CONNECT'),"
							  "  s.status = 'active' AND s.next_run_at <= pg_catalog.now(),"
							  "  s.status = 'active' AND s.retry_at <= pg_catalog.now(),"
							  "  s.next_run_at, s.retry_attempt, s.triggered_at, %s,"
							  "  s.config ? 'parent' AND s.frequency IS NULL AND s.cron IS NULL"
							  " FROM nango.syncs s LEFT JOIN pg_catalog.pg_authid a ON a.oid = s.owner::oid"
							  /* three arms, one partial index each: no scan of every sync */
							  " WHERE ((s.status = 'active' AND s.next_run_at <= pg_catalog.now())"
							  "        OR (s.status = 'active' AND s.retry_at <= pg_catalog.now())"
							  "        OR s.triggered_at IS NOT NULL)"
							  "   AND s.id <> ALL ($1)"
							  "   AND NOT EXISTS (SELECT 1 FROM nango.jobs j"
							  "                   WHERE j.sync_id = s.id AND j.status = 'running'"
							  "                     AND (j.pid IS NULL OR j.pid IN"
							  "                          (SELECT a.pid FROM pg_catalog.pg_stat_activity a)))"
							  " ORDER BY LEAST(s.triggered_at, s.retry_at, s.next_run_at), s.id"
							  " LIMIT $2 FOR NO KEY UPDATE OF s SKIP LOCKED",
							  nango_has_column("syncs", "resumed_at") ? "s.resumed_at" : "NULL::pg_catalog.timestamptz"),
							  2, types, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not look for due syncs");
	*count = SPI_processed;
	due = MemoryContextAllocZero(cxt, sizeof(DueSyncRow) * Max(*count, 1));
	old = MemoryContextSwitchTo(cxt);
	for (int r = 0; r < *count; r++)
		due_row(r, &due[r]);
	MemoryContextSwitchTo(old);
	return due;
}

/*
 * catalog_next_due: the earliest future next_run_at or retry_at of an
 * active sync; 0 when there is none (or it cannot be read).  Each minimum
 * is read from its partial index (syncs_due_idx, syncs_retry_idx), not
 * from a scan of every sync.
 */
TimestampTz
catalog_next_due(void)
{
	bool		isnull;
	Datum		d;

	if (SPI_execute("SELECT LEAST((SELECT pg_catalog.min(next_run_at) FROM nango.syncs"
					"   WHERE status = 'active' AND next_run_at > pg_catalog.now()),"
					" (SELECT pg_catalog.min(retry_at) FROM nango.syncs"
					"   WHERE status = 'active' AND retry_at > pg_catalog.now()))",
					true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		return 0;
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? 0 : DatumGetTimestampTz(d);
}

/*
 * catalog_mark_started: the run of sync_id has started: the trigger or
 * resume that asked for it (read as triggered_at, resumed_at) is cleared
 * unless a newer one came meanwhile, and so is the retry it fulfils.
 */
void
catalog_mark_started(int64 sync_id, bool has_trigger, TimestampTz triggered_at,
					 bool resumed, TimestampTz resumed_at)
{
	Oid			types[3] = {INT8OID, TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum		values[3];
	char		nulls[3] = "   ";

	values[0] = Int64GetDatum(sync_id);
	values[1] = TimestampTzGetDatum(triggered_at);
	values[2] = TimestampTzGetDatum(resumed_at);
	if (!has_trigger)
		nulls[1] = 'n';
	if (!resumed)
		nulls[2] = 'n';
	if (SPI_execute_with_args(psprintf(
							  "UPDATE nango.syncs SET retry_at = NULL, triggered_at = CASE"
							  " WHEN triggered_at IS NOT DISTINCT FROM $2 THEN NULL ELSE triggered_at END%s"
							  " WHERE id = $1",
							  resumed ? ", resumed_at = CASE"
							  " WHEN resumed_at IS NOT DISTINCT FROM $3 THEN NULL ELSE resumed_at END" : ""),
							  resumed ? 3 : 2, types, values, nulls, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not mark the sync started");
}

/*
 * catalog_lock_sync_cron: locks sync_id's row for a change without waiting
 * (a row a user's transaction holds is an error, retried later) and
 * returns its cron (NULL: none); *found is false when there is no row.
 */
char *
catalog_lock_sync_cron(int64 sync_id, bool *found)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(sync_id)};

	if (SPI_execute_with_args("SELECT cron FROM nango.syncs WHERE id = $1 FOR NO KEY UPDATE NOWAIT",
							  1, types, values, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read sync");
	*found = (SPI_processed == 1);
	return *found ? SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1) : NULL;
}

/*
 * catalog_advance_next_run: after a scheduled run due at due_at, sync_id's
 * next_run_at moves to cron_next (has_cron) or to the first frequency tick
 * after now anchored at due_at, unless it was changed meanwhile; other
 * runs leave it.  Returns the new next_run_at (0: none).
 */
TimestampTz
catalog_advance_next_run(int64 sync_id, bool scheduled, TimestampTz due_at, bool has_cron,
						 TimestampTz cron_next)
{
	Oid			types[4] = {INT8OID, BOOLOID, TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum		values[4];
	char		nulls[4] = "   ";
	bool		isnull;
	Datum		d;

	values[0] = Int64GetDatum(sync_id);
	values[1] = BoolGetDatum(scheduled);
	values[2] = TimestampTzGetDatum(due_at);
	values[3] = TimestampTzGetDatum(has_cron ? cron_next : 0);
	if (!has_cron)
		nulls[3] = 'n';
	if (!scheduled)
		nulls[2] = 'n';
	if (SPI_execute_with_args(
							  "UPDATE nango.syncs SET next_run_at = CASE"
							  "  WHEN $2 AND next_run_at IS NOT DISTINCT FROM $3 THEN CASE"
							  "    WHEN cron IS NOT NULL THEN $4"
							  "    WHEN frequency IS NOT NULL THEN $3 + frequency * (pg_catalog.floor("
							  "      pg_catalog.date_part('epoch', pg_catalog.now() - $3)"
							  "      / pg_catalog.date_part('epoch', frequency)) + 1)"
							  "    ELSE NULL END"
							  "  ELSE next_run_at END,"
							  "  updated_at = updated_at"
							  " WHERE id = $1 RETURNING next_run_at",
							  4, types, values, nulls, false, 1) != SPI_OK_UPDATE_RETURNING)
		elog(ERROR, "could not schedule the next run");
	if (SPI_processed != 1)
		return 0;
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? 0 : DatumGetTimestampTz(d);
}

/*
 * catalog_set_retry: sync_id's automatic retry: number retry at retry_at,
 * or none (retry 0: retry_at becomes NULL).
 */
void
catalog_set_retry(int64 sync_id, int retry, TimestampTz retry_at)
{
	Oid			types[3] = {INT8OID, TIMESTAMPTZOID, INT4OID};
	Datum		values[3];
	char		nulls[3] = "   ";

	values[0] = Int64GetDatum(sync_id);
	values[1] = TimestampTzGetDatum(retry_at);
	values[2] = Int32GetDatum(retry);
	if (retry == 0)
		nulls[1] = 'n';
	if (SPI_execute_with_args("UPDATE nango.syncs SET retry_at = $2, retry_attempt = $3 WHERE id = $1",
							  3, types, values, nulls, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not schedule a retry");
}

/*
 * catalog_fail_dead_job: the job a dead worker left 'running', found by
 * *job_id or by (sync_id, pid) when the worker died before publishing its
 * id, becomes 'failed' with message, and NOTIFY nango_jobs says so; rows
 * locked by someone else are left for a later turn.  Returns whether a job
 * was closed, and then its id in *job_id.
 */
bool
catalog_fail_dead_job(int64 *job_id, const char *message, int64 sync_id, int pid)
{
	Oid			types[4] = {INT8OID, TEXTOID, INT8OID, INT4OID};
	Datum		values[4];
	bool		isnull;

	values[0] = Int64GetDatum(*job_id);
	values[1] = CStringGetTextDatum(message);
	values[2] = Int64GetDatum(sync_id);
	values[3] = Int32GetDatum(pid);
	if (SPI_execute_with_args(
							  "WITH f AS (UPDATE nango.jobs SET status = 'failed',"
							  "   ended_at = pg_catalog.clock_timestamp(), error_message = $2"
							  "   WHERE id IN (SELECT id FROM nango.jobs WHERE status = 'running'"
							  "     AND (id = $1 OR (sync_id = $3 AND pid = $4)) FOR UPDATE NOWAIT)"
							  "   RETURNING id, sync_id)"
							  " SELECT id, pg_catalog.pg_notify('nango_jobs', pg_catalog.json_build_object("
							  "   'sync_id', sync_id, 'job_id', id, 'status', 'failed',"
							  "   'added', 0, 'updated', 0, 'unchanged', 0, 'deleted', 0)::text) FROM f",
							  4, types, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not close job");
	if (SPI_processed == 0)
		return false;
	*job_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	return true;
}

/* catalog_job_status: the status of job_id; NULL when it has no row. */
char *
catalog_job_status(int64 job_id)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(job_id)};

	if (SPI_execute_with_args("SELECT status FROM nango.jobs WHERE id = $1",
							  1, types, values, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read job");
	if (SPI_processed != 1)
		return NULL;
	return SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
}

/*
 * catalog_recover_jobs: every 'running' job whose process is not among
 * live_pids (an int4[]) becomes 'failed' with message, NOTIFY nango_jobs
 * says so, and its sync is due for a retry now; rows locked by someone
 * else are left for a later turn.  Returns how many jobs were closed.
 */
int
catalog_recover_jobs(Datum live_pids, const char *message)
{
	Oid			types[2] = {INT4ARRAYOID, TEXTOID};
	Datum		values[2] = {live_pids, CStringGetTextDatum(message)};

	if (SPI_execute_with_args(
							  "WITH f AS (UPDATE nango.jobs SET status = 'failed',"
							  "   ended_at = pg_catalog.clock_timestamp(), error_message = $2"
							  "   WHERE id IN (SELECT id FROM nango.jobs WHERE status = 'running'"
							  "     AND (pid IS NULL OR pid <> ALL ($1)) FOR UPDATE SKIP LOCKED)"
							  "   RETURNING id, sync_id, attempt),"
							  " s AS (UPDATE nango.syncs x SET retry_at = pg_catalog.now(),"
							  "   retry_attempt = LEAST(f.attempt, 3)"
							  "   FROM f WHERE x.id = f.sync_id AND x.id IN (SELECT id FROM nango.syncs"
							  "     WHERE id IN (SELECT sync_id FROM f) FOR NO KEY UPDATE SKIP LOCKED)"
							  "   RETURNING x.id)"
							  " SELECT pg_catalog.pg_notify('nango_jobs', pg_catalog.json_build_object("
							  "   'sync_id', f.sync_id, 'job_id', f.id, 'status', 'failed',"
							  "   'added', 0, 'updated', 0, 'unchanged', 0, 'deleted', 0)::text), (SELECT count(*) FROM s)"
							  " FROM f",
							  2, types, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not recover jobs left running");
	return (int) SPI_processed;
}

/*
 * catalog_copy_progress: the page and fetched counts of running jobs
 * (three int8[] of the same length: job ids, pages, fetched) into their
 * rows, never lowering a count; rows locked by their job (writing its
 * final state) are skipped rather than waited for.
 */
void
catalog_copy_progress(Datum ids, Datum pages, Datum fetched)
{
	Oid			types[3] = {INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID};
	Datum		values[3] = {ids, pages, fetched};

	if (SPI_execute_with_args(
							  "UPDATE nango.jobs j SET page_count = GREATEST(j.page_count, v.p),"
							  "   fetched_count = GREATEST(j.fetched_count, v.f)"
							  " FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), pg_catalog.unnest($3)) AS v(id, p, f)"
							  " WHERE j.id = v.id AND j.id IN (SELECT id FROM nango.jobs"
							  "   WHERE id = ANY ($1) AND status = 'running' FOR UPDATE SKIP LOCKED)",
							  3, types, values, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not update job progress");
}

/*
 * catalog_delete_old_jobs: deletes the finished jobs that ended more than
 * older_than_s seconds ago (those a user's transaction holds are left for
 * a later turn); returns how many.
 */
uint64
catalog_delete_old_jobs(double older_than_s)
{
	Oid			types[1] = {FLOAT8OID};
	Datum		values[1] = {Float8GetDatum(older_than_s)};

	if (SPI_execute_with_args(
							  "DELETE FROM nango.jobs WHERE id IN (SELECT id FROM nango.jobs"
							  " WHERE status <> 'running' AND ended_at <"
							  " pg_catalog.now() - pg_catalog.make_interval(secs => $1) FOR UPDATE SKIP LOCKED)",
							  1, types, values, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not delete old jobs");
	return SPI_processed;
}
