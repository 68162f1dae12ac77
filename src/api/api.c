/*-------------------------------------------------------------------------
 *
 * api.c
 *	  The SQL API of README.md: add, update, pause, resume, trigger and
 *	  delete syncs.  Changes to nango's tables are made as the extension
 *	  owner after checking that the caller owns the sync; the SQL run here is
 *	  schema-qualified, takes every value as a parameter and runs with
 *	  search_path set to pg_catalog, so objects a user creates elsewhere can
 *	  never be picked up.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/lock.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "api.h"
#include "catalog.h"
#include "config.h"
#include "credentials.h"
#include "cron.h"
#include "databases.h"
#include "job.h"
#include "mapping.h"
#include "nango.h"
#include "progress.h"
#include "extinfo.h"
#include "roles.h"
#include "worker.h"

PG_FUNCTION_INFO_V1(nango_add_sync);
PG_FUNCTION_INFO_V1(nango_update_sync);
PG_FUNCTION_INFO_V1(nango_pause_sync);
PG_FUNCTION_INFO_V1(nango_resume_sync);
PG_FUNCTION_INFO_V1(nango_trigger_sync);
PG_FUNCTION_INFO_V1(nango_delete_sync);
PG_FUNCTION_INFO_V1(nango_put_sync);
PG_FUNCTION_INFO_V1(nango_update_sync_by_name);
PG_FUNCTION_INFO_V1(nango_pause_sync_by_name);
PG_FUNCTION_INFO_V1(nango_resume_sync_by_name);
PG_FUNCTION_INFO_V1(nango_trigger_sync_by_name);
PG_FUNCTION_INFO_V1(nango_delete_sync_by_name);
PG_FUNCTION_INFO_V1(nango_run_sync_by_name);

/* Lock tag field4 of the lock that serializes put_sync of one name. */
#define NANGO_NAME_LOCK_FIELD4 0x6e6e

/* The identity and settings saved while nango's tables are written. */
typedef struct ApiScope
{
	NangoSavedRole saved;
	int			guc_level;
} ApiScope;

/* How long delete_sync waits for a cancelled job of the sync to end (ms). */
#define NANGO_DELETE_CANCEL_WAIT_MS 5000

/* add_sync warns once per session when syncs cannot run on a schedule. */
static bool warned_not_preloaded = false;

/*
 * api_begin: become the extension owner with search_path = pg_catalog,
 * pg_temp and connect to SPI.  A transaction abort undoes all of it.
 */
static void
api_begin(ApiScope *scope)
{
	Oid			owner = nango_extension_owner();

	nango_push_role(owner, &scope->saved);
	scope->guc_level = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
}

/*
 * api_end: the reverse of api_begin.
 */
static void
api_end(ApiScope *scope)
{
	SPI_finish();
	AtEOXact_GUC(true, scope->guc_level);
	nango_pop_role(&scope->saved);
}

/*
 * nango_warn_not_scheduled: the once-per-session WARNING of README.md: nango is not preloaded, or the worker does not serve this
 * database (nango.databases, nango.database, a template, no connections).
 */
void
nango_warn_not_scheduled(void)
{
	char	   *reason;
	const char *hint;

	if (warned_not_preloaded || !IsTransactionState())
		return;
	if (!nango_preloaded)
	{
		warned_not_preloaded = true;
		ereport(WARNING,
				(errcode(ERRCODE_WARNING),
				 errmsg("nango is not in shared_preload_libraries: syncs will not run on a schedule"),
				 errhint("Add nango to shared_preload_libraries in postgresql.conf and restart the server, or run syncs with nango.run_sync().")));
		return;
	}
	reason = nango_not_served_reason(&hint);
	if (reason == NULL)
		return;
	warned_not_preloaded = true;
	ereport(WARNING,
			(errcode(ERRCODE_WARNING),
			 errmsg("the nango worker does not serve database \"%s\": its syncs will not run on a schedule",
					get_database_name(MyDatabaseId)),
			 errdetail("The database is not served because %s.", reason),
			 errhint("%s", hint)));
}

