/*-------------------------------------------------------------------------
 *
 * chains.c
 *	  The request chains of a child sync in flight together
 *	  (docs/config.md, "Child syncs").
 *
 *	  A chain is one parent record's paging.  `concurrency` HTTP handles
 *	  share one curl multi handle; a chain holds one while its request is
 *	  out, so at most `concurrency` chains are in flight at once.  A chain
 *	  follows its own paging: as soon as an answer arrives, its page is
 *	  parsed, the chain's pager advances and its next request is due; free
 *	  handles go to the due chains of the earliest parents first.  Pages
 *	  are stored in parent order, in the job's one transaction: the chain
 *	  of the parent being stored has its pages stored as they come; the
 *	  others keep theirs in memory, at most CHAIN_MAX_PAGES each, and a
 *	  chain with that many waiting pauses (sends nothing) until its
 *	  parent's turn.  Chains exist for at most CHAIN_AHEAD x concurrency
 *	  parents from the one being stored on, so a parent whose chain ended
 *	  early frees its handle for a later parent while its pages wait; a
 *	  parent's chain and memory go to the next parent once its last page
 *	  is stored.
 *
 *	  Every request passes the same rate-limit budget check (the handles
 *	  share the job's rate limit; ratelimit.c counts them together): a
 *	  request the budget holds back is tried again while other answers are
 *	  awaited, and waited for when nothing else is in flight.  An error in
 *	  any chain fails the job; the handles and their transfers are freed
 *	  with the job's memory.  With max_total, one chain runs at a time, so
 *	  that the cut falls where it would without concurrency.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "job_int.h"
#include "nango.h"
#include "worker.h"

/*
 * Pages a chain keeps in memory while earlier parents are stored; with
 * concurrency 16, 32 chains and at most 128 pages (each at most
 * nango.max_response_size) wait.
 */
#define CHAIN_MAX_PAGES 4

/* Parents with a chain at once, per HTTP handle */
#define CHAIN_AHEAD 2

/* Longest wait for an answer before the chains look again (ms). */
#define CHAIN_POLL_MS 100
/* ... when a request waits for the rate limit's budget */
#define CHAIN_HELD_POLL_MS 10

typedef enum ChainState
{
	CHAIN_FREE,					/* no parent record */
	CHAIN_DUE,					/* its next request waits for a free handle */
	CHAIN_SENT,					/* its next request is out (it holds a
								 * handle), or held back by the rate limit */
	CHAIN_PAUSED,				/* CHAIN_MAX_PAGES pages wait to be stored */
	CHAIN_DONE					/* paging ended; pages may still wait */
} ChainState;

/* A page received, waiting for its parent's turn to be stored. */
typedef struct ChainPage
{
	MemoryContext cxt;			/* its records */
	PageRecords pr;
	int			number;			/* its page number in the chain */
	char	   *url;			/* its request, redacted (in cxt) */
} ChainPage;

/* One parent record's request chain. */
typedef struct Chain
{
	NangoHttp  *http;			/* while CHAIN_SENT, else NULL */
	NangoHttp  *last_http;		/* the handle of its last answer */
	MemoryContext cxt;			/* the parent's requests, pager and pages */
	int			parent;			/* the parent's index, -1: none */
	ChainState	state;
	NangoConfig *cfg;			/* its requests, NULL when a value is missing */
	char	   *missing;		/* then the placeholder's path */
	NangoPager	pager;
	int			page;			/* pages received */
	long		gone_status;	/* 404 or 410 on the first request, else 0 */
	Jsonb	   *incr_stored;	/* the parent's incremental value, or NULL */
	Jsonb	   *incr_highest;	/* the highest value its records had */
	TimestampTz sent_at;		/* when its request went out */
	int			timeout_ms;		/* that request's timeout */
	ChainPage	pages[CHAIN_MAX_PAGES]; /* waiting pages, a ring */
	int			first;
	int			npages;
} Chain;

