/*-------------------------------------------------------------------------
 *
 * job.c
 *	  One job of a sync, end to end: load the job and its sync, prepare the
 *	  credentials its requests carry, run its pages (pages.c) or its child
 *	  chains (children.c), and record the outcome (outcome.c).
 *
 *	  nango_job_create inserts the 'running' job row.  nango_job_execute
 *	  runs the whole job in one subtransaction of the caller's transaction,
 *	  so all of a job's data changes commit together or not at all; an
 *	  ERROR inside the job is caught, the subtransaction rolled back, and
 *	  the failure recorded on the job row (with the page, the redacted URL,
 *	  the HTTP status and a body excerpt).  nango.run_sync is create +
 *	  execute in the calling session; the background worker commits between
 *	  the two.  A worker job of a sync with checkpoint true also commits at
 *	  page boundaries, ending its subtransaction and transaction and going
 *	  on in new ones (checkpoint.c); the error path then rolls back only
 *	  what came after the last checkpoint.
 *
 *	  One job per sync at a time: a transaction-level lock on an advisory
 *	  lock tag of the sync (field4 NANGO_LOCK_FIELD4, so it never collides
 *	  with pg_advisory_lock) is held by the job's transaction.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "storage/sinvaladt.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#include "job_int.h"
#include "nango.h"
#include "progress.h"
#include "extinfo.h"
#include "roles.h"
#include "text.h"

#define NANGO_LOCK_FIELD4 0x6e67

PG_FUNCTION_INFO_V1(nango_run_sync);

/* The job running in this process, for nango_job_warn; NULL when none. */
JobRun *nango_current_run = NULL;


/*
 * nango_job_warn: see job.h.  The line is formatted in the job's outer
 * memory context, which outlives the subtransaction, so that a line noted
 * deep inside mapping survives until finish_job writes it.
 */
void
nango_job_warn(const char *fmt,...)
{
	JobRun	   *run = nango_current_run;
	MemoryContext old;
	StringInfoData buf;
	ListCell   *lc;

	if (run == NULL)
		return;
	run->warn_calls++;
	old = MemoryContextSwitchTo(run->outercxt);
	initStringInfo(&buf);
	for (;;)
	{
		va_list		args;
		int			needed;

		va_start(args, fmt);
		needed = appendStringInfoVA(&buf, fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(&buf, needed);
	}
	MemoryContextSwitchTo(old);
	foreach(lc, run->warnings)
		if (strcmp((char *) lfirst(lc), buf.data) == 0)
		{
			pfree(buf.data);
			return;
		}
	if (list_length(run->warnings) >= NANGO_MAX_WARNINGS)
	{
		run->warnings_capped = true;
		pfree(buf.data);
		return;
	}
	old = MemoryContextSwitchTo(run->outercxt);
	run->warnings = lappend(run->warnings, buf.data);
	MemoryContextSwitchTo(old);
}

const char *
nango_job_trigger_name(NangoJobTrigger trigger)
{
	switch (trigger)
	{
		case NANGO_TRIGGER_SCHEDULE:
			return "schedule";
		case NANGO_TRIGGER_MANUAL:
			return "manual";
		case NANGO_TRIGGER_TRIGGER:
			return "trigger";
		case NANGO_TRIGGER_RESUME:
			return "resume";
		case NANGO_TRIGGER_RETRY:
			return "retry";
		case NANGO_TRIGGER_PARENT:
			return "parent";
		case NANGO_TRIGGER_RESUME_CHECKPOINT:
			return "resume_checkpoint";
	}
	return "schedule";
}

/*
 * sync_lock_tag: the lock that serializes jobs of one sync.
 */
static void
sync_lock_tag(LOCKTAG *tag, int64 sync_id)
{
	SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId, (uint32) ((uint64) sync_id >> 32),
						 (uint32) sync_id, NANGO_LOCK_FIELD4);
}

