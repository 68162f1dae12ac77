/*-------------------------------------------------------------------------
 *
 * catalog.c
 *	  nango's own catalog: the only module that runs statements on
 *	  nango.syncs and nango.jobs.  The SQL API (api.c, secrets.c), the
 *	  engine (job.c, outcome.c, pages.c, preview.c, progress.c), the store
 *	  (mapping.c for mapped tables' owners, store.c for the lock on a sync's
 *	  row) and the worker (schedule.c, launcher.c) call the
 *	  functions here instead of writing SQL on these tables; pg_cron keeps
 *	  its job_metadata.c the same way.  It also holds the one row struct of
 *	  a sync (SyncRow) and the one rule of who may manage a sync
 *	  (catalog_may_manage).  The launcher's statements are in
 *	  catalog_worker.c, the same module in a second file.  nango's other
 *	  tables have one module each as well: nango.raw the store's (store.c,
 *	  rawinsert.c), nango.secret_values secrets.c, nango.connection_grants
 *	  grants.c.
 *
 *	  It has a folder of its own, below the four that use it (src/api,
 *	  src/engine, src/store, src/worker), and uses only
 *	  src/common: the worker, which writes no records, and the store, which
 *	  reads no config, need no other folder to reach it.
 *
 *	  What it owns: the text of each statement (schema-qualified, every
 *	  value an SPI parameter), the columns a
 *	  statement reads and how it locks, and the checks for columns that a
 *	  database still at an older version of the extension lacks
 *	  (nango_has_column).
 *
 *	  What it must not do: switch roles, pin search_path or connect to SPI
 *	  (its callers do, around each call, exactly as they decide: the
 *	  extension owner with search_path pinned for the SQL API and the
 *	  engine, so that row-level security and objects in users' schemas
 *	  never change what a statement sees; the launcher's own identity for
 *	  the worker); raise users' errors (a function says what it found, the
 *	  caller words the error); make requests or touch nango.raw or mapped
 *	  tables, with one exception: the parent's first record for a preview
 *	  of a child sync, read with the parent's row in one statement.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "catalog.h"
#include "extinfo.h"

/* The condition "sync s is a child of the sync whose id (as text) is $1". */
#define CHILD_OF_1 "s.config OPERATOR(pg_catalog.->) 'parent' OPERATOR(pg_catalog.->>) 'sync' OPERATOR(pg_catalog.=) $1"

/* first_int8: column col of the first row of the last result. */
static int64
first_int8(int col)
{
	bool		isnull;

	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, col, &isnull));
}

/*
 * catalog_may_manage: whether caller may manage (see, change, run, cancel,
 * delete) the syncs of owner and their jobs: the owner itself, a member of
 * the owner role, or a superuser.  The same rule as the row-level security
 * policies of nango.syncs and nango.jobs.
 */
bool
catalog_may_manage(Oid caller, Oid owner)
{
	return superuser_arg(caller) || has_privs_of_role(caller, owner);
}

/* ---------------------------------------------------------------------
 * nango.syncs, for the SQL API
 * ---------------------------------------------------------------------
 */

/*
 * catalog_read_sync: sync id's row, locked as lock says, copied into cxt;
 * false when there is none.
 */