struct ChainSet
{
	JobRun	   *run;
	int			n;				/* chains */
	Chain	   *chains;
	int			nhandles;		/* concurrency */
	NangoHttp **handles;
	int			nfree;			/* handles[0..nfree-1] are free */
	int			nparents;
	char	  **keys;			/* the parents' keys and records */
	Jsonb	  **records;
	int			next;			/* the first parent without a chain yet */
	Jsonb	   *map;			/* stored incremental state (parent key ->
								 * value) */
	NangoHttp  *own;			/* the job's handle, chain 0's */
	MemoryContext cxt;			/* the other handles and the chains */
	MemoryContext scratch;		/* a request being built */
	MemoryContext urlcxt;		/* url */
	char	   *url;			/* the last request received, redacted: what
								 * run->url shows between pages */
};

/*
 * stored_for_parent: the incremental value stored for a parent key in the
 * sync's map (parent key -> value), or NULL.
 */
static Jsonb *
stored_for_parent(Jsonb *map, const char *key)
{
	JsonbValue *v = NULL;

	if (map != NULL && JB_ROOT_IS_OBJECT(map))
		v = getKeyJsonValueFromContainer(&map->root, key, strlen(key), NULL);
	return v ? JsonbValueToJsonb(v) : NULL;
}

/*
 * chain_enter: the job's per-chain fields (handle, requests, parent,
 * page, incremental values) become c's, for the engine's functions and
 * for the error path, which names the request and page that failed.
 */
static void
chain_enter(ChainSet *cs, Chain *c)
{
	JobRun	   *run = cs->run;

	run->http = c->http ? c->http : c->last_http ? c->last_http : cs->own;
	run->chaincxt = c->cxt;
	run->chain_cfg = c->cfg;
	run->chain_parent = cs->records[c->parent];
	run->parent_key = cs->keys[c->parent];
	run->gone = false;
	run->page = c->page;
	if (run->incr != NULL)
	{
		run->incr->stored = c->incr_stored;
		run->incr->highest = c->incr_highest;
		run->incr->cxt = c->cxt;
	}
}

/* chain_leave: what the engine's functions changed goes back to c. */
static void
chain_leave(ChainSet *cs, Chain *c)
{
	JobRun	   *run = cs->run;

	c->page = run->page;
	if (run->incr != NULL)
	{
		c->incr_highest = run->incr->highest;
		run->incr->cxt = run->jobcxt;
	}
}

/*
 * chain_send: sends c's next request on its handle without waiting for
 * the answer (nango_http_start, after the rate limit's budget check); a
 * request the budget holds back is not sent (chains_step tries again).
 */
static void
chain_send(ChainSet *cs, Chain *c)
{
	JobRun	   *run = cs->run;
	NangoRequest req;
	MemoryContext old;

	chain_enter(cs, c);
	/* the page the request is for: a chain's first request may answer 404 */
	run->page = c->page + 1;
	MemoryContextReset(cs->scratch);
	old = MemoryContextSwitchTo(cs->scratch);
	job_build_request(run, &c->pager, &req, false);
	nango_http_start(c->http, &req);
	MemoryContextSwitchTo(old);
	run->page = c->page;
	chain_leave(cs, c);
	c->state = CHAIN_SENT;
	c->sent_at = GetCurrentTimestamp();
	c->timeout_ms = req.timeout_ms;
}

/*
 * chains_dispatch: the free handles go to the due chains, earliest parent
 * first, and their requests are sent.
 */
static void
chains_dispatch(ChainSet *cs)
{
	while (cs->nfree > 0)
	{
		Chain	   *next = NULL;

		for (int k = 0; k < cs->n; k++)
			if (cs->chains[k].state == CHAIN_DUE &&
				(next == NULL || cs->chains[k].parent < next->parent))
				next = &cs->chains[k];
		if (next == NULL)
			return;
		next->http = cs->handles[--cs->nfree];
		chain_send(cs, next);
	}
}

/* chain_release: c's answer is in: its handle is free for another chain. */
static void
chain_release(ChainSet *cs, Chain *c)
{
	if (c->http == NULL)
		return;
	c->last_http = c->http;
	cs->handles[cs->nfree++] = c->http;
	c->http = NULL;
}

/*
 * chain_assign: c becomes parent's chain: the parent's requests (the
 * placeholders filled from its record), a pager from the first page with
 * the parent's own incremental value, and its first request due.  A
 * record without a value at a placeholder's path gets no request.
 */