/* job_lock_tag: see job_int.h (a checkpoint holds the lock across its commit). */
void
job_lock_tag(LOCKTAG *tag, int64 sync_id)
{
	sync_lock_tag(tag, sync_id);
}

/*
 * raise_busy: the 55006 error for a sync whose job is running elsewhere,
 * naming the job when its row is visible, else the holder's pid.
 */
static void
raise_busy(int64 sync_id, LOCKTAG *tag)
{
	char	   *job = catalog_running_job(sync_id);
	int			pid = 0;

	if (job == NULL && tag != NULL)
	{
		VirtualTransactionId *vx = GetLockConflicts(tag, ExclusiveLock, NULL);

		if (VirtualTransactionIdIsValid(vx[0]))
		{
			PGPROC	   *proc = BackendIdGetProc(vx[0].backendId);

			if (proc != NULL)
				pid = proc->pid;
		}
	}
	if (job != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_IN_USE),
				 errmsg("sync " INT64_FORMAT " already has a running job: job %s", sync_id, job),
				 errhint("Wait for job %s to end.", job)));
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_IN_USE),
			 errmsg("sync " INT64_FORMAT " already has a running job (in process %d)", sync_id, pid),
			 errhint("Wait for that job to end.")));
}

/*
 * other_running_job: true when a committed 'running' row of the sync
 * belongs to a live process other than this one (a worker that committed
 * its job row and has not yet started it).
 */
static bool
other_running_job(int64 sync_id)
{
	int			n;
	int		   *pids = catalog_running_job_pids(sync_id, &n);

	for (int i = 0; i < n; i++)
		if (pids[i] != 0 && pids[i] != MyProcPid && BackendPidGetProc(pids[i]) != NULL)
			return true;
	return false;
}

int64
nango_job_create(int64 sync_id, int attempt, NangoJobTrigger trigger)
{
	NangoSavedRole saved;
	LOCKTAG		tag;
	int64		job_id;

	int			pinned = nango_pin_search_path();

	nango_push_role(nango_extension_owner(), &saved);
	SPI_connect();
	sync_lock_tag(&tag, sync_id);
	if (LockAcquire(&tag, ExclusiveLock, false, true) == LOCKACQUIRE_NOT_AVAIL)
		raise_busy(sync_id, &tag);
	if (other_running_job(sync_id))
		raise_busy(sync_id, NULL);
	/* a job of the worker after a checkpoint resumes there */
	if (trigger != NANGO_TRIGGER_MANUAL && nango_checkpoint_usable(sync_id))
		trigger = NANGO_TRIGGER_RESUME_CHECKPOINT;
	job_id = catalog_insert_job(sync_id, attempt, MyProcPid, nango_job_trigger_name(trigger));
	SPI_finish();
	nango_pop_role(&saved);
	nango_unpin_search_path(pinned);
	return job_id;
}

/*
 * job_collect_secrets: every header value (and its token part after a scheme
 * word such as Bearer) and every secret-looking query parameter value.
 */
void
job_collect_secrets(JobRun *run)
{
	const NangoConfig *cfg = run->cfg;
	int			i;

	/*
	 * query_params values as sent (URL-encoded), the form in which an API
	 * echoing the request shows them; the sync URL's own secrets (as
	 * written and decoded) and the body's are added below.
	 */
	for (i = 0; i < cfg->nparams; i++)
		if (nango_secret_name(cfg->params[i].name, strlen(cfg->params[i].name)))
			nango_secrets_add(&run->secrets, nango_url_escape(NULL, cfg->params[i].value));

	for (i = 0; i < cfg->nheaders; i++)
	{
		const char *v = cfg->headers[i].value;
		const char *sp = strchr(v, ' ');

		nango_secrets_add(&run->secrets, v);
		if (sp != NULL)
			nango_secrets_add(&run->secrets, sp + 1);
	}
	for (i = 0; i < cfg->nparams; i++)
		if (nango_secret_name(cfg->params[i].name, strlen(cfg->params[i].name)))
			nango_secrets_add(&run->secrets, cfg->params[i].value);
	nango_secrets_add_url(&run->secrets, cfg->url, true);
	nango_secrets_add_json(&run->secrets, cfg->body);
}

