/*-------------------------------------------------------------------------
 *
 * preview.c
 *	  nango.preview: a dry run of a job.  The config is checked as add_sync
 *	  checks it and up to ten pages are fetched exactly as a job would, but
 *	  nothing is stored: no sync, no job row, no raw row, no table.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "job_int.h"
#include "extinfo.h"
#include "roles.h"

PG_FUNCTION_INFO_V1(nango_preview);

/* The most pages nango.preview fetches. */
#define NANGO_PREVIEW_MAX_PAGES 10

/* One row of nango.preview. */
typedef struct PreviewRow
{
	int			page;
	char	   *request;		/* method and redacted URL */
	long		http_status;	/* 0: no response */
	int			record_count;
	char	   *next_request;	/* NULL: paging stops */
	const char *stop_reason;	/* NULL: paging goes on */
	Jsonb	   *first_record;
	char	   *columns;		/* JSON object text, or NULL */
} PreviewRow;

/*
 * The rows of a preview, formed in the query's memory and put into the
 * result after the preview's subtransaction has ended (a result that
 * spilled to a temporary file inside a subtransaction that is rolled back
 * would lose its file).
 */
typedef struct PreviewResult
{
	ReturnSetInfo *rsinfo;
	List	   *tuples;
} PreviewResult;

/*
 * preview_put: adds one row to nango.preview's result.
 */
static void
preview_put(PreviewResult *res, const PreviewRow *r)
{
	MemoryContext old;

	Datum		v[8];
	bool		n[8] = {false, r->request == NULL, r->http_status <= 0, false,
		r->next_request == NULL, r->stop_reason == NULL, r->first_record == NULL,
	r->columns == NULL};

	v[0] = Int32GetDatum(r->page);
	v[1] = r->request ? CStringGetTextDatum(r->request) : (Datum) 0;
	v[2] = Int32GetDatum((int32) r->http_status);
	v[3] = Int32GetDatum(r->record_count);
	v[4] = r->next_request ? CStringGetTextDatum(r->next_request) : (Datum) 0;
	v[5] = r->stop_reason ? CStringGetTextDatum(r->stop_reason) : (Datum) 0;
	v[6] = r->first_record ? JsonbPGetDatum(r->first_record) : (Datum) 0;
	v[7] = r->columns ? DirectFunctionCall1(jsonb_in, CStringGetDatum(r->columns)) : (Datum) 0;
	old = MemoryContextSwitchTo(res->rsinfo->econtext->ecxt_per_query_memory);
	res->tuples = lappend(res->tuples, heap_form_tuple(res->rsinfo->setDesc, v, n));
	MemoryContextSwitchTo(old);
}

/*
 * preview_pages: the page loop of a job (fetch, parse, records, paging),
 * without storing anything: one row per page, at most maxpages.
 */
static void
preview_pages(JobRun *run, int maxpages, PreviewResult *res)
{
	const NangoConfig *cfg = run->cfg;
	NangoPager	pager;

	nango_pager_init(&pager, run->chain_cfg ? run->chain_cfg : cfg, run->http, run->jobcxt);
	if (run->incr != NULL)
		job_start_incremental(run, &pager);
	while (!pager.done && run->page < maxpages)
	{
		NangoResponse resp;
		PageRecords pr;
		Jsonb	   *body;
		NangoExpMarks *marks;
		PreviewRow	row;

		CHECK_FOR_INTERRUPTS();
		MemoryContextReset(run->pagecxt);
		MemoryContextSwitchTo(run->pagecxt);
		run->page++;
		job_fetch_page(run, &pager, &resp);
		memset(&row, 0, sizeof(row));
		row.page = run->page;
		row.request = psprintf("%s %s", cfg->method, run->url);
		row.http_status = resp.status;
		if (resp.status == 404 || resp.status == 410)
		{
			row.stop_reason = "the parent record's children are gone: a job skips it";
			preview_put(res, &row);
			break;
		}
		body = job_parse_page(run, &resp, &marks);
		if (body != NULL)
			job_extract_records(run, body, marks, &pr);
		if (body == NULL || pr.missing)
		{
			row.stop_reason = nango_stop_reason_text(NANGO_STOP_RESPONSE_PATH_MISSING);
			preview_put(res, &row);
			break;
		}
		run->counts.fetched += pr.n;
		nango_pager_advance(&pager, body, pr.received, pr.received > 0 ? &pr.last : NULL,
							pr.hash, &resp,
							cfg->max_total > 0 ? cfg->max_total - run->counts.fetched : -1);
		row.record_count = pr.received;
		row.first_record = pr.received > 0 ? pr.records[0] : NULL;
		row.columns = nango_flatten_columns(pr.records, pr.n, &cfg->map_options);
		if (pager.done)
			row.stop_reason = nango_stop_reason_text(pager.stop);
		else
		{
			char	   *url;
			char	   *reqbody;

			nango_pager_request(&pager, &url, &reqbody);
			row.next_request = psprintf("%s %s", cfg->method, nango_redact_url(url, &run->secrets));

		}
		preview_put(res, &row);
	}
}

/*
 * preview_failure: the row of a page whose request or parsing failed; the
 * error's message (secrets redacted) is its stop_reason.
 */