/*
 * check_name_free: the caller's syncs are known by name, so a name is
 * unique per owner: ERROR 42710 when another sync of owner (not except_id)
 * is called name.  Runs inside an api_begin scope.  (A unique index on
 * nango.syncs (owner, friendly_name) backs this up against races.)
 */
static void
check_name_free(Oid owner, const char *name, int64 except_id)
{
	int64		other = catalog_sync_by_name(owner, name, except_id, false);

	if (other != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("you already have a sync named \"%s\"", name),
				 errdetail("Sync " INT64_FORMAT " has that friendly_name; a name is unique per owner.",
						   other),
				 errhint("Use nango.put_sync('%s', url, config) to replace that sync's config, or choose another friendly_name.", name)));
}

static int64 own_sync_by_name(Oid owner, const char *name, bool lock);

/* The deepest chain of child syncs: a sync with at most this many ancestors. */
#define NANGO_MAX_CHILD_DEPTH 3

/*
 * resolve_parent: the id of the parent cfg names (by id or by name),
 * which must be a sync of owner with a unique_key; its row is locked
 * against deletion.  Runs inside an api_begin scope.
 */
static int64
resolve_parent(NangoConfig *cfg, Oid owner)
{
	bool		has_key;
	int64		id = cfg->parent_id;
	const char *shown = cfg->parent_name ? cfg->parent_name : psprintf(INT64_FORMAT, id);

	if (cfg->parent_name != NULL)
		id = own_sync_by_name(owner, cfg->parent_name, false);
	if (!catalog_lock_parent(id, owner, &has_key))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("config key \"parent\": you have no sync %s%s%s", cfg->parent_name ? "named \"" : "",
						shown, cfg->parent_name ? "\"" : ""),
				 errhint("The parent of a sync is another sync of the same owner, named by its id or its friendly_name.")));
	if (!has_key)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("config key \"parent\": sync %s has no unique_key", shown),
				 errdetail("A child sync's records are kept per parent record, known by its unique key."),
				 errhint("Give sync %s a unique_key with nango.update_sync first.", shown)));
	return id;
}

/*
 * check_parent: for a config with `parent` of a sync of owner (self_id, or
 * 0 for a new sync): resolves the parent, refuses a cycle or a chain with
 * more than NANGO_MAX_CHILD_DEPTH ancestors, and stores the parent's id in
 * the normalized config.  For a sync without `parent`, only checks that
 * it keeps a unique_key while it has children.  Runs inside an api_begin
 * scope.
 */
static void
check_parent(NangoConfig *cfg, Oid owner, int64 self_id)
{
	int			ancestors;
	int			height;
	bool		cycle;
	int64		child;
	char	   *norm;

	if (self_id != 0 && cfg->unique_key == NULL && catalog_child_count(self_id, &child) > 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("sync " INT64_FORMAT " needs a unique_key: it is the parent of sync " INT64_FORMAT,
						self_id, child),
				 errhint("Delete its child syncs first, or keep the unique_key.")));
	if (!cfg->has_parent)
		return;
	cfg->parent_id = resolve_parent(cfg, owner);
	cfg->parent_name = NULL;
	catalog_chain_depths(cfg->parent_id, self_id, &ancestors, &cycle, &height);
	if (cycle || cfg->parent_id == self_id)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("config key \"parent\": sync " INT64_FORMAT " cannot be the parent of sync " INT64_FORMAT
						": that makes a cycle", cfg->parent_id, self_id),
				 cfg->parent_id == self_id ? errdetail("A sync cannot be its own parent.") :
				 errdetail("Sync " INT64_FORMAT " makes its requests for the records of sync " INT64_FORMAT
						   ", directly or through its parents.", cfg->parent_id, self_id)));
	if (ancestors + height > NANGO_MAX_CHILD_DEPTH)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("config key \"parent\": a chain of child syncs may be at most %d deep",
						NANGO_MAX_CHILD_DEPTH),
				 errdetail("With this parent, the chain would be %d deep.", ancestors + height),
				 errhint("Make this sync the child of a sync higher up the chain.")));
	norm = psprintf("{\"parent\": {\"sync\": " INT64_FORMAT "}}", cfg->parent_id);
	cfg->normalized = DatumGetJsonbP(DirectFunctionCall2(jsonb_concat, JsonbPGetDatum(cfg->normalized),
														 DirectFunctionCall1(jsonb_in, CStringGetDatum(norm))));
}