/*
 * job_set_rate_limit: the sync's rate_limit for the job's requests, and its
 * credentials other than headers (the URL's password and secret-looking
 * query values, after secrets were filled in), which with the host and
 * the credential headers choose the budget the job shares (ratelimit.c).
 */
void
job_set_rate_limit(JobRun *run)
{
	const NangoConfig *cfg = run->cfg;
	NangoSecrets urlsec;
	StringInfoData extra;

	memset(&urlsec, 0, sizeof(urlsec));
	nango_secrets_add_url(&urlsec, cfg->url, true);
	initStringInfo(&extra);
	for (int i = 0; i < urlsec.n; i++)
		appendStringInfo(&extra, "u=%s;", urlsec.values[i]);
	for (int i = 0; i < cfg->nparams; i++)
		if (nango_secret_name(cfg->params[i].name, strlen(cfg->params[i].name)))
			appendStringInfo(&extra, "%s=%s;", cfg->params[i].name, cfg->params[i].value);
	nango_http_set_rate_limit(run->http, cfg->rate_limit_requests, cfg->rate_limit_per_ms,
							  extra.len > 0 ? extra.data : NULL);
	pfree(extra.data);
}

/*
 * job_apply_credentials: the owner's grant of the sync's Pizzly connection is
 * checked again (it may have been revoked), and the owner's secrets are
 * read and written into the job's copy of the config (their values join
 * the redaction set first, in nango_fill_begin).  The Pizzly token is written later, through
 * the same templates.
 */
void
job_apply_credentials(JobRun *run)
{
	NangoConfig *cfg = (NangoConfig *) run->cfg;
	NangoSecretValue *values;
	int			n;

	nango_check_connection_grant(cfg, run->owner);
	values = nango_owner_secrets(cfg, run->owner, &n);
	if (n == 0 && cfg->pizzly_connection_id == NULL)
		return;
	run->fill = nango_fill_begin(cfg, n, values, &run->secrets, run->jobcxt);
	nango_fill_apply(run->fill, NULL);
}

/*
 * run_job: everything a job does inside its subtransaction.
 */