static void
preview_failure(JobRun *run, ErrorData *edata, PreviewResult *res)
{
	PreviewRow	row;

	memset(&row, 0, sizeof(row));
	row.page = run->page;
	row.request = run->url ? psprintf("%s %s", run->cfg->method, run->url) : NULL;
	row.http_status = run->http ? nango_http_last_status(run->http) : 0;
	row.stop_reason = nango_redact_text(psprintf("failed: %s", edata->message), &run->secrets);
	preview_put(res, &row);
}

/*
 * preview_parent: a child sync's preview makes the requests of the first
 * live record (in key order) of its parent, a sync of the caller's named
 * by id or name.  No parent record, or one without a value at a
 * placeholder's path, is an ERROR: there is no request to show.
 */
static void
preview_parent(JobRun *run)
{
	NangoSavedRole saved;
	const NangoConfig *cfg = run->cfg;
	const char *shown = cfg->parent_name ? cfg->parent_name : psprintf(INT64_FORMAT, cfg->parent_id);
	char	   *missing;
	bool		found;
	char	   *key = NULL;
	MemoryContext cxt = CurrentMemoryContext;

	nango_push_role(nango_extension_owner(), &saved);
	SPI_connect();
	found = catalog_parent_first_record(cfg->parent_id, cfg->parent_name, run->owner,
										&key, &run->chain_parent, cxt);
	run->parent_key = key;
	SPI_finish();
	nango_pop_role(&saved);
	if (!found)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("config key \"parent\": you have no sync %s", shown)));
	if (run->chain_parent == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the parent sync %s has no records to make a child request for", shown),
				 errhint("Run the parent sync first (nango.run_sync).")));
	run->chaincxt = run->jobcxt;
	run->chain_cfg = nango_parent_fill(cfg, run->chain_parent, &missing);
	if (run->chain_cfg == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the first parent record (key %s) has no value at ${parent.%s}", run->parent_key, missing)));
}

/*
 * nango_preview: nango.preview(url, config, pages): validates the config
 * as add_sync does, then fetches up to pages pages as a job of the caller
 * would (paging, auth, network guard, retries) and returns one row per
 * page.  Nothing is stored: no sync, job, raw row or table.  A failed
 * request or an unreadable page ends the result with a row saying why;
 * a query cancel stays an error.
 */
Datum
nango_preview(PG_FUNCTION_ARGS)
{
	PreviewResult res = {(ReturnSetInfo *) fcinfo->resultinfo, NIL};
	MemoryContext oldcxt;
	ResourceOwner oldowner = CurrentResourceOwner;
	JobRun	   *run = palloc0(sizeof(JobRun));
	ListCell   *lc;
	int			pages = PG_ARGISNULL(2) ? 1 : PG_GETARG_INT32(2);
	int			pinned;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("url must not be null")));
	if (pages < 1 || pages > NANGO_PREVIEW_MAX_PAGES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("pages must be between 1 and %d", NANGO_PREVIEW_MAX_PAGES),
				 errhint("A preview shows the first pages; add the sync and use nango.run_sync to read them all.")));
	InitMaterializedSRF(fcinfo, 0);
	oldcxt = CurrentMemoryContext;
	pinned = nango_pin_search_path();
	run->owner = GetUserId();
	run->name = "preview";
	run->cfg = nango_config_parse(text_to_cstring(PG_GETARG_TEXT_PP(0)),
								  PG_ARGISNULL(1) ? NULL : PG_GETARG_JSONB_P(1));
	/* the caller's secrets and Pizzly grants, as add_sync checks them */
	nango_check_credentials((NangoConfig *) run->cfg, run->owner);
	run->jobcxt = AllocSetContextCreate(oldcxt, "nango preview", ALLOCSET_DEFAULT_SIZES);
	run->pagecxt = AllocSetContextCreate(run->jobcxt, "nango page", ALLOCSET_DEFAULT_SIZES);
	run->method = run->cfg->method;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(run->jobcxt);
	PG_TRY();
	{
		job_apply_credentials(run);
		job_collect_secrets(run);
		run->http = nango_http_create(run->jobcxt, &run->secrets);
		nango_http_set_scope(run->http, run->cfg->url, run->cfg->credential_hosts,
							 run->cfg->ncredential_hosts);
		job_set_rate_limit(run);
		if (run->cfg->pizzly_connection_id != NULL)
			run->pizzly = nango_pizzly_begin((NangoConfig *) run->cfg, run->fill, &run->secrets, run->jobcxt);
		if (run->cfg->incremental_cursor_path != NULL)
		{
			run->incr = palloc0(sizeof(NangoIncremental));
			run->incr->cursor_path = run->cfg->incremental_cursor_steps;
			run->incr->cxt = run->jobcxt;
		}
		if (run->cfg->has_parent)
			preview_parent(run);
		preview_pages(run, pages, &res);
		MemoryContextSwitchTo(oldcxt);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED)
			PG_RE_THROW();
		FlushErrorState();
		/* the row is built before the subtransaction's memory goes */
		MemoryContextSwitchTo(oldcxt);
		preview_failure(run, edata, &res);
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_END_TRY();
	foreach(lc, res.tuples)
		tuplestore_puttuple(res.rsinfo->setResult, (HeapTuple) lfirst(lc));
	MemoryContextDelete(run->jobcxt);
	nango_unpin_search_path(pinned);
	return (Datum) 0;
}