/*
 * sync_columns: the columns of nango.syncs that a validated config (and
 * its mapped table, NULL: none) gives, in *cols.
 */
static const SyncConfigColumns *
sync_columns(const NangoConfig *cfg, const char *mapped, SyncConfigColumns *cols)
{
	cols->url = cfg->url;
	cols->config = cfg->normalized;
	cols->friendly_name = cfg->friendly_name;
	cols->frequency = cfg->frequency;
	cols->cron = cfg->cron;
	cols->mapped_table = mapped;
	cols->incremental = (cfg->incremental_cursor_path != NULL);
	return cols;
}

/*
 * insert_sync: stores a new sync of the current user (read before
 * api_begin: owner) from a validated config and returns its id.  Runs
 * inside an api_begin scope; its first run is due now.
 */
static int64
insert_sync(NangoConfig *cfg, Oid owner)
{
	int64		id;
	char	   *mapped;
	SyncConfigColumns cols;

	if (cfg->friendly_name)
		check_name_free(owner, cfg->friendly_name, 0);
	id = catalog_next_sync_id();
	mapped = nango_config_mapped_table(cfg, id);
	if (mapped)
		nango_map_check_owner(id, mapped, owner);
	catalog_insert_sync(id, owner, sync_columns(cfg, mapped, &cols));
	return id;
}

/*
 * nango_add_sync: nango.add_sync(url, config): validates the config, stores
 * the sync owned by the calling role and schedules its first run now.
 */
Datum
nango_add_sync(PG_FUNCTION_ARGS)
{
	NangoConfig *cfg;
	ApiScope	scope;
	Oid			owner = GetUserId();	/* before api_begin changes it */
	int64		id;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("url must not be null")));
	cfg = nango_config_parse(text_to_cstring(PG_GETARG_TEXT_PP(0)),
							 PG_ARGISNULL(1) ? NULL : PG_GETARG_JSONB_P(1));
	nango_check_credentials(cfg, owner);
	nango_warn_not_scheduled();

	api_begin(&scope);
	check_parent(cfg, owner, 0);
	id = insert_sync(cfg, owner);
	api_end(&scope);

	nango_wake_launcher_at_commit();
	PG_RETURN_INT64(id);
}

/*
 * fetch_sync_ext: reads sync id (locking its row as lock says) inside
 * an api_begin scope, valid until api_end, and checks that caller may
 * manage it (catalog_may_manage).  A missing sync is 42704, someone
 * else's sync 42501.
 */
static void
fetch_sync_ext(int64 id, Oid caller, SyncLock lock, SyncRow *row)
{
	if (!catalog_read_sync(id, lock, row, CurrentMemoryContext))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("sync " INT64_FORMAT " does not exist", id)));
	if (!catalog_may_manage(caller, row->owner))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for sync " INT64_FORMAT, id),
				 errdetail("Only the role that added a sync (or a member of it) and superusers may change, run or delete it.")));
}

/*
 * fetch_sync: fetch_sync_ext, locking the sync's row for the change that
 * follows.
 */
static void
fetch_sync(int64 id, Oid caller, SyncRow *row)
{
	fetch_sync_ext(id, caller, SYNC_LOCK_CHANGE, row);
}