static void
run_job(JobRun *run, SyncRow *sync)
{
	const NangoConfig *cfg;
	NangoStore *st;
	NangoMapTable *mt = NULL;
	Jsonb	   *metadata = NULL;
	NangoSavedRole saved;
	LOCKTAG		tag;

	sync_lock_tag(&tag, run->sync_id);
	(void) LockAcquire(&tag, ExclusiveLock, false, false);

	/* a dropped owner: nobody's rights to act with (syncs keep its OID) */
	if (!SearchSysCacheExists1(AUTHOID, ObjectIdGetDatum(run->owner)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("the owner of sync " INT64_FORMAT " (role with OID %u) no longer exists",
						run->sync_id, run->owner),
				 errhint("Delete the sync with nango.delete_sync, or add it again as an existing role.")));

	/* a config stored by an earlier version keeps working (config.h) */
	cfg = run->cfg = nango_config_parse_keep(sync->url, sync->config, NANGO_PARSE_KEEP_ALL);
	job_apply_credentials(run);
	job_collect_secrets(run);
	run->method = cfg->method;
	run->http = nango_http_create(run->jobcxt, &run->secrets);
	nango_http_set_scope(run->http, cfg->url, cfg->credential_hosts, cfg->ncredential_hosts);
	job_set_rate_limit(run);
	if (cfg->pizzly_connection_id != NULL)
		run->pizzly = nango_pizzly_begin((NangoConfig *) cfg, run->fill, &run->secrets, run->jobcxt);
	if (cfg->metadata != NULL)
		metadata = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(cfg->metadata)));

	SPI_connect();
	MemoryContextSwitchTo(run->jobcxt);
	/* plans are prepared as the extension owner too (search_path pinned) */
	nango_push_role(nango_extension_owner(), &saved);
	st = nango_store_open(run->sync_id, run->job_id, cfg->unique_key != NULL, metadata);
	nango_pop_role(&saved);
	if (cfg->incremental_cursor_path != NULL)
	{
		run->incr = palloc0(sizeof(NangoIncremental));
		run->incr->cursor_path = cfg->incremental_cursor_steps;
		run->incr->stored = sync->incremental_state;
		run->incr->cxt = run->jobcxt;
	}
	else if (cfg->unique_key != NULL && cfg->delete_mode != NANGO_DELETE_NONE)
		nango_store_track_keys(st);
	job_checkpoint_begin(run, sync->url, sync->config);
	/* opening and clearing the tables may wait for their locks */
	nango_progress_wait(NANGO_WAITING_STORE);
	if (cfg->auto_mapping)
	{
		nango_push_owner(run->owner, run->caller, &saved);
		mt = nango_map_open(run->sync_id,
							sync->mapped_table ? sync->mapped_table : cfg->mapped_table,
							metadata);
		nango_map_set_options(mt, &cfg->map_options);
		if (cfg->unique_key == NULL)
			nango_map_clear_sync(mt);
		nango_pop_role(&saved);
	}
	if (cfg->unique_key == NULL)
	{
		nango_push_role(nango_extension_owner(), &saved);
		run->counts.deleted = nango_store_clear(st);
		nango_pop_role(&saved);
	}
	else
		job_restore_mapped(run, mt);
	nango_progress_wait(NANGO_WAITING_NONE);

	if (cfg->has_parent)
		job_run_children(run, st, mt, metadata);
	else
		job_run_pages(run, st, mt);
	if (cfg->unique_key != NULL)
		job_check_some_keyed(run);
	nango_store_count(st, &run->counts);
	/* complete: paging ended by itself (a child sync's chains never memoise) */
	job_memo_finish(run, !run->truncated);
	if (run->incr != NULL)
		job_save_incremental(run);
	else if (cfg->unique_key != NULL && cfg->delete_mode != NANGO_DELETE_NONE)
	{
		job_checkpoint_seen(run, st);
		job_delete_unseen(run, st, mt);
	}
	job_checkpoint_done(run);

	if (mt != NULL)
	{
		nango_push_owner(run->owner, run->caller, &saved);
		nango_map_close(mt);
		nango_pop_role(&saved);
	}
	SPI_finish();
	MemoryContextSwitchTo(run->jobcxt);
	if (run->nul_replaced > 0)
		nango_log(NANGO_LOG_INFO, LOG,
				  "nango: sync %s: replaced " INT64_FORMAT " \\u0000 escapes by U+FFFD",
				  run->name, run->nul_replaced);
	job_note_outcome(run);
	run->withheld += nango_http_withheld_count(run->http);
	if (run->withheld > 0)
	{
		nango_log(NANGO_LOG_WARNING, LOG,
				  "nango: sync %s: " INT64_FORMAT " requests went to another origin without the sync's credentials",
				  run->name, run->withheld);
		nango_job_warn(INT64_FORMAT " request(s) went to another origin (a next URL, Link or redirect) "
					   "without the sync's credentials; list that host in credential_hosts if it should get them",
					   run->withheld);
	}
}

/*
 * load_job: the job's sync id, trigger and start, and its sync row (as the
 * extension owner), allocated in cxt; the job row's pid becomes this
 * process.  A job that is not 'running' is an error.
 */
