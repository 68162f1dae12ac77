/*-------------------------------------------------------------------------
 *
 * pages.c
 *	  The page loop of one request chain: build each request from the pager,
 *	  fetch it (the next one in flight while a page is stored), store and map
 *	  its records, keep the incremental cursor, and delete unseen records when
 *	  a full pass ends.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/memutils.h"

#include "job_int.h"
#include "nango.h"
#include "progress.h"
#include "extinfo.h"
#include "roles.h"
#include "worker.h"

/*
 * store_page: writes a page's records to nango.raw (as the extension
 * owner) and to the mapped table (as the sync's owner).
 */
static void
store_page(JobRun *run, NangoStore *st, NangoMapTable *mt, PageRecords *pr)
{
	NangoSavedRole saved;
	bool	   *changed = palloc0(sizeof(bool) * (pr->n > 0 ? pr->n : 1));

	if (pr->n == 0)
		return;
	nango_progress_wait(NANGO_WAITING_STORE);
	nango_push_role(nango_extension_owner(), &saved);
	nango_store_write(st, pr->n, pr->records, pr->keys, &run->counts, changed);
	nango_pop_role(&saved);

	if (mt != NULL)
	{
		Jsonb	  **recs = palloc(sizeof(Jsonb *) * pr->n);
		char	  **keys = palloc(sizeof(char *) * pr->n);
		const NangoNumPaths **nps = pr->numpaths ? palloc(sizeof(NangoNumPaths *) * pr->n) : NULL;
		int			m = 0;
		int			i;
		NangoMapCounts mc = {0, 0};

		for (i = 0; i < pr->n; i++)
			if (changed[i])
			{
				recs[m] = pr->records[i];
				keys[m] = pr->keys ? pr->keys[i] : NULL;
				if (nps)
					nps[m] = pr->numpaths[i];
				m++;
			}
		if (m > 0)
		{
			nango_push_owner(run->owner, run->caller, &saved);
			nango_map_write(mt, run->job_id, m, recs, keys, nps, &mc);
			nango_pop_role(&saved);
			run->counts.mismatch += mc.mismatch;
			run->counts.skipped += mc.skipped;
		}
	}
	nango_progress_wait(NANGO_WAITING_NONE);
}

/* job_store_page: store_page for the request chains of a child sync (chains.c). */
void
job_store_page(JobRun *run, NangoStore *st, NangoMapTable *mt, PageRecords *pr)
{
	store_page(run, st, mt, pr);
}

/*
 * job_build_request: the request of the pager's next page (its strings in the
 * current memory context).
 */
void
job_build_request(JobRun *run, NangoPager *pager, NangoRequest *req, bool refreshed)
{
	const NangoConfig *cfg = run->chain_cfg ? run->chain_cfg : run->cfg;
	char	   *url;
	char	   *body;

	nango_pager_request(pager, &url, &body);
	memset(req, 0, sizeof(*req));
	req->method = cfg->method;
	req->url = url;
	req->nheaders = cfg->nheaders;
	req->headers = cfg->headers;
	req->body = body;
	req->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : nango_http_timeout_ms;
	req->retries = cfg->retries;
	/* with Pizzly, a 401 fetches the token again and retries once */
	req->return_401 = run->pizzly != NULL && !refreshed;
	/* a child chain's first request: 404 and 410 mean no children */
	req->return_gone = run->chain_cfg != NULL && run->page == 1;
}

/*
 * refill_chain: a fresh Pizzly token went into the job's config: the
 * current parent's requests are made again from it (in place, as the
 * pager holds them).
 */
static void
refill_chain(JobRun *run)
{
	MemoryContext old = MemoryContextSwitchTo(run->chaincxt);
	char	   *missing;

	(void) nango_parent_fill_into(run->cfg, run->chain_parent, (NangoConfig *) run->chain_cfg, &missing);
	MemoryContextSwitchTo(old);
}

/*
 * job_fetch_page: builds and sends one page's request; returns the response.
 */