/*
 * merge_config: old || changes, where a key of changes also replaces its
 * alias in old (nango_connection_id and pizzly_connection_id are one key).
 * JSON nulls stay in the result; nango_config_parse treats them as absent
 * and drops them from the stored form.
 */
static Jsonb *
merge_config(Jsonb *old, Jsonb *changes)
{
	static const char *const aliases[][2] = {
		{"pizzly_connection_id", "nango_connection_id"},
		{"pizzly_provider_config_key", "nango_provider_config_key"},
	};
	Datum		merged = JsonbPGetDatum(old);

	if (!JB_ROOT_IS_OBJECT(changes))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("config must be a JSON object"),
				 errhint("Give the keys to change, e.g. '{\"frequency\": \"15 minutes\"}'; a key set to null is removed.")));
	for (int i = 0; i < lengthof(aliases); i++)
	{
		for (int j = 0; j < 2; j++)
		{
			if (getKeyJsonValueFromContainer(&changes->root, aliases[i][j], strlen(aliases[i][j]), NULL))
				merged = DirectFunctionCall2(jsonb_delete, merged,
											 CStringGetTextDatum(aliases[i][1 - j]));
		}
	}
	return DatumGetJsonbP(DirectFunctionCall2(jsonb_concat, merged, JsonbPGetDatum(changes)));
}

/*
 * kept_keys: what update_sync keeps as stored (NANGO_PARSE_KEEP_* flags):
 * a frequency, or a body and method, that the update does not change is
 * not checked again by rules newer than the sync, so that a sync added by
 * an earlier version can still be updated.
 */
static int
kept_keys(Jsonb *changes)
{
	int			keep = NANGO_PARSE_KEEP_ALL;

	if (!JB_ROOT_IS_OBJECT(changes))
		return 0;
	if (getKeyJsonValueFromContainer(&changes->root, "frequency", strlen("frequency"), NULL))
		keep &= ~NANGO_PARSE_KEEP_FREQUENCY;
	if (getKeyJsonValueFromContainer(&changes->root, "body", strlen("body"), NULL) ||
		getKeyJsonValueFromContainer(&changes->root, "method", strlen("method"), NULL))
		keep &= ~NANGO_PARSE_KEEP_BODY;
	return keep;
}

/*
 * write_sync_config: stores a validated config (and its URL) on sync id and
 * recomputes the columns derived from it.  When the schedule changes,
 * next_run_at becomes the earlier of the pending run and the first run of
 * the new schedule counted from now.  The incremental state is forgotten
 * when the URL or an incremental_* key changes.  A mapped_table that exists
 * must belong to the sync's owner (nango_map_check_owner).  Runs inside an
 * api_begin scope, on a row the caller has locked.
 */
static void
write_sync_config(int64 id, NangoConfig *cfg, Oid owner)
{
	char	   *mapped = nango_config_mapped_table(cfg, id);
	TimestampTz first_run;
	SyncConfigColumns cols;

	if (mapped)
		nango_map_check_owner(id, mapped, owner);
	if (cfg->cron)
		first_run = nango_cron_next(cfg->cron, GetCurrentTransactionStartTimestamp());
	else if (cfg->frequency == NULL)
		first_run = DT_NOEND;	/* a child run after its parent: nothing sooner */
	else
		first_run = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_pl_interval,
															TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()),
															IntervalPGetDatum(cfg->frequency)));

	catalog_write_sync_config(id, sync_columns(cfg, mapped, &cols), first_run);
	/* a changed config: the next job starts at page 1 (docs/config.md#checkpoint) */
	nango_checkpoint_discard(id);
	/* and the page memos: the next job reads every page */
	nango_page_memo_discard(id);
}

/*
 * nango_update_sync: nango.update_sync(id, config): merges config into the
 * sync's config, revalidates the whole, and stores it (write_sync_config).
 */