static void
load_job(JobRun *run, SyncRow *sync, MemoryContext cxt)
{
	NangoSavedRole saved;

	nango_push_role(nango_extension_owner(), &saved);
	SPI_connect();
	/*
	 * The process that executes the job may not be the one that created it
	 * (a job worker created and committed it with its own pid): the row
	 * then takes this process's pid (worker.h).
	 */
	if (!catalog_claim_job(run->job_id, MyProcPid, &run->sync_id, &run->trigger,
						   &run->started_at, cxt))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("job " INT64_FORMAT " does not exist or is not running", run->job_id)));
	/* a job of run_sync: its warnings go to the caller */
	run->manual = run->trigger != NULL && strcmp(run->trigger, "manual") == 0;
	if (!catalog_read_sync(run->sync_id, SYNC_LOCK_NONE, sync, cxt))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("sync " INT64_FORMAT " does not exist", run->sync_id)));
	SPI_finish();
	nango_pop_role(&saved);
	MemoryContextSwitchTo(cxt);
}

/*
 * failure_retryable: whether a job that failed with this SQLSTATE may
 * succeed if simply run again (docs/sync-modes.md): the exchange with the API
 * failed (class 08: connection errors, timeouts, and HTTP 5xx, 429 and 408,
 * see http.c), a transaction conflict (class 40), a resource shortage
 * (class 53), an operator's intervention (class 57) or a lock that was
 * not available.  Everything else (another HTTP status, a body that is not
 * JSON, a missing response_path, a loop, no usable key, a privilege or
 * config problem) fails the same way until someone changes something.
 */
static bool
failure_retryable(int sqlerrcode)
{
	int			cls = ERRCODE_TO_CATEGORY(sqlerrcode);

	return cls == ERRCODE_CONNECTION_EXCEPTION ||
		cls == ERRCODE_TRANSACTION_ROLLBACK ||
		cls == ERRCODE_INSUFFICIENT_RESOURCES ||
		cls == ERRCODE_OPERATOR_INTERVENTION ||
		sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE;
}

NangoJobStatus
nango_job_execute(int64 job_id, bool *retryable)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	JobRun	   *run = palloc0(sizeof(JobRun));
	SyncRow		sync;
	NangoJobStatus status = NANGO_JOB_SUCCEEDED;
	char	   *message = NULL;
	char	   *detail = NULL;
	int			pinned = nango_pin_search_path();
	bool		shown;
	ListCell   *lc;

	run->job_id = job_id;
	run->caller = GetUserId();
	run->outercxt = oldcxt;
	run->topowner = oldowner;
	run->pinned = pinned;
	if (retryable)
		*retryable = false;
	load_job(run, &sync, oldcxt);
	run->owner = sync.owner;
	/* from now on the job shows in nango.job_progress and can be cancelled */
	shown = nango_progress_begin(job_id, run->sync_id, run->owner, run->trigger, run->started_at);
	run->name = nango_sync_label(run->sync_id, sync.friendly_name);

	run->jobcxt = AllocSetContextCreate(oldcxt, "nango job", ALLOCSET_DEFAULT_SIZES);
	run->pagecxt = AllocSetContextCreate(run->jobcxt, "nango page", ALLOCSET_DEFAULT_SIZES);

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(run->jobcxt);
	nango_current_run = run;
	PG_TRY();
	{
		run_job(run, &sync);
		nango_current_run = NULL;
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = run->topowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;
		bool		kept;
		bool		in_commit;

		/* over: a second cancel must not reach the recording of the outcome */
		if (shown)
			nango_progress_end();
		nango_current_run = NULL;
		kept = job_checkpoint_failed(run, &in_commit);
		/* between two transactions of a checkpoint: the worker's abort handles it */
		if (in_commit)
			PG_RE_THROW();
		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = run->topowner;

		status = (edata->sqlerrcode == ERRCODE_QUERY_CANCELED) ? NANGO_JOB_CANCELLED : NANGO_JOB_FAILED;
		if (retryable)
			*retryable = failure_retryable(edata->sqlerrcode);
		/* the warnings were about what the job stored, which is gone */
		if (!kept)
		{
			run->warnings = NIL;
			run->warnings_capped = false;
		}
		message = nango_redact_text(edata->message, &run->secrets);
		detail = job_failure_detail(run, edata);
		/* nothing the job wrote was kept, but what its checkpoints committed */
		if (!kept)
		{
			run->counts.added = run->counts.updated = run->counts.unchanged = 0;
			run->counts.deleted = run->counts.skipped = run->counts.mismatch = 0;
			run->counts.duplicate = 0;
		}
		FreeErrorData(edata);
	}
	PG_END_TRY();
	if (shown)
		nango_progress_end();

	/*
	 * The warning lines are redacted now: the job's secrets live in jobcxt,
	 * which goes before finish_job writes and reports the lines.
	 */
	foreach(lc, run->warnings)
		lfirst(lc) = nango_redact_text((char *) lfirst(lc), &run->secrets);
	MemoryContextDelete(run->jobcxt);
	run->jobcxt = run->pagecxt = NULL;
	run->http = NULL;
	run->pizzly = NULL;
	run->fill = NULL;
	job_finish(run, status, message, detail);
	job_checkpoint_note_start(run);
	nango_unpin_search_path(pinned);
	return status;
}