bool
catalog_read_sync(int64 id, SyncLock lock, SyncRow *row, MemoryContext cxt)
{
	Oid			types[1] = {INT8OID};
	Datum		vals[1] = {Int64GetDatum(id)};
	HeapTuple	tup;
	TupleDesc	td;
	bool		isnull;
	Datum		d;
	MemoryContext old;

	if (SPI_execute_with_args(psprintf("SELECT owner::pg_catalog.oid, url, config, friendly_name, mapped_table, "
									   "incremental_state FROM nango.syncs WHERE id OPERATOR(pg_catalog.=) $1%s",
									   lock == SYNC_LOCK_NONE ? "" :
									   lock == SYNC_LOCK_CHANGE ? " FOR NO KEY UPDATE" : " FOR UPDATE"),
							  1, types, vals, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read sync " INT64_FORMAT, id);
	if (SPI_processed == 0)
		return false;
	tup = SPI_tuptable->vals[0];
	td = SPI_tuptable->tupdesc;
	old = MemoryContextSwitchTo(cxt);
	row->id = id;
	row->owner = DatumGetObjectId(SPI_getbinval(tup, td, 1, &isnull));
	row->url = SPI_getvalue(tup, td, 2);
	row->config = DatumGetJsonbPCopy(SPI_getbinval(tup, td, 3, &isnull));
	row->friendly_name = SPI_getvalue(tup, td, 4);
	row->mapped_table = SPI_getvalue(tup, td, 5);
	d = SPI_getbinval(tup, td, 6, &isnull);
	row->incremental_state = isnull ? NULL : DatumGetJsonbPCopy(d);
	MemoryContextSwitchTo(old);
	return true;
}

/*
 * catalog_sync_by_name: the id of owner's sync called name other than
 * except_id (0: any), its row locked for a change when lock is set; 0 when
 * there is none.  (Sync ids start at 1.)
 */
int64
catalog_sync_by_name(Oid owner, const char *name, int64 except_id, bool lock)
{
	Oid			types[3] = {REGROLEOID, TEXTOID, INT8OID};
	Datum		values[3] = {ObjectIdGetDatum(owner), CStringGetTextDatum(name), Int64GetDatum(except_id)};

	if (SPI_execute_with_args(psprintf("SELECT id FROM nango.syncs WHERE owner OPERATOR(pg_catalog.=) $1 "
									   "AND friendly_name OPERATOR(pg_catalog.=) $2 "
									   "AND id OPERATOR(pg_catalog.<>) $3%s",
									   lock ? " FOR NO KEY UPDATE" : ""),
							  3, types, values, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not look up sync \"%s\"", name);
	return SPI_processed == 0 ? 0 : first_int8(1);
}

/*
 * catalog_child_count: how many syncs name sync id as their parent (and
 * the first one's id in *first).
 */
int64
catalog_child_count(int64 id, int64 *first)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(psprintf(INT64_FORMAT, id))};

	if (SPI_execute_with_args("SELECT pg_catalog.count(*), pg_catalog.min(s.id) FROM nango.syncs s WHERE " CHILD_OF_1,
							  1, types, values, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not look for child syncs");
	*first = first_int8(2);
	return first_int8(1);
}

/*
 * catalog_chain_depths: the ancestors of sync parent_id counted from it
 * (itself included), whether self_id is one of them (a cycle), and the
 * height of self_id's descendants (0 when it has none).  Both walks stop
 * at 10 steps, so a cycle already stored cannot loop.
 */
void
catalog_chain_depths(int64 parent_id, int64 self_id, int *ancestors, bool *cycle, int *height)
{
	Oid			types[2] = {INT8OID, TEXTOID};
	Datum		values[2] = {Int64GetDatum(parent_id), CStringGetTextDatum(psprintf(INT64_FORMAT, self_id))};
	bool		isnull;

	if (SPI_execute_with_args("WITH RECURSIVE up(id, n) AS ("
							  "  SELECT $1, 1 UNION ALL"
							  "  SELECT (s.config OPERATOR(pg_catalog.->) 'parent' OPERATOR(pg_catalog.->>) 'sync')::pg_catalog.int8,"
							  "         up.n OPERATOR(pg_catalog.+) 1"
							  "    FROM nango.syncs s JOIN up ON s.id OPERATOR(pg_catalog.=) up.id"
							  "   WHERE s.config OPERATOR(pg_catalog.?) 'parent' AND up.n OPERATOR(pg_catalog.<) 10),"
							  " down(id, n) AS ("
							  "  SELECT s.id, 1 FROM nango.syncs s WHERE s.config OPERATOR(pg_catalog.->) 'parent' "
							  "         OPERATOR(pg_catalog.->>) 'sync' OPERATOR(pg_catalog.=) $2 UNION ALL"
							  "  SELECT s.id, down.n OPERATOR(pg_catalog.+) 1 FROM nango.syncs s JOIN down"
							  "    ON s.config OPERATOR(pg_catalog.->) 'parent' OPERATOR(pg_catalog.->>) 'sync'"
							  "       OPERATOR(pg_catalog.=) down.id::pg_catalog.text"
							  "   WHERE down.n OPERATOR(pg_catalog.<) 10)"
							  " SELECT (SELECT pg_catalog.max(n) FROM up),"
							  "  (SELECT pg_catalog.count(*) OPERATOR(pg_catalog.>) 0 FROM up"
							  "    WHERE id::pg_catalog.text OPERATOR(pg_catalog.=) $2),"
							  "  (SELECT COALESCE(pg_catalog.max(n), 0) FROM down)",
							  2, types, values, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the chain of parent syncs");
	*ancestors = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	*cycle = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	*height = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));
}

/*
 * catalog_lock_parent: locks sync id of owner against deletion (FOR KEY
 * SHARE) and says whether its config has a unique_key; false when owner
 * has no sync id.
 */
bool
catalog_lock_parent(int64 id, Oid owner, bool *has_key)
{
	Oid			types[2] = {INT8OID, REGROLEOID};
	Datum		values[2] = {Int64GetDatum(id), ObjectIdGetDatum(owner)};
	bool		isnull;

	if (SPI_execute_with_args("SELECT config OPERATOR(pg_catalog.?) 'unique_key' FROM nango.syncs "
							  "WHERE id OPERATOR(pg_catalog.=) $1 AND owner OPERATOR(pg_catalog.=) $2 FOR KEY SHARE",
							  2, types, values, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the parent sync");
	if (SPI_processed == 0)
		return false;
	*has_key = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	return true;
}

/*
 * catalog_next_sync_id: a new sync id from nango.syncs_id_seq (taken
 * before the insert, so that the mapped table's default name can use it).
 */
int64
catalog_next_sync_id(void)
{
	if (SPI_execute("SELECT pg_catalog.nextval('nango.syncs_id_seq'::pg_catalog.regclass)", false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not allocate a sync id");
	return first_int8(1);
}

/*
 * catalog_insert_sync: the row of new sync id of owner, from a validated
 * config, its mapped table (NULL: none) already resolved.  Its first run
 * is due now; a child without a schedule of its own waits for its
 * parent's next job.
 */
void
catalog_insert_sync(int64 id, Oid owner, const SyncConfigColumns *cols)
{
	Datum		values[8];
	char		nulls[8];
	Oid			types[8] = {INT8OID, REGROLEOID, TEXTOID, JSONBOID, TEXTOID,
	INTERVALOID, TEXTOID, TEXTOID};

	memset(nulls, ' ', sizeof(nulls));
	values[0] = Int64GetDatum(id);
	values[1] = ObjectIdGetDatum(owner);
	values[2] = CStringGetTextDatum(cols->url);
	values[3] = JsonbPGetDatum(cols->config);
	values[4] = cols->friendly_name ? CStringGetTextDatum(cols->friendly_name) : (Datum) 0;
	nulls[4] = cols->friendly_name ? ' ' : 'n';
	values[5] = cols->frequency ? IntervalPGetDatum(cols->frequency) : (Datum) 0;
	nulls[5] = cols->frequency ? ' ' : 'n';
	values[6] = cols->cron ? CStringGetTextDatum(cols->cron) : (Datum) 0;
	nulls[6] = cols->cron ? ' ' : 'n';
	values[7] = cols->mapped_table ? CStringGetTextDatum(cols->mapped_table) : (Datum) 0;
	nulls[7] = cols->mapped_table ? ' ' : 'n';
	if (SPI_execute_with_args("INSERT INTO nango.syncs (id, owner, url, config, friendly_name, frequency, cron, "
							  "mapped_table, next_run_at) "
							  "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
							  "CASE WHEN $6 IS NULL AND $7 IS NULL THEN NULL ELSE pg_catalog.now() END)",
							  8, types, values, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not insert sync");
}

/*
 * catalog_write_sync_config: stores a validated config (and its URL) on
 * sync id with the columns derived from it.  When the schedule changes,
 * next_run_at becomes the earlier of the pending run and first_run.  The
 * incremental state is forgotten when the URL or an incremental_* key
 * changes.
 */
void
catalog_write_sync_config(int64 id, const SyncConfigColumns *cols, TimestampTz first_run)
{
	Oid			types[9] = {INT8OID, JSONBOID, TEXTOID, INTERVALOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, BOOLOID, TEXTOID};
	Datum		values[9];
	char		nulls[9];

	memset(nulls, ' ', sizeof(nulls));
	values[0] = Int64GetDatum(id);
	values[1] = JsonbPGetDatum(cols->config);
	values[2] = cols->friendly_name ? CStringGetTextDatum(cols->friendly_name) : (Datum) 0;
	nulls[2] = cols->friendly_name ? ' ' : 'n';
	values[3] = cols->frequency ? IntervalPGetDatum(cols->frequency) : (Datum) 0;
	nulls[3] = cols->frequency ? ' ' : 'n';
	values[4] = cols->cron ? CStringGetTextDatum(cols->cron) : (Datum) 0;
	nulls[4] = cols->cron ? ' ' : 'n';
	values[5] = cols->mapped_table ? CStringGetTextDatum(cols->mapped_table) : (Datum) 0;
	nulls[5] = cols->mapped_table ? ' ' : 'n';
	values[6] = TimestampTzGetDatum(first_run);
	values[7] = BoolGetDatum(cols->incremental);
	values[8] = CStringGetTextDatum(cols->url);
	if (SPI_execute_with_args("UPDATE nango.syncs SET "
							  "  next_run_at = CASE WHEN frequency IS NOT DISTINCT FROM $4 AND cron IS NOT DISTINCT FROM $5 "
							  "                     THEN next_run_at "
							  "                     ELSE LEAST(next_run_at, $7) END, "
							  "  incremental_state = CASE WHEN $8 AND url OPERATOR(pg_catalog.=) $9 "
							  "    AND config OPERATOR(pg_catalog.->) 'incremental_cursor_path' IS NOT DISTINCT FROM $2 OPERATOR(pg_catalog.->) 'incremental_cursor_path' "
							  "    AND config OPERATOR(pg_catalog.->) 'incremental_request_path' IS NOT DISTINCT FROM $2 OPERATOR(pg_catalog.->) 'incremental_request_path' "
							  "    AND config OPERATOR(pg_catalog.->) 'incremental_initial_value' IS NOT DISTINCT FROM $2 OPERATOR(pg_catalog.->) 'incremental_initial_value' "
							  "    THEN incremental_state END, "
							  "  url = $9, config = $2, friendly_name = $3, frequency = $4, cron = $5, mapped_table = $6, "
							  "  updated_at = pg_catalog.now() "
							  "WHERE id OPERATOR(pg_catalog.=) $1",
							  9, types, values, nulls, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not update sync");
}

/*
 * catalog_set_sync_state: pause (no scheduled run until resumed, a pending
 * trigger forgotten), resume (back on schedule and due now) or trigger
 * (one run as soon as a worker is free) sync id.  resumed_at is new in
 * 0.3 (see nango_has_column).
 */
void
catalog_set_sync_state(int64 id, SyncStateChange change)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(id)};
	bool		resumed_at = nango_has_column("syncs", "resumed_at");
	const char *set_clause;

	if (change == SYNC_PAUSE)
		set_clause = resumed_at
			? "status = 'paused', triggered_at = NULL, resumed_at = NULL, updated_at = pg_catalog.now()"
			: "status = 'paused', triggered_at = NULL, updated_at = pg_catalog.now()";
	else if (change == SYNC_RESUME)
		set_clause = resumed_at
			? "status = 'active', next_run_at = pg_catalog.now(), retry_attempt = 0, "
			"resumed_at = pg_catalog.now(), updated_at = pg_catalog.now()"
			: "status = 'active', next_run_at = pg_catalog.now(), retry_attempt = 0, "
			"updated_at = pg_catalog.now()";
	else
		set_clause = "triggered_at = pg_catalog.now()";
	if (SPI_execute_with_args(psprintf("UPDATE nango.syncs SET %s WHERE id OPERATOR(pg_catalog.=) $1", set_clause),
							  1, types, values, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not update sync");
}

/*
 * catalog_delete_sync: deletes sync id's row (and, by cascade, its jobs and
 * raw rows).
 */
void
catalog_delete_sync(int64 id)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(id)};

	if (SPI_execute_with_args("DELETE FROM nango.syncs WHERE id OPERATOR(pg_catalog.=) $1",
							  1, types, values, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not delete sync " INT64_FORMAT, id);
}

/*
 * catalog_syncs_using: the syncs of owner whose URL or config contains
 * needle, as a list for a message ("name" or the id of each, by id), or
 * NULL when there is none.
 */
char *
catalog_syncs_using(Oid owner, const char *needle)
{
	Oid			types[2] = {REGROLEOID, TEXTOID};
	Datum		values[2] = {ObjectIdGetDatum(owner), CStringGetTextDatum(needle)};
	bool		isnull;
	Datum		d;

	if (SPI_execute_with_args("SELECT pg_catalog.string_agg(CASE WHEN friendly_name IS NULL "
							  "THEN id::pg_catalog.text ELSE '\"' || friendly_name || '\"' END, "
							  "', ' ORDER BY id) "
							  "FROM nango.syncs WHERE owner = $1 "
							  "AND pg_catalog.strpos(url || ' ' || config::pg_catalog.text, $2) > 0",
							  2, types, values, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read nango.syncs");
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? NULL : TextDatumGetCString(d);
}

/*
 * catalog_mapped_table_owners: the owners of the syncs other than except_id
 * that name mapped_table (*n of them; InvalidOid for a NULL owner).
 */
Oid *
catalog_mapped_table_owners(const char *mapped_table, int64 except_id, int *n)
{
	Oid			types[2] = {TEXTOID, INT8OID};
	Datum		values[2] = {CStringGetTextDatum(mapped_table), Int64GetDatum(except_id)};
	Oid		   *owners;

	if (SPI_execute_with_args("SELECT owner FROM nango.syncs WHERE mapped_table OPERATOR(pg_catalog.=) $1 "
							  "AND id OPERATOR(pg_catalog.<>) $2",
							  2, types, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not look up the syncs of mapped_table %s", mapped_table);
	*n = (int) SPI_processed;
	owners = palloc(sizeof(Oid) * Max(*n, 1));
	for (int i = 0; i < *n; i++)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);

		owners[i] = isnull ? InvalidOid : DatumGetObjectId(d);
	}
	return owners;
}

/*
 * catalog_mapped_table_named: whether a sync other than except_id names
 * mapped_table.
 */
bool
catalog_mapped_table_named(const char *mapped_table, int64 except_id)
{
	Oid			types[2] = {INT8OID, TEXTOID};
	Datum		args[2] = {Int64GetDatum(except_id), CStringGetTextDatum(mapped_table)};

	if (SPI_execute_with_args("SELECT 1 FROM nango.syncs WHERE id OPERATOR(pg_catalog.<>) $1 "
							  "AND mapped_table OPERATOR(pg_catalog.=) $2",
							  2, types, args, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read nango.syncs");
	return SPI_processed > 0;
}

/* ---------------------------------------------------------------------
 * nango.syncs and nango.jobs, for the engine
 * ---------------------------------------------------------------------
 */

/*
 * catalog_running_job: the id (as text) of the latest 'running' job of
 * sync_id whose row this transaction sees; NULL when there is none or it
 * cannot be read (the caller is about to raise an error anyway).
 */
char *
catalog_running_job(int64 sync_id)
{
	Oid			types[1] = {INT8OID};
	Datum		vals[1] = {Int64GetDatum(sync_id)};

	if (SPI_execute_with_args("SELECT id, pid FROM nango.jobs WHERE sync_id = $1 "
							  "AND status = 'running' ORDER BY id DESC LIMIT 1",
							  1, types, vals, NULL, false, 1) == SPI_OK_SELECT &&
		SPI_processed > 0)
		return SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	return NULL;
}

/*
 * catalog_running_job_pids: the pids of the committed 'running' jobs of
 * sync_id (*n of them; 0 for a job row without a pid).
 */
int *
catalog_running_job_pids(int64 sync_id, int *n)
{
	Oid			types[1] = {INT8OID};
	Datum		vals[1] = {Int64GetDatum(sync_id)};
	int		   *pids;

	if (SPI_execute_with_args("SELECT pid FROM nango.jobs WHERE sync_id = $1 AND status = 'running'",
							  1, types, vals, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read nango.jobs");
	*n = (int) SPI_processed;
	pids = palloc(sizeof(int) * Max(*n, 1));
	for (int i = 0; i < *n; i++)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);

		pids[i] = isnull ? 0 : DatumGetInt32(d);
	}
	return pids;
}

/*
 * catalog_insert_job: a new 'running' job of sync_id in process pid;
 * returns its id.  Before ALTER EXTENSION nango UPDATE to 0.3 there is no
 * trigger column, and the trigger is not recorded.
 */
int64
catalog_insert_job(int64 sync_id, int attempt, int pid, const char *trigger)
{
	Oid			types[4] = {INT8OID, INT4OID, INT4OID, TEXTOID};
	Datum		vals[4];
	bool		has_trigger = nango_has_column("jobs", "trigger");

	vals[0] = Int64GetDatum(sync_id);
	vals[1] = Int32GetDatum(attempt);
	vals[2] = Int32GetDatum(pid);
	vals[3] = CStringGetTextDatum(trigger);
	if (SPI_execute_with_args(has_trigger
							  ? "INSERT INTO nango.jobs (sync_id, attempt, pid, status, trigger) "
							  "VALUES ($1, $2, $3, 'running', $4) RETURNING id"
							  : "INSERT INTO nango.jobs (sync_id, attempt, pid, status) "
							  "VALUES ($1, $2, $3, 'running') RETURNING id",
							  has_trigger ? 4 : 3,
							  types, vals, NULL, false, 1) != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "could not insert a job row");
	return first_int8(1);
}

/*
 * catalog_claim_job: job_id, which must be 'running', becomes job of
 * process pid: its row is only updated when its pid differs (a job worker
 * created and committed it with its own pid, and must not lock it for the
 * whole job, since the launcher copies the job's progress into it
 * meanwhile).  Gives its sync id, trigger (NULL: none) and start, the
 * texts allocated in cxt; false when there is no such running job.  The
 * trigger is read through to_jsonb: a database still at an older version
 * of the extension has no such column.
 */
bool
catalog_claim_job(int64 job_id, int pid, int64 *sync_id, char **trigger, TimestampTz *started_at,
				  MemoryContext cxt)
{
	Oid			types[2] = {INT8OID, INT4OID};
	Datum		vals[2] = {Int64GetDatum(job_id), Int32GetDatum(pid)};
	bool		isnull;
	MemoryContext old;

	if (SPI_execute_with_args("WITH u AS (UPDATE nango.jobs j SET pid = $2 WHERE id = $1 "
							  "AND status = 'running' AND pid IS DISTINCT FROM $2 "
							  "RETURNING sync_id, pg_catalog.to_jsonb(j) ->> 'trigger', started_at) "
							  "SELECT * FROM u UNION ALL "
							  "SELECT sync_id, pg_catalog.to_jsonb(j) ->> 'trigger', started_at FROM nango.jobs j "
							  "WHERE id = $1 AND status = 'running' AND pid = $2",
							  2, types, vals, NULL, false, 1) != SPI_OK_SELECT ||
		SPI_processed == 0)
		return false;
	*sync_id = first_int8(1);
	old = MemoryContextSwitchTo(cxt);
	*trigger = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	*started_at = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));
	MemoryContextSwitchTo(old);
	return true;
}

/*
 * catalog_job_failure: what the row of job_id recorded: its sync's id and
 * friendly_name, error message and detail (NULL when null), allocated in
 * cxt; false when the row cannot be read.
 */
bool
catalog_job_failure(int64 job_id, int64 *sync_id, char **friendly_name, char **message,
					char **detail, MemoryContext cxt)
{
	Oid			types[1] = {INT8OID};
	Datum		vals[1] = {Int64GetDatum(job_id)};
	HeapTuple	tup;
	TupleDesc	td;
	MemoryContext old;

	if (SPI_execute_with_args("SELECT s.id, s.friendly_name, "
							  "j.error_message, j.error_detail "
							  "FROM nango.jobs j JOIN nango.syncs s ON s.id = j.sync_id WHERE j.id = $1",
							  1, types, vals, NULL, false, 1) != SPI_OK_SELECT ||
		SPI_processed == 0)
		return false;
	tup = SPI_tuptable->vals[0];
	td = SPI_tuptable->tupdesc;
	old = MemoryContextSwitchTo(cxt);
	*sync_id = first_int8(1);
	*friendly_name = SPI_getvalue(tup, td, 2);
	*message = SPI_getvalue(tup, td, 3);
	*detail = SPI_getvalue(tup, td, 4);
	MemoryContextSwitchTo(old);
	return true;
}

/*
 * catalog_job_checkpoint_counts: at a checkpoint, job_id's counts so far
 * (CATALOG_CHECKPOINT_NCOUNTS of them) and the page its pass resumed at
 * (0: it did not resume), committed with the checkpoint so that a job that
 * dies afterwards shows what it stored.
 */
void
catalog_job_checkpoint_counts(int64 job_id, const int64 *counts, int resumed_page)
{
	Oid			types[10] = {INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID,
	INT8OID, INT4OID};
	Datum		v[10];
	char		nulls[10] = "          ";

	v[0] = Int64GetDatum(job_id);
	for (int i = 0; i < CATALOG_CHECKPOINT_NCOUNTS; i++)
		v[1 + i] = Int64GetDatum(counts[i]);
	v[9] = Int32GetDatum(resumed_page);
	if (resumed_page <= 0)
		nulls[9] = 'n';
	if (SPI_execute_with_args("UPDATE nango.jobs SET page_count = $2, fetched_count = $3, added_count = $4, "
							  "updated_count = $5, unchanged_count = $6, skipped_count = $7, "
							  "mismatch_count = $8, duplicate_count = $9, resumed_at_page = $10 "
							  "WHERE id OPERATOR(pg_catalog.=) $1",
							  10, types, v, nulls, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not update job " INT64_FORMAT, job_id);
}

/*
 * catalog_job_resumed_at: the page of its pass a resumed job started at
 * (nango.jobs.resumed_at_page), written after its outcome.
 */
void
catalog_job_resumed_at(int64 job_id, int page)
{
	Oid			types[2] = {INT8OID, INT4OID};
	Datum		vals[2] = {Int64GetDatum(job_id), Int32GetDatum(page)};

	if (SPI_execute_with_args("UPDATE nango.jobs SET resumed_at_page = $2 WHERE id OPERATOR(pg_catalog.=) $1",
							  2, types, vals, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not update job " INT64_FORMAT, job_id);
}

/*
 * catalog_finish_job: the outcome of job_id on its row: status, end time,
 * error message and detail (NULL: none), counts (CATALOG_JOB_NCOUNTS of
 * them, in column order) and warning lines (a text[]).  duplicate_count and warnings are new in 0.3 (see
 * nango_has_column).
 */
void
catalog_finish_job(int64 job_id, const char *status, const char *message, const char *detail,
				   const int64 *counts, Datum warnings, bool warnings_null)
{
	Oid			types[14] = {INT8OID, TEXTOID, TEXTOID, TEXTOID, INT8OID, INT8OID,
	INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, TEXTARRAYOID};
	Datum		v[14];
	char		nulls[14] = "              ";
	bool		outcome_cols = nango_has_column("jobs", "warnings");

	v[0] = Int64GetDatum(job_id);
	v[1] = CStringGetTextDatum(status);
	v[2] = message ? CStringGetTextDatum(message) : (Datum) 0;
	v[3] = detail ? CStringGetTextDatum(detail) : (Datum) 0;
	if (!message)
		nulls[2] = 'n';
	if (!detail)
		nulls[3] = 'n';
	for (int i = 0; i < CATALOG_JOB_NCOUNTS; i++)
		v[4 + i] = Int64GetDatum(counts[i]);
	v[13] = warnings;
	if (warnings_null)
		nulls[13] = 'n';
	if (SPI_execute_with_args(psprintf("UPDATE nango.jobs SET status = $2, ended_at = pg_catalog.clock_timestamp(), "
									   "error_message = $3, error_detail = $4, page_count = $5, fetched_count = $6, "
									   "added_count = $7, updated_count = $8, deleted_count = $9, "
									   "unchanged_count = $10, skipped_count = $11, mismatch_count = $12%s "
									   "WHERE id = $1",
									   outcome_cols ? ", duplicate_count = $13, warnings = $14" : ""),
							  outcome_cols ? 14 : 12, types, v, nulls, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not update job " INT64_FORMAT, job_id);
}

/*
 * catalog_children_due_now: the active child syncs of sync_id without a
 * schedule of their own become due now; returns how many.
 */
uint64
catalog_children_due_now(int64 sync_id)
{
	Oid			types[1] = {TEXTOID};
	Datum		vals[1] = {CStringGetTextDatum(psprintf(INT64_FORMAT, sync_id))};

	if (SPI_execute_with_args("UPDATE nango.syncs s SET next_run_at = pg_catalog.now() "
							  "WHERE s.config -> 'parent' ->> 'sync' = $1 AND s.frequency IS NULL "
							  "AND s.cron IS NULL AND s.status = 'active'",
							  1, types, vals, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not schedule the child syncs of sync " INT64_FORMAT, sync_id);
	return SPI_processed;
}

/* catalog_save_incremental: state becomes sync_id's incremental state. */
void
catalog_save_incremental(int64 sync_id, Jsonb *state)
{
	Oid			types[2] = {INT8OID, JSONBOID};
	Datum		v[2] = {Int64GetDatum(sync_id), JsonbPGetDatum(state)};

	if (SPI_execute_with_args("UPDATE nango.syncs SET incremental_state = $2 WHERE id = $1",
							  2, types, v, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not store the incremental state");
}

/*
 * catalog_lock_sync_key: takes on sync_id's row the lock that the foreign
 * key check of a row referencing it takes (FOR KEY SHARE), held to the end
 * of the transaction; false when the sync no longer exists.
 */
bool
catalog_lock_sync_key(int64 sync_id)
{
	Oid			types[1] = {INT8OID};
	Datum		v[1] = {Int64GetDatum(sync_id)};

	if (SPI_execute_with_args("SELECT 1 FROM nango.syncs WHERE id OPERATOR(pg_catalog.=) $1 FOR KEY SHARE",
							  1, types, v, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not lock sync " INT64_FORMAT, sync_id);
	return SPI_processed == 1;
}

/*
 * catalog_job_owner: the owner of the sync of job_id, read from the job's
 * committed row (read-only); false when there is none.
 */
bool
catalog_job_owner(int64 job_id, Oid *owner)
{
	Oid			types[1] = {INT8OID};
	Datum		vals[1] = {Int64GetDatum(job_id)};
	bool		isnull;

	if (SPI_execute_with_args("SELECT s.owner::pg_catalog.oid FROM nango.jobs j "
							  "JOIN nango.syncs s ON s.id OPERATOR(pg_catalog.=) j.sync_id "
							  "WHERE j.id OPERATOR(pg_catalog.=) $1",
							  1, types, vals, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read nango.jobs");
	if (SPI_processed == 0)
		return false;
	*owner = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	return true;
}

/*
 * catalog_parent_first_record: the sync of owner with id parent_id or
 * friendly_name parent_name (NULL: by id only), and its live raw record
 * with the first unique key (in byte order): *key and *record, allocated
 * in cxt, stay NULL when it has none.  False when owner has no such sync.
 * Read-only.
 */
bool
catalog_parent_first_record(int64 parent_id, const char *parent_name, Oid owner,
							char **key, Jsonb **record, MemoryContext cxt)
{
	Oid			types[3] = {INT8OID, TEXTOID, OIDOID};
	Datum		vals[3];
	char		nulls[3] = "   ";
	bool		isnull;
	Datum		d;
	MemoryContext old;

	vals[0] = Int64GetDatum(parent_id);
	vals[1] = parent_name ? CStringGetTextDatum(parent_name) : (Datum) 0;
	nulls[1] = parent_name ? ' ' : 'n';
	vals[2] = ObjectIdGetDatum(owner);
	if (SPI_execute_with_args("SELECT s.id, "
							  "(SELECT r.unique_key FROM nango.raw r WHERE r.sync_id = s.id AND r.deleted_at IS NULL "
							  "  AND r.unique_key IS NOT NULL ORDER BY r.unique_key COLLATE \"C\" LIMIT 1), "
							  "(SELECT r.data FROM nango.raw r WHERE r.sync_id = s.id AND r.deleted_at IS NULL "
							  "  AND r.unique_key IS NOT NULL ORDER BY r.unique_key COLLATE \"C\" LIMIT 1) "
							  "FROM nango.syncs s WHERE s.owner::pg_catalog.oid = $3 "
							  "AND (s.id = $1 OR s.friendly_name = $2)",
							  3, types, vals, nulls, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the parent sync");
	if (SPI_processed == 0)
		return false;
	old = MemoryContextSwitchTo(cxt);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull);
	*key = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	*record = isnull ? NULL : DatumGetJsonbPCopy(d);
	MemoryContextSwitchTo(old);
	return true;
}