Datum
nango_update_sync(PG_FUNCTION_ARGS)
{
	int64		id = PG_GETARG_INT64(0);
	Jsonb	   *changes = PG_GETARG_JSONB_P(1);
	Oid			caller = GetUserId();
	ApiScope	scope;
	SyncRow		row;
	NangoConfig *cfg;

	api_begin(&scope);
	fetch_sync(id, caller, &row);
	cfg = nango_config_parse_keep(row.url, merge_config(row.config, changes), kept_keys(changes));
	/* the owner's secrets and grants, whoever changes the sync */
	nango_check_credentials(cfg, row.owner);
	if (cfg->friendly_name)
		check_name_free(row.owner, cfg->friendly_name, id);
	check_parent(cfg, row.owner, id);
	write_sync_config(id, cfg, row.owner);
	api_end(&scope);

	nango_wake_launcher_at_commit();
	PG_RETURN_VOID();
}

/*
 * change_sync_state: the body of pause, resume and trigger: checks that the
 * caller may manage the sync, makes the change on its row, and wakes the
 * launcher at commit when asked.
 */
static void
change_sync_state(int64 id, SyncStateChange change, bool wake)
{
	Oid			caller = GetUserId();	/* before api_begin changes it */
	ApiScope	scope;
	SyncRow		row;

	api_begin(&scope);
	fetch_sync(id, caller, &row);
	catalog_set_sync_state(id, change);
	api_end(&scope);
	if (wake)
		nango_wake_launcher_at_commit();
}

/*
 * nango_pause_sync: nango.pause_sync(id): no scheduled run until resumed;
 * a pending trigger_sync is forgotten; a running job finishes.
 */
Datum
nango_pause_sync(PG_FUNCTION_ARGS)
{
	change_sync_state(PG_GETARG_INT64(0), SYNC_PAUSE, false);
	PG_RETURN_VOID();
}

/*
 * nango_resume_sync: nango.resume_sync(id): back on schedule, and due now.
 */
Datum
nango_resume_sync(PG_FUNCTION_ARGS)
{
	change_sync_state(PG_GETARG_INT64(0), SYNC_RESUME, true);
	PG_RETURN_VOID();
}

/*
 * nango_trigger_sync: nango.trigger_sync(id): one run as soon as a worker
 * is free, the schedule unchanged.  A paused sync also runs once and stays
 * paused.
 */
Datum
nango_trigger_sync(PG_FUNCTION_ARGS)
{
	change_sync_state(PG_GETARG_INT64(0), SYNC_TRIGGER, true);
	PG_RETURN_VOID();
}

/*
 * drop_mapped_data: deletes the sync's rows from its mapped table and drops
 * the table when no other sync uses it.  Everything touching the table runs
 * as the sync's owner: the owner may have put triggers or rules on it, and
 * they must never run with the extension owner's rights, nor with the
 * caller's (a superuser, a member of the owner role): see nango_push_owner.
 */
static void
drop_mapped_data(const SyncRow *row, Oid caller)
{
	NangoSavedRole saved;

	nango_push_owner(row->owner, caller, &saved);
	nango_map_drop_data(row->id, row->mapped_table);
	nango_pop_role(&saved);
}

/*
 * notice_kept_table: delete_sync without drop_data leaves the mapped table
 * and the sync's rows in it; a NOTICE names the table (when it exists) so
 * that nothing stays behind without a word (README.md).
 */
static void
notice_kept_table(const SyncRow *row)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(row->mapped_table)};
	bool		isnull = true;

	if (SPI_execute_with_args("SELECT pg_catalog.to_regclass($1)", 1, types, values, NULL, true, 1) == SPI_OK_SELECT &&
		SPI_processed == 1)
		(void) SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		return;
	ereport(NOTICE,
			(errmsg("mapped table %s stays, with the deleted sync's rows in it", row->mapped_table),
			 errhint("delete_sync with drop_data => true also deletes them, and drops the table when no other sync uses it.")));
}