/* ---------------------------------------------------------------------
 * SQL
 * ---------------------------------------------------------------------
 */

/*
 * check_run_allowed: the sync exists and the caller is its owner (or a
 * member of the owner role) or a superuser.
 */
static void
check_run_allowed(int64 sync_id)
{
	NangoSavedRole saved;
	SyncRow		sync;
	Oid			caller = GetUserId();
	bool		found;

	nango_push_role(nango_extension_owner(), &saved);
	SPI_connect();
	found = catalog_read_sync(sync_id, SYNC_LOCK_NONE, &sync, CurrentMemoryContext);
	SPI_finish();
	nango_pop_role(&saved);
	if (!found)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("sync " INT64_FORMAT " does not exist", sync_id)));
	if (!catalog_may_manage(caller, sync.owner))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to run sync " INT64_FORMAT, sync_id),
				 errdetail("Only the owner of a sync or a superuser may run it.")));
}

/*
 * warn_failed_job: the WARNING run_sync gives for a failed or cancelled
 * job, from what the job row recorded.
 */
static void
warn_failed_job(int64 job_id, NangoJobStatus status)
{
	MemoryContext cxt = CurrentMemoryContext;
	NangoSavedRole saved;
	char	   *name = NULL;
	char	   *msg = NULL;
	char	   *detail = NULL;
	char	   *friendly = NULL;
	int64		sync_id = 0;
	bool		found;

	nango_push_role(nango_extension_owner(), &saved);
	SPI_connect();
	found = catalog_job_failure(job_id, &sync_id, &friendly, &msg, &detail, cxt);
	SPI_finish();
	nango_pop_role(&saved);
	if (found)
		name = nango_sync_label(sync_id, friendly);
	ereport(WARNING,
			(errcode(status == NANGO_JOB_CANCELLED ? ERRCODE_QUERY_CANCELED : ERRCODE_WARNING),
			 errmsg("sync %s: job %s: %s", name ? name : "?", job_status_name(status),
					msg ? msg : "unknown error"),
			 detail ? errdetail("%s", detail) : 0));
}

/*
 * nango_run_sync: nango.run_sync(sync_id): one job now, in this session.
 * A failed or cancelled job is recorded and reported as a WARNING.
 */
Datum
nango_run_sync(PG_FUNCTION_ARGS)
{
	int64		sync_id = PG_GETARG_INT64(0);
	int64		job_id;
	NangoJobStatus status;

	int			pinned = nango_pin_search_path();

	check_run_allowed(sync_id);
	job_id = nango_job_create(sync_id, 1, NANGO_TRIGGER_MANUAL);
	status = nango_job_execute(job_id, NULL);
	if (status != NANGO_JOB_SUCCEEDED)
		warn_failed_job(job_id, status);
	nango_unpin_search_path(pinned);
	PG_RETURN_INT64(job_id);
}
