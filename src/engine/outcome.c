/*-------------------------------------------------------------------------
 *
 * outcome.c
 *	  The end of a job: the checks that turn a job that stored nothing usable
 *	  into a failure, the warnings a user should read, and the final row of
 *	  nango.jobs (status, counts, redacted error and detail).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/async.h"
#include "executor/spi.h"
#include "utils/builtins.h"

#include "job_int.h"
#include "nango.h"
#include "extinfo.h"
#include "roles.h"
#include "worker.h"

/*
 * run_after_parent: after a successful job of sync_id, its children
 * without a schedule of their own are due now (docs/config.md); the
 * launcher is woken at commit.
 */
static void
run_after_parent(int64 sync_id)
{
	if (catalog_children_due_now(sync_id) > 0)
		nango_wake_launcher_at_commit();
}

/*
 * job_check_some_keyed: a job that fetched records of which not one had a
 * usable unique key fails (docs/sync-modes.md): it would otherwise succeed
 * and store nothing.  The hint names the key path closest to unique_key
 * that the records do have (ID for id, say).
 */
void
job_check_some_keyed(JobRun *run)
{
	const char *uk = run->cfg->unique_key;
	int64		n = run->key_missing + run->key_unusable + run->long_keys;

	if (run->keyed > 0 || n == 0)
		return;
	if (run->key_missing == n)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unique_key \"%s\" is missing in all " INT64_FORMAT " records", uk, n),
				 run->key_suggestion
				 ? errhint("The closest key path the records have is \"%s\"; unique_key is a dot path and case-sensitive.",
						   run->key_suggestion)
				 : errhint("Check unique_key against a record of the API (the records are not JSON objects).")));
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unique_key \"%s\" has no usable value in any of the " INT64_FORMAT " records", uk, n),
			 errdetail(INT64_FORMAT " records lack it, " INT64_FORMAT " have null, an object or an array there, "
					   INT64_FORMAT " have a value longer than %d bytes.",
					   run->key_missing, run->key_unusable, run->long_keys, NANGO_MAX_KEY_BYTES),
			 run->key_suggestion
			 ? errhint("The closest key path the records have is \"%s\".", run->key_suggestion)
			 : errhint("A unique key must be a string, a number or a boolean.")));
}

/*
 * job_note_outcome: the warnings of a job that got to its end: records
 * skipped for their key, duplicate keys, \u0000 replaced.  (Mapping notes
 * its own: mismatches, the column cap, rows too big.)
 */
void
job_note_outcome(JobRun *run)
{
	const char *uk = run->cfg->unique_key;

	if (run->key_missing > 0)
		nango_job_warn(INT64_FORMAT " record(s) without unique_key \"%s\" were skipped",
					   run->key_missing, uk);
	if (run->key_unusable > 0)
		nango_job_warn(INT64_FORMAT " record(s) whose unique_key \"%s\" is null, an object or an array were skipped",
					   run->key_unusable, uk);
	if (run->long_keys > 0)
		nango_job_warn(INT64_FORMAT " record(s) whose unique_key \"%s\" is longer than %d bytes were skipped",
					   run->long_keys, uk, NANGO_MAX_KEY_BYTES);
	if (run->counts.duplicate > 0)
		nango_job_warn(INT64_FORMAT " record(s) repeated a unique_key \"%s\" seen earlier in the job; "
					   "the last version of each key was kept",
					   run->counts.duplicate, uk);
	if (run->nul_replaced > 0)
		nango_job_warn(INT64_FORMAT " \\u0000 escape(s) in strings were replaced by U+FFFD",
					   run->nul_replaced);
}


/* job_status_name: the text of a status in nango.jobs.status. */
const char *
job_status_name(NangoJobStatus s)
{
	switch (s)
	{
		case NANGO_JOB_RUNNING:
			return "running";
		case NANGO_JOB_SUCCEEDED:
			return "succeeded";
		case NANGO_JOB_FAILED:
			return "failed";
		case NANGO_JOB_CANCELLED:
			return "cancelled";
	}
	return "failed";
}

/*
 * warnings_array: the job's warning lines as a text[] (NULL when none);
 * a last line says when some were dropped.
 */
static Datum
warnings_array(JobRun *run, bool *isnull)
{
	int			n = list_length(run->warnings);
	Datum	   *elems = palloc(sizeof(Datum) * (n + 1));
	ListCell   *lc;
	int			i = 0;

	*isnull = (n == 0);
	if (n == 0)
		return (Datum) 0;
	foreach(lc, run->warnings)
		elems[i++] = CStringGetTextDatum((char *) lfirst(lc));
	if (run->warnings_capped)
		elems[i++] = CStringGetTextDatum(psprintf("more warnings than these %d were left out",
												  NANGO_MAX_WARNINGS));
	return PointerGetDatum(construct_array(elems, i, TEXTOID, -1, false, TYPALIGN_INT));
}