/*
 * nango_delete_sync: nango.delete_sync(id, drop_data): cancels a running
 * job of the sync, then removes the sync and, by cascade, its jobs and raw
 * rows; with drop_data also its mapped rows (and the mapped table when no
 * other sync uses it).
 */
Datum
nango_delete_sync(PG_FUNCTION_ARGS)
{
	int64		id = PG_GETARG_INT64(0);
	bool		drop_data = PG_GETARG_BOOL(1);
	Oid			caller = GetUserId();
	ApiScope	scope;
	SyncRow		row;

	api_begin(&scope);
	/*
	 * A running job of the sync holds locks on its rows until it ends: it is
	 * cancelled first (its row goes with the sync's), rather than waited
	 * for; one started before the lock below is taken is cancelled too.
	 */
	fetch_sync_ext(id, caller, SYNC_LOCK_NONE, &row);
	{
		int64		child;
		int64		n = catalog_child_count(id, &child);

		if (n > 0)
			ereport(ERROR,
					(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
					 errmsg("sync " INT64_FORMAT " is the parent of " INT64_FORMAT " child sync%s", id, n,
							n == 1 ? "" : "s"),
					 errdetail("Sync " INT64_FORMAT " makes its requests for the records of sync " INT64_FORMAT ".",
							   child, id),
					 errhint("Delete the children first.")));
	}
	(void) nango_cancel_sync_jobs(id, NANGO_DELETE_CANCEL_WAIT_MS);
	fetch_sync_ext(id, caller, SYNC_LOCK_DELETE, &row);
	(void) nango_cancel_sync_jobs(id, 0);
	if (drop_data && row.mapped_table)
		drop_mapped_data(&row, caller);
	else if (row.mapped_table)
		notice_kept_table(&row);
	catalog_delete_sync(id);
	api_end(&scope);
	PG_RETURN_VOID();
}

/* ---------------------------------------------------------------------
 * Syncs by name
 * ---------------------------------------------------------------------
 */

/*
 * own_sync_by_name: the id of the sync of owner called name, locked for a
 * change when lock is set; 0 when there is none.  Runs inside an api_begin
 * scope.
 */
static int64
own_sync_by_name(Oid owner, const char *name, bool lock)
{
	return catalog_sync_by_name(owner, name, 0, lock);
}

/*
 * all_digits: name is a plain decimal number that fits a bigint.
 */
static bool
all_digits(const char *name, int64 *id)
{
	char	   *end;

	if (*name == '\0' || strspn(name, "0123456789") != strlen(name) || strlen(name) > 18)
		return false;
	*id = strtoi64(name, &end, 10);
	return *end == '\0';
}

/*
 * nango_sync_by_name: see api.h.
 */
int64
nango_sync_by_name(text *name_text)
{
	char	   *name = text_to_cstring(name_text);
	Oid			caller = GetUserId();	/* before api_begin changes it */
	ApiScope	scope;
	int64		id;

	api_begin(&scope);
	id = own_sync_by_name(caller, name, false);
	api_end(&scope);
	if (id == 0 && !all_digits(name, &id))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("you have no sync named \"%s\"", name),
				 errhint("A name finds one of your own syncs by its friendly_name (see nango.sync_status); other syncs are named by id.")));
	return id;
}

/*
 * config_with_name: config (NULL: '{}') with friendly_name set to name.  A
 * config naming another friendly_name is refused: the name of put_sync is
 * the sync's name.
 */