static void
chain_assign(ChainSet *cs, Chain *c, int parent)
{
	JobRun	   *run = cs->run;
	MemoryContext old;

	MemoryContextReset(c->cxt);
	old = MemoryContextSwitchTo(c->cxt);
	c->parent = parent;
	c->page = 0;
	c->gone_status = 0;
	c->first = c->npages = 0;
	c->missing = NULL;
	c->incr_stored = c->incr_highest = NULL;
	c->http = c->last_http = NULL;
	c->cfg = nango_parent_fill(run->cfg, cs->records[parent], &c->missing);
	if (c->cfg == NULL)
	{
		c->state = CHAIN_DONE;
		MemoryContextSwitchTo(old);
		return;
	}
	/* the pager's handle only escapes URL parts */
	nango_pager_init(&c->pager, c->cfg, cs->own, c->cxt);
	if (run->incr != NULL)
	{
		bool		is_number;
		char	   *v;

		c->incr_stored = stored_for_parent(cs->map, cs->keys[parent]);
		v = nango_incr_start_value(c->incr_stored, run->cfg->incremental_initial_value, &is_number);
		if (v != NULL)
			nango_pager_add_param(&c->pager, run->cfg->incremental_request_steps, v, is_number);
	}
	MemoryContextSwitchTo(old);
	c->state = CHAIN_DUE;
}

/*
 * chain_page: the records of an answer (in the current context), as the
 * page loop reads them (pages.c); false when the answer ends the chain
 * without records: a 404 or 410 to its first request, or response_path
 * missing on a later page.
 */
static bool
chain_page(JobRun *run, Chain *c, const NangoResponse *resp, PageRecords *pr)
{
	Jsonb	   *body;
	NangoExpMarks *marks;
	int64		remaining;

	run->counts.pages++;
	if (resp->status == 404 || resp->status == 410)
	{
		/* only asked for on a chain's first request */
		c->gone_status = resp->status;
		c->pager.done = true;
		return false;
	}
	body = job_parse_page(run, resp, &marks);
	memset(pr, 0, sizeof(*pr));
	if (body != NULL)
		job_extract_records(run, body, marks, pr);
	if (body == NULL || pr->missing)
	{
		c->pager.done = true;
		c->pager.stop = NANGO_STOP_RESPONSE_PATH_MISSING;
		return false;
	}
	run->counts.fetched += pr->n;
	if (run->cfg->unique_key != NULL)
		job_record_keys(run, pr);
	if (run->incr != NULL)
		for (int i = 0; i < pr->n; i++)
			nango_incr_see(run->incr, pr->records[i]);
	remaining = run->cfg->max_total > 0 ? run->cfg->max_total - run->counts.fetched : -1;
	/* paging sees every record received, keyless ones too */
	nango_pager_advance(&c->pager, body, pr->received, pr->received > 0 ? &pr->last : NULL,
						pr->hash, resp, remaining);
	return true;
}

/*
 * chain_receive: takes c's answer (nango_http_fetch: retries, redirects
 * and a fresh Pizzly token as for any page), frees its handle, keeps its
 * page for its parent's turn, and makes the chain's next request due at
 * once unless the chain has CHAIN_MAX_PAGES pages waiting or its paging
 * ended.
 */
static void
chain_receive(ChainSet *cs, Chain *c)
{
	JobRun	   *run = cs->run;
	MemoryContext pcxt = AllocSetContextCreate(c->cxt, "nango child page", ALLOCSET_DEFAULT_SIZES);
	NangoResponse resp;
	PageRecords pr;
	bool		kept;

	CHECK_FOR_INTERRUPTS();
	chain_enter(cs, c);
	MemoryContextSwitchTo(pcxt);
	run->page++;
	job_fetch_page(run, &c->pager, &resp);
	kept = chain_page(run, c, &resp, &pr);
	chain_release(cs, c);
	if (kept)
	{
		ChainPage  *p = &c->pages[(c->first + c->npages) % CHAIN_MAX_PAGES];

		p->cxt = pcxt;
		p->pr = pr;
		p->number = run->page;
		p->url = run->url;
		c->npages++;
	}
	/* run->url (in pcxt) must outlive the page for the error path */
	MemoryContextReset(cs->urlcxt);
	cs->url = run->url = MemoryContextStrdup(cs->urlcxt, run->url);
	if (!kept)
		MemoryContextDelete(pcxt);
	chain_leave(cs, c);
	MemoryContextSwitchTo(run->jobcxt);
	if (c->pager.done)
	{
		c->state = CHAIN_DONE;
		nango_log(NANGO_LOG_DEBUG, LOG, "nango: sync %s: parent record %s: paging ended after page %d: %s",
				  run->name, cs->keys[c->parent], c->page, nango_stop_reason_text(c->pager.stop));
	}
	else if (c->npages < CHAIN_MAX_PAGES)
		c->state = CHAIN_DUE;
	else
		c->state = CHAIN_PAUSED;
	chains_dispatch(cs);
}