/*
 * report_warnings: each warning line of the job as a WARNING: to the
 * caller of run_sync (without ids, so that outputs are stable), or in the
 * server log for a job of the worker.
 */
static void
report_warnings(JobRun *run)
{
	ListCell   *lc;

	foreach(lc, run->warnings)
	{
		char	   *line = (char *) lfirst(lc);

		if (run->manual)
			ereport(WARNING,
					(errcode(ERRCODE_WARNING),
					 errmsg("sync %s: %s", run->name, line),
					 errhint("The job succeeded; its row in nango.jobs lists this in \"warnings\".")));
		else
			nango_log(NANGO_LOG_WARNING, WARNING, "nango: sync %s: job " INT64_FORMAT ": %s",
					  run->name, run->job_id, line);
	}
}

/*
 * job_finish: records the outcome on the job row (as the extension owner),
 * sends NOTIFY nango_jobs and logs a line.
 */
void
job_finish(JobRun *run, NangoJobStatus status, const char *message, const char *detail)
{
	NangoSavedRole saved;
	bool		isnull;
	NangoCounts *c = &run->counts;
	const char *sname = job_status_name(status);
	Datum		warnings = warnings_array(run, &isnull);
	int64		counts[CATALOG_JOB_NCOUNTS] = {c->pages, c->fetched, c->added, c->updated,
	c->deleted, c->unchanged, c->skipped, c->mismatch, c->duplicate};

	nango_push_role(nango_extension_owner(), &saved);
	SPI_connect();
	catalog_finish_job(run->job_id, sname, message, detail, counts, warnings, isnull);
	if (status == NANGO_JOB_SUCCEEDED)
		run_after_parent(run->sync_id);
	SPI_finish();
	nango_pop_role(&saved);

	Async_Notify("nango_jobs",
				 psprintf("{\"sync_id\": " INT64_FORMAT ", \"job_id\": " INT64_FORMAT
						  ", \"status\": \"%s\", \"added\": " INT64_FORMAT
						  ", \"updated\": " INT64_FORMAT ", \"unchanged\": " INT64_FORMAT
						  ", \"deleted\": " INT64_FORMAT "}",
						  run->sync_id, run->job_id, sname, c->added, c->updated, c->unchanged,
						  c->deleted));

	if (status == NANGO_JOB_SUCCEEDED)
		nango_log(NANGO_LOG_INFO, LOG,
				  "nango: sync %s: job " INT64_FORMAT " succeeded: " INT64_FORMAT " pages, "
				  INT64_FORMAT " fetched, " INT64_FORMAT " added, " INT64_FORMAT " updated, "
				  INT64_FORMAT " unchanged, " INT64_FORMAT " deleted, " INT64_FORMAT " skipped, "
				  INT64_FORMAT " duplicate",
				  run->name, run->job_id, c->pages, c->fetched, c->added, c->updated,
				  c->unchanged, c->deleted, c->skipped, c->duplicate);
	else
		nango_log(NANGO_LOG_WARNING, LOG, "nango: sync %s: job " INT64_FORMAT " %s: %s (%s)",
				  run->name, run->job_id, sname, message ? message : "", detail ? detail : "");
	if (status == NANGO_JOB_SUCCEEDED)
		report_warnings(run);
}

/*
 * job_failure_detail: where the job failed: page, request, HTTP status, body
 * excerpt, and the error's own detail; secrets redacted.
 */
char *
job_failure_detail(JobRun *run, ErrorData *edata)
{
	StringInfoData buf;
	long		status = nango_http_last_status(run->http);
	char	   *excerpt = nango_http_body_excerpt(run->http, 300);

	initStringInfo(&buf);
	if (run->page > 0)
		appendStringInfo(&buf, "page %d", run->page);
	else
		appendStringInfoString(&buf, "before the first request");
	if (run->url != NULL)
		appendStringInfo(&buf, ", request %s %s", run->method ? run->method : "GET", run->url);
	if (status > 0)
		appendStringInfo(&buf, ", HTTP status %ld", status);
	if (edata->detail != NULL)
		appendStringInfo(&buf, "\n%s", edata->detail);
	if (excerpt != NULL && status > 0 && (edata->detail == NULL || strstr(edata->detail, "Response body") == NULL))
		appendStringInfo(&buf, "\nresponse body (excerpt): %s", excerpt);
	/* what to do about it (e.g. the key path the records do have) */
	if (edata->hint != NULL)
		appendStringInfo(&buf, "\nhint: %s", edata->hint);
	return nango_redact_text(buf.data, &run->secrets);
}