void
job_fetch_page(JobRun *run, NangoPager *pager, NangoResponse *resp)
{
	NangoRequest req;
	bool		refreshed = false;

	for (;;)
	{
		MemoryContext cur;

		job_build_request(run, pager, &req, refreshed);
		/* a next URL from the API may carry new secrets (e.g. a signature) */
		cur = MemoryContextSwitchTo(run->jobcxt);
		nango_secrets_add_url(&run->secrets, req.url, false);
		MemoryContextSwitchTo(cur);
		job_memo_condition(run, run->page, &req);
		run->url = nango_redact_url(req.url, &run->secrets);
		nango_progress_request(req.method, run->url);
		nango_log(NANGO_LOG_DEBUG, LOG, "nango: sync %s: fetching page %d: %s %s",
				  run->name, run->page, req.method, run->url);
		nango_http_fetch(run->http, &req, resp);
		if (resp->status != 401 || !req.return_401)
			break;
		nango_pizzly_refresh(run->pizzly);
		refreshed = true;
		if (run->chain_cfg != NULL)
			refill_chain(run);
	}
}

/*
 * prefetch_page: sends the next page's request before the current page is
 * stored, so the API answers while the database works; fetch_page of the
 * next page then takes that answer.  The next URL's secrets join the
 * job's list in fetch_page, as before any message can name that request:
 * added now, they could push the current page's out of the list of recent
 * URL secrets while an error about the current page is still to come.
 */
static void
prefetch_page(JobRun *run, NangoPager *pager)
{
	NangoRequest req;

	job_build_request(run, pager, &req, false);
	job_memo_condition(run, run->page + 1, &req);
	nango_http_start(run->http, &req);
}

/*
 * job_start_incremental: the value of the last successful job (or the initial
 * value) goes with every request of this job.
 */
void
job_start_incremental(JobRun *run, NangoPager *pager)
{
	bool		is_number;
	char	   *v = nango_incr_start_value(run->incr->stored,
										   run->cfg->incremental_initial_value, &is_number);

	if (v != NULL)
		nango_pager_add_param(pager, run->cfg->incremental_request_steps, v, is_number);
	nango_log(NANGO_LOG_DEBUG, LOG, "nango: sync %s: incremental from %s",
			  run->name, v ? v : "the beginning");
}

/*
 * job_save_incremental: after a successful job, the highest value seen becomes
 * the sync's incremental state (in the job's subtransaction).
 */
void
job_save_incremental(JobRun *run)
{
	Jsonb	   *final = nango_incr_final(run->incr);
	NangoSavedRole saved;

	if (final == NULL)
		return;
	nango_push_role(nango_extension_owner(), &saved);
	catalog_save_incremental(run->sync_id, final);
	nango_pop_role(&saved);
	MemoryContextSwitchTo(run->jobcxt);
}

/* Mapped table and owner, for the delete callback. */
typedef struct DeleteTarget
{
	NangoMapTable *mt;
	Oid			owner;
	Oid			caller;
	bool		soft;
} DeleteTarget;

/* map_delete_keys: removes the deleted keys from the mapped table too. */
static void
map_delete_keys(void *arg, int n, char **keys)
{
	DeleteTarget *t = (DeleteTarget *) arg;
	NangoSavedRole saved;

	if (t->mt == NULL)
		return;
	nango_push_owner(t->owner, t->caller, &saved);
	nango_map_delete_keys(t->mt, n, keys, t->soft);
	nango_pop_role(&saved);
}

/*
 * job_delete_unseen: after a complete full-refresh job (not cut by max_total,
 * not incremental), the sync's keys the job did not see are deleted.
 */
void
job_delete_unseen(JobRun *run, NangoStore *st, NangoMapTable *mt)
{
	DeleteTarget t;
	NangoSavedRole saved;

	if (run->truncated)
	{
		nango_log(NANGO_LOG_INFO, LOG,
				  "nango: sync %s: max_total cut the job short, no rows deleted", run->name);
		return;
	}
	t.mt = mt;
	t.owner = run->owner;
	t.caller = run->caller;
	t.soft = (run->cfg->delete_mode == NANGO_DELETE_SOFT);
	nango_progress_wait(NANGO_WAITING_STORE);
	nango_push_role(nango_extension_owner(), &saved);
	run->counts.deleted = nango_store_delete_unseen(st, t.soft, map_delete_keys, &t);
	nango_pop_role(&saved);
	nango_progress_wait(NANGO_WAITING_NONE);
	MemoryContextSwitchTo(run->jobcxt);
}