static Jsonb *
config_with_name(Jsonb *config, const char *name)
{
	StringInfoData buf;
	JsonbValue *given = NULL;

	if (config != NULL && !JB_ROOT_IS_OBJECT(config))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("config must be a JSON object")));
	if (config != NULL)
		given = getKeyJsonValueFromContainer(&config->root, "friendly_name", strlen("friendly_name"), NULL);
	if (given != NULL && !(given->type == jbvString &&
						   given->val.string.len == strlen(name) &&
						   memcmp(given->val.string.val, name, given->val.string.len) == 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("friendly_name in the config differs from the name given to put_sync (\"%s\")", name),
				 errhint("Leave friendly_name out of the config: put_sync's first argument is the sync's name.")));
	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"friendly_name\": ");
	escape_json(&buf, name);
	appendStringInfoChar(&buf, '}');
	return DatumGetJsonbP(DirectFunctionCall2(jsonb_concat,
											  JsonbPGetDatum(config ? config : DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{}")))),
											  DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data))));
}

/*
 * nango_put_sync: nango.put_sync(name, url, config): the caller's sync
 * called name gets url and config (replaced as a whole, not merged), or is
 * added when the caller has none by that name; returns its id.  Two
 * put_sync of the same name wait for each other, so running a migration
 * script twice, or twice at once, leaves one sync.
 */
Datum
nango_put_sync(PG_FUNCTION_ARGS)
{
	char	   *name;
	NangoConfig *cfg;
	Oid			owner = GetUserId();	/* before api_begin changes it */
	ApiScope	scope;
	LOCKTAG		tag;
	int64		id;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", PG_ARGISNULL(0) ? "name" : "url")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (name[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the name of a sync must not be empty")));
	cfg = nango_config_parse(text_to_cstring(PG_GETARG_TEXT_PP(1)),
							 config_with_name(PG_ARGISNULL(2) ? NULL : PG_GETARG_JSONB_P(2), name));
	nango_check_credentials(cfg, owner);
	nango_warn_not_scheduled();

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, (uint32) owner,
						 hash_bytes((const unsigned char *) name, strlen(name)),
						 NANGO_NAME_LOCK_FIELD4);
	(void) LockAcquire(&tag, ExclusiveLock, false, false);

	api_begin(&scope);
	id = own_sync_by_name(owner, name, true);
	check_parent(cfg, owner, id);
	if (id != 0)
		write_sync_config(id, cfg, owner);
	else
		id = insert_sync(cfg, owner);
	api_end(&scope);

	nango_wake_launcher_at_commit();
	PG_RETURN_INT64(id);
}

/*
 * The text forms of the functions that take a sync id: the caller's own
 * sync with that name (nango_sync_by_name), then the id form.
 */
Datum
nango_update_sync_by_name(PG_FUNCTION_ARGS)
{
	return DirectFunctionCall2(nango_update_sync, Int64GetDatum(nango_sync_by_name(PG_GETARG_TEXT_PP(0))),
							   PG_GETARG_DATUM(1));
}

Datum
nango_pause_sync_by_name(PG_FUNCTION_ARGS)
{
	return DirectFunctionCall1(nango_pause_sync, Int64GetDatum(nango_sync_by_name(PG_GETARG_TEXT_PP(0))));
}

Datum
nango_resume_sync_by_name(PG_FUNCTION_ARGS)
{
	return DirectFunctionCall1(nango_resume_sync, Int64GetDatum(nango_sync_by_name(PG_GETARG_TEXT_PP(0))));
}

Datum
nango_trigger_sync_by_name(PG_FUNCTION_ARGS)
{
	return DirectFunctionCall1(nango_trigger_sync, Int64GetDatum(nango_sync_by_name(PG_GETARG_TEXT_PP(0))));
}

Datum
nango_delete_sync_by_name(PG_FUNCTION_ARGS)
{
	return DirectFunctionCall2(nango_delete_sync, Int64GetDatum(nango_sync_by_name(PG_GETARG_TEXT_PP(0))),
							   PG_GETARG_DATUM(1));
}

Datum
nango_run_sync_by_name(PG_FUNCTION_ARGS)
{
	return DirectFunctionCall1(nango_run_sync, Int64GetDatum(nango_sync_by_name(PG_GETARG_TEXT_PP(0))));
}