/*
 * chains_step: takes every answer that arrived (or whose request timed
 * out: its fetch then reports it); when none did, waits for the next one.
 * A request the rate limit held back is tried again; when nothing else
 * is in flight, the earliest such chain waits for the budget.
 */
static void
chains_step(ChainSet *cs)
{
	TimestampTz now = GetCurrentTimestamp();
	Chain	   *held = NULL;
	bool		in_flight = false;
	bool		received = false;

	chains_dispatch(cs);
	for (int k = 0; k < cs->n; k++)
	{
		Chain	   *c = &cs->chains[k];

		if (c->state != CHAIN_SENT)
			continue;
		if (!nango_http_started(c->http))
		{
			chain_send(cs, c);
			if (!nango_http_started(c->http))
			{
				if (held == NULL || c->parent < held->parent)
					held = c;
				continue;
			}
		}
		if (nango_http_answered(c->http) ||
			TimestampDifferenceExceeds(c->sent_at, now, c->timeout_ms))
		{
			chain_receive(cs, c);
			received = true;
		}
		else
			in_flight = true;
	}
	if (received)
		return;
	if (in_flight)
		nango_http_wait(cs->own, held ? CHAIN_HELD_POLL_MS : CHAIN_POLL_MS);
	else if (held != NULL)
		chain_receive(cs, held);	/* its fetch waits for the budget */
}

/*
 * chains_refill: the chains of parents before parent (stored) are freed,
 * and every free chain takes the next parent without one, in order.
 */
static void
chains_refill(ChainSet *cs, int parent)
{
	for (int k = 0; k < cs->n; k++)
	{
		Chain	   *c = &cs->chains[k];

		if (c->parent >= 0 && c->parent < parent)
		{
			MemoryContextReset(c->cxt);
			c->parent = -1;
			c->state = CHAIN_FREE;
		}
		if (c->parent < 0 && cs->next < cs->nparents)
			chain_assign(cs, c, cs->next++);
	}
	chains_dispatch(cs);
}

/*
 * chain_store_page: stores c's oldest waiting page and frees it; a
 * paused chain sends its next request.
 */
static void
chain_store_page(ChainSet *cs, Chain *c, NangoStore *st, NangoMapTable *mt)
{
	JobRun	   *run = cs->run;
	ChainPage  *p = &c->pages[c->first];

	run->http = c->last_http ? c->last_http : cs->own;
	run->page = p->number;
	run->url = p->url;
	MemoryContextSwitchTo(p->cxt);
	job_store_page(run, st, mt, &p->pr);
	nango_report_progress(run->job_id, run->counts.pages, run->counts.fetched);
	MemoryContextSwitchTo(run->jobcxt);
	run->url = cs->url;
	MemoryContextDelete(p->cxt);
	p->cxt = NULL;
	c->first = (c->first + 1) % CHAIN_MAX_PAGES;
	c->npages--;
	if (c->state == CHAIN_PAUSED)
	{
		c->state = CHAIN_DUE;
		chains_dispatch(cs);
	}
}

/*
 * chains_store_parent: stores parent's pages as its chain delivers them,
 * while the other chains go on, until its paging ends.  Returns what
 * became of it, with *detail (in the caller's context) saying why a
 * parent gave no records.  The caller has set the parent's metadata on
 * st and mt.  The parent's incremental values are left in run->incr until
 * the next call.
 */