/*
 * skip_page: the current page is unchanged since its memo (pagememo.c):
 * counted, its keys seen, paging restored, and the next page's request
 * sent, without reading its records.
 */
static void
skip_page(JobRun *run, NangoPager *pager, NangoStore *st)
{
	job_memo_skip(run, pager, st);
	MemoryContextSwitchTo(run->pagecxt);
	if (!pager->done)
		prefetch_page(run, pager);
	nango_report_progress(run->job_id, run->counts.pages, run->counts.fetched);
	MemoryContextSwitchTo(run->pagecxt);
	job_checkpoint_page(run, pager, st);
}

/*
 * job_run_pages: the page loop.  Each page is handled in a memory context
 * reset before the next one, so memory does not grow with pages.
 */
void
job_run_pages(JobRun *run, NangoStore *st, NangoMapTable *mt)
{
	const NangoConfig *cfg = run->cfg;
	NangoPager	pager;

	nango_pager_init(&pager, run->chain_cfg ? run->chain_cfg : cfg, run->http,
					 run->chain_cfg ? run->chaincxt : run->jobcxt);
	if (run->incr != NULL)
		job_start_incremental(run, &pager);
	job_checkpoint_restore(run, &pager);
	job_memo_begin(run);
	while (!pager.done)
	{
		NangoResponse resp;
		PageRecords pr;
		Jsonb	   *body;
		NangoExpMarks *marks;
		int64		remaining;

		CHECK_FOR_INTERRUPTS();
		MemoryContextReset(run->pagecxt);
		MemoryContextSwitchTo(run->pagecxt);
		run->page++;
		job_fetch_page(run, &pager, &resp);
		if (resp.status == 404 || resp.status == 410)
		{
			/* only asked for on a child chain's first request */
			run->counts.pages++;
			run->gone = true;
			pager.done = true;
			break;
		}
		if (job_memo_unchanged(run, &resp))
		{
			skip_page(run, &pager, st);
			continue;
		}
		body = job_parse_page(run, &resp, &marks);
		if (body != NULL)
			job_extract_records(run, body, marks, &pr);
		else
		{
			memset(&pr, 0, sizeof(pr));
			pr.missing = true;
		}
		if (pr.missing)
		{
			job_memo_page_dropped(run);
			run->counts.pages++;
			pager.done = true;
			pager.stop = NANGO_STOP_RESPONSE_PATH_MISSING;
			break;
		}
		run->counts.fetched += pr.n;
		run->counts.pages++;
		if (cfg->unique_key != NULL)
			job_record_keys(run, &pr);
		if (run->incr != NULL)
		{
			int			i;

			for (i = 0; i < pr.n; i++)
				nango_incr_see(run->incr, pr.records[i]);
		}
		remaining = cfg->max_total > 0 ? cfg->max_total - run->pass_fetched - run->counts.fetched : -1;
		/* paging sees every record received, keyless ones too */
		nango_pager_advance(&pager, body, pr.received, pr.received > 0 ? &pr.last : NULL,
							pr.hash, &resp, remaining);
		/* resp is not used past this point: the next request may start */
		if (!pager.done)
			prefetch_page(run, &pager);
		store_page(run, st, mt, &pr);
		job_memo_page_done(run, &pager, &pr);
		nango_report_progress(run->job_id, run->counts.pages, run->counts.fetched);
		/* whatever the callees left current, the page's work stays in pagecxt */
		MemoryContextSwitchTo(run->pagecxt);
		job_checkpoint_page(run, &pager, st);
	}
	MemoryContextSwitchTo(run->jobcxt);
	run->truncated |= (pager.stop == NANGO_STOP_MAX_TOTAL);
	nango_log(NANGO_LOG_DEBUG, LOG, "nango: sync %s: paging ended after page %d: %s",
			  run->name, run->page, nango_stop_reason_text(pager.stop));
}