ChainOutcome
chains_store_parent(ChainSet *cs, int parent, NangoStore *st, NangoMapTable *mt, char **detail)
{
	JobRun	   *run = cs->run;
	MemoryContext caller = CurrentMemoryContext;
	Chain	   *c = NULL;
	ChainOutcome outcome = CHAIN_STORED;

	chains_refill(cs, parent);
	for (int k = 0; k < cs->n; k++)
		if (cs->chains[k].parent == parent)
			c = &cs->chains[k];
	Assert(c != NULL);
	for (;;)
	{
		while (c->npages > 0)
			chain_store_page(cs, c, st, mt);
		if (c->state == CHAIN_DONE)
			break;
		chains_step(cs);
	}
	chain_enter(cs, c);
	MemoryContextSwitchTo(caller);
	if (c->cfg == NULL)
	{
		outcome = CHAIN_NO_VALUE;
		*detail = psprintf("it has no value at ${parent.%s}", c->missing);
	}
	else if (c->gone_status != 0)
	{
		outcome = CHAIN_GONE;
		*detail = psprintf("its first request answered HTTP %ld", c->gone_status);
	}
	run->truncated |= (c->cfg != NULL && c->pager.stop == NANGO_STOP_MAX_TOTAL);
	if (run->incr != NULL)
		run->incr->cxt = run->jobcxt;
	return outcome;
}

/*
 * chains_open: the chains of a child job over nparents parent records
 * (their keys and records, which must outlive the chains): concurrency
 * HTTP handles (the job's own, and others sharing its multi handle, scope
 * and rate limit) and CHAIN_AHEAD times as many chains; one of each with
 * max_total.
 */
ChainSet *
chains_open(JobRun *run, int nparents, char **keys, Jsonb **records)
{
	ChainSet   *cs = palloc0(sizeof(ChainSet));

	cs->run = run;
	cs->nhandles = run->cfg->max_total > 0 ? 1 : Max(1, Min(run->cfg->concurrency, nparents));
	cs->n = run->cfg->max_total > 0 ? 1 : Max(1, Min(CHAIN_AHEAD * cs->nhandles, nparents));
	cs->nparents = nparents;
	cs->keys = keys;
	cs->records = records;
	cs->map = run->incr ? run->incr->stored : NULL;
	cs->own = run->http;
	/* a child of the job's context: its handles go before the job's own */
	cs->cxt = AllocSetContextCreate(run->jobcxt, "nango child chains", ALLOCSET_DEFAULT_SIZES);
	cs->scratch = AllocSetContextCreate(cs->cxt, "nango child request", ALLOCSET_DEFAULT_SIZES);
	cs->urlcxt = AllocSetContextCreate(cs->cxt, "nango child url", ALLOCSET_SMALL_SIZES);
	cs->handles = MemoryContextAlloc(cs->cxt, sizeof(NangoHttp *) * cs->nhandles);
	for (int k = 0; k < cs->nhandles; k++)
		cs->handles[k] = k == 0 ? run->http
			: nango_http_create_sharing(cs->cxt, &run->secrets, run->http);
	cs->nfree = cs->nhandles;
	cs->chains = MemoryContextAllocZero(cs->cxt, sizeof(Chain) * cs->n);
	for (int k = 0; k < cs->n; k++)
	{
		Chain	   *c = &cs->chains[k];

		c->cxt = AllocSetContextCreate(cs->cxt, "nango child chain", ALLOCSET_DEFAULT_SIZES);
		c->parent = -1;
		c->state = CHAIN_FREE;
	}
	return cs;
}

/*
 * chains_close: the end of the chains: the requests their handles sent
 * without the credentials are counted, the job's own handle is the job's
 * again, and the other handles (any transfer still in flight after
 * max_total) and every chain's memory are freed.
 */
void
chains_close(ChainSet *cs)
{
	JobRun	   *run = cs->run;

	for (int k = 0; k < cs->nhandles; k++)
		if (cs->handles[k] != cs->own)
			run->withheld += nango_http_withheld_count(cs->handles[k]);
	run->http = cs->own;
	/* the last request stays named, as after a sync's last page */
	run->url = cs->url ? MemoryContextStrdup(run->jobcxt, cs->url) : NULL;
	run->chain_cfg = NULL;
	run->chain_parent = NULL;
	run->parent_key = NULL;
	run->chaincxt = NULL;
	if (run->incr != NULL)
	{
		run->incr->stored = NULL;
		run->incr->highest = NULL;
		run->incr->cxt = run->jobcxt;
	}
	MemoryContextDelete(cs->cxt);
	pfree(cs);
}
