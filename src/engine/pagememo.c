/*-------------------------------------------------------------------------
 *
 * pagememo.c
 *	  Skipping unchanged pages (docs/config.md#skip_unchanged_pages): a job
 *	  of an upsert sync (not a child sync, not incremental, no max_total)
 *	  keeps, for each page of its pass, a memo in nango.page_memos: a hash
 *	  of the request as sent (the job's secrets replaced by markers), the
 *	  response's ETag and Last-Modified, a hash of the response (body, Link
 *	  header, final URL), the number of records, their keys when the sync
 *	  deletes unseen keys, and the paging state after the page.
 *
 *	  The next job sends page N's request with If-None-Match and
 *	  If-Modified-Since from page N's memo when the request is the same.  A
 *	  304 Not Modified, or an answer with the same hash, means the page is
 *	  unchanged: its records are not parsed, hashed, looked up or written;
 *	  they count as fetched and unchanged, their keys (delete_mode) join the
 *	  keys seen, and paging goes on from the memo's state.
 *
 *	  A memo is written only for a page stored cleanly (every record had a
 *	  usable key, no warning, no value lost in mapping, no key repeated),
 *	  in the job's transaction, so it always describes what nango.raw
 *	  holds: a failed job leaves the memos as they were, a checkpoint
 *	  commits both.  A page stored otherwise loses its memo; a job that saw
 *	  a key twice drops all of the sync's memos (a later page's version of
 *	  a key on a skipped page must be written again); a complete pass drops
 *	  the memos of the pages after its last one.  A change of the sync's
 *	  config drops them all (nango_page_memo_discard).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "extinfo.h"
#include "job_int.h"
#include "nango.h"
#include "roles.h"

/* One loaded memo. */
typedef struct MemoPage
{
	bool		valid;
	char	   *request_hash;
	char	   *etag;
	char	   *last_modified;
	char	   *body_hash;
	int			records;
	Jsonb	   *paging;
} MemoPage;

/* What counts against a clean page, before the page. */
typedef struct PageMarks
{
	int64		nul_replaced;
	int64		long_keys;
	int64		key_missing;
	int64		key_unusable;
	int64		warn_calls;
	int64		skipped;
	int64		mismatch;
	int64		duplicate;
} PageMarks;

/* A job's page memos (JobRun.memo), in the job's context. */
struct JobMemo
{
	int64		sync_id;
	MemoPage   *pages;			/* the loaded window: pages first .. */
	int			first;			/* first + MEMO_WINDOW - 1 (windowcxt) */
	MemoryContext windowcxt;
	struct PendingMemo *pending;	/* memos to write (pendcxt) */
	int			npending;
	MemoryContext pendcxt;
	bool		track_keys;		/* delete_mode: memos keep their keys */
	int			last_page;		/* last page of the pass, as far as known */
	int64		skipped_pages;	/* pages skipped by this job */
	/* the page being handled (in the page context) */
	char	   *request_hash;	/* of its request, NULL: not memoisable */
	char	   *body_hash;
	char	   *etag;
	char	   *last_modified;
	PageMarks	marks;
};

static SPIPlanPtr plan_upsert = NULL;
static SPIPlanPtr plan_delete_page = NULL;

/* memos_installed: false before ALTER EXTENSION nango UPDATE to 0.3. */
static bool
memos_installed(void)
{
	return nango_has_column("page_memos", "request_hash");
}

/* hex128: two seeded 64-bit hashes of data as 32 hex digits. */
static char *
hex128(const char *data, size_t len, uint64 seed)
{
	uint64		a = hash_bytes_extended((const unsigned char *) data, len, seed);
	uint64		b = hash_bytes_extended((const unsigned char *) data, len, seed ^ UINT64CONST(0x9e3779b97f4a7c15));

	return psprintf("%016llx%016llx", (unsigned long long) a, (unsigned long long) b);
}

/*
 * without_secrets: text with the job's secrets redacted when it holds one
 * (a copy), else text itself: what is hashed never depends on a secret.
 */
static const char *
without_secrets(JobRun *run, const char *text, size_t len)
{
	for (int i = 0; i < run->secrets.n; i++)
	{
		const char *v = run->secrets.values[i];

		if (v[0] != '\0' && memmem(text, len, v, strlen(v)) != NULL)
			return nango_redact_text(text, &run->secrets);
	}
	return text;
}

/*
 * request_hash: the hash of a request as sent, the job's secrets in its URL
 * replaced by markers and in its body redacted; NULL when the URL carries a
 * secret that cannot be replaced (the page is then not memoised).
 */
static char *
request_hash(JobRun *run, const NangoRequest *req)
{
	char	   *url = job_secret_encode_url(run, req->url);
	const char *body = req->body ? without_secrets(run, req->body, strlen(req->body)) : "";
	char	   *all;

	if (url == NULL)
		return NULL;
	all = psprintf("%s\n%s\n%c%s", req->method, url, req->body ? 'B' : '-', body);
	return hex128(all, strlen(all), UINT64CONST(0x6d656d6f72657131));
}

/*
 * Memos are read a window of pages at a time (pages are handled in
 * increasing order), so a job's memory does not grow with its pages.
 */
#define MEMO_WINDOW 256

/*
 * job_memo_begin: at the start of a job's page loop (SPI connected): a job
 * that may skip pages gets its memo state; its sync's memos are read as
 * the pages come (memo_of).
 */
void
job_memo_begin(JobRun *run)
{
	const NangoConfig *cfg = run->cfg;
	JobMemo    *m;

	if (!cfg->skip_unchanged_pages || cfg->unique_key == NULL || cfg->has_parent ||
		run->chain_cfg != NULL || run->incr != NULL || cfg->max_total > 0 || !memos_installed())
		return;
	m = MemoryContextAllocZero(run->jobcxt, sizeof(JobMemo));
	m->track_keys = (cfg->delete_mode != NANGO_DELETE_NONE);
	m->windowcxt = AllocSetContextCreate(run->jobcxt, "nango page memos", ALLOCSET_DEFAULT_SIZES);
	m->pendcxt = AllocSetContextCreate(run->jobcxt, "nango page memos to write", ALLOCSET_DEFAULT_SIZES);
	m->sync_id = run->sync_id;
	run->memo = m;
}

/*
 * load_window: the memos of pages first .. first + MEMO_WINDOW - 1 replace
 * the loaded ones (SPI connected; as the extension owner).
 */
static void
load_window(JobMemo *m, int first)
{
	Oid			types[3] = {INT8OID, INT4OID, INT4OID};
	Datum		vals[3] = {Int64GetDatum(m->sync_id), Int32GetDatum(first),
	Int32GetDatum(first + MEMO_WINDOW)};
	NangoSavedRole saved;
	MemoryContext cxt = CurrentMemoryContext;

	MemoryContextReset(m->windowcxt);
	m->pages = MemoryContextAllocZero(m->windowcxt, sizeof(MemoPage) * MEMO_WINDOW);
	m->first = first;
	nango_push_role(nango_extension_owner(), &saved);
	if (SPI_execute_with_args("SELECT page, request_hash, etag, last_modified, body_hash, records, paging "
							  "FROM nango.page_memos WHERE sync_id OPERATOR(pg_catalog.=) $1 "
							  "AND page OPERATOR(pg_catalog.>=) $2 AND page OPERATOR(pg_catalog.<) $3",
							  3, types, vals, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read nango.page_memos");
	MemoryContextSwitchTo(m->windowcxt);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	td = SPI_tuptable->tupdesc;
		bool		isnull;
		MemoPage   *p = &m->pages[DatumGetInt32(SPI_getbinval(tup, td, 1, &isnull)) - first];

		p->valid = true;
		p->request_hash = SPI_getvalue(tup, td, 2);
		p->etag = SPI_getvalue(tup, td, 3);
		p->last_modified = SPI_getvalue(tup, td, 4);
		p->body_hash = SPI_getvalue(tup, td, 5);
		p->records = DatumGetInt32(SPI_getbinval(tup, td, 6, &isnull));
		p->paging = DatumGetJsonbPCopy(SPI_getbinval(tup, td, 7, &isnull));
	}
	SPI_freetuptable(SPI_tuptable);
	nango_pop_role(&saved);
	MemoryContextSwitchTo(cxt);
}

/*
 * memo_of: the memo of a page, or NULL (the window moves to the page when
 * it is not in it: what was loaded for earlier pages is then gone).
 */
static MemoPage *
memo_of(JobMemo *m, int page)
{
	if (m == NULL || page < 1)
		return NULL;
	if (m->pages == NULL || page < m->first || page >= m->first + MEMO_WINDOW)
		load_window(m, page);
	return m->pages[page - m->first].valid ? &m->pages[page - m->first] : NULL;
}

/*
 * job_memo_condition: for the request of a page (the current one, or the
 * next one sent ahead): when the page's memo is of the same request, the
 * request carries its validators.  The hash of the current page's request
 * is kept for its memo.
 */
void
job_memo_condition(JobRun *run, int page, NangoRequest *req)
{
	JobMemo    *m = run->memo;
	MemoPage   *p;
	char	   *h;

	if (m == NULL)
		return;
	h = request_hash(run, req);
	if (page == run->page)
		m->request_hash = h;
	p = memo_of(m, page);
	if (p == NULL || h == NULL || strcmp(p->request_hash, h) != 0)
		return;
	req->if_none_match = p->etag;
	req->if_modified_since = p->last_modified;
}

/* mark_page: what a clean page must leave as it is, before the page. */
static void
mark_page(JobRun *run, PageMarks *k)
{
	k->nul_replaced = run->nul_replaced;
	k->long_keys = run->long_keys;
	k->key_missing = run->key_missing;
	k->key_unusable = run->key_unusable;
	k->warn_calls = run->warn_calls;
	k->skipped = run->counts.skipped;
	k->mismatch = run->counts.mismatch;
	k->duplicate = run->counts.duplicate;
}

/*
 * response_hash: the hash of what paging and records depend on: the body
 * (before anything rewrites it), the Link header and the final URL (the
 * base of a relative next URL), without the job's secrets.
 */
static char *
response_hash(JobRun *run, const NangoResponse *resp)
{
	const char *body = without_secrets(run, resp->body, resp->body_len);
	size_t		blen = body == resp->body ? resp->body_len : strlen(body);
	const char *link = resp->link ? without_secrets(run, resp->link, strlen(resp->link)) : "";
	char	   *rest = psprintf("%ld\n%s\n%s", resp->status, link,
								nango_redact_url(resp->effective_url, &run->secrets));
	uint64		hb = hash_bytes_extended((const unsigned char *) body, blen, UINT64CONST(0x626f6479));

	return psprintf("%016llx%s", (unsigned long long) hb,
					hex128(rest, strlen(rest), UINT64CONST(0x72657374)));
}

/*
 * job_memo_unchanged: after the current page's response: true when the
 * page is unchanged since its memo (a 304, or the same response hash).
 * A 304 without a memo of the same request is an ERROR: there is no page
 * to go on from.
 */
bool
job_memo_unchanged(JobRun *run, const NangoResponse *resp)
{
	JobMemo    *m = run->memo;
	MemoPage   *p = memo_of(m, run->page);
	bool		same_request = p != NULL && m->request_hash != NULL &&
		strcmp(p->request_hash, m->request_hash) == 0;

	if (resp->status == 304)
	{
		if (!same_request)
			ereport(ERROR,
					(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
					 errmsg("HTTP 304 Not Modified for page %d of sync %s, which has no memo of that request",
							run->page, run->name),
					 errdetail("A 304 answers a conditional request; without the page's memo there are no records to go on from."),
					 errhint("Check the API; \"skip_unchanged_pages\": false turns conditional requests off.")));
		return true;
	}
	if (m == NULL)
		return false;
	mark_page(run, &m->marks);
	m->etag = resp->etag ? pstrdup(resp->etag) : NULL;
	m->last_modified = resp->last_modified ? pstrdup(resp->last_modified) : NULL;
	m->body_hash = m->request_hash ? response_hash(run, resp) : NULL;
	return same_request && strcmp(p->body_hash, m->body_hash) == 0;
}

/*
 * seen_keys: the keys of a skipped page's memo join the store's seen keys,
 * so a complete pass does not delete them, and its counts (unchanged, or
 * duplicate for a key that comes back on another page).  SPI connected.
 */
static void
seen_keys(JobRun *run, NangoStore *st)
{
	Oid			types[2] = {INT8OID, INT4OID};
	Datum		vals[2] = {Int64GetDatum(run->sync_id), Int32GetDatum(run->page)};
	NangoSavedRole saved;
	MemoryContext cxt = CurrentMemoryContext;

	nango_push_role(nango_extension_owner(), &saved);
	if (SPI_execute_with_args("SELECT k FROM nango.page_memos m, pg_catalog.unnest(m.keys) AS k "
							  "WHERE m.sync_id OPERATOR(pg_catalog.=) $1 AND m.page OPERATOR(pg_catalog.=) $2",
							  2, types, vals, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read nango.page_memos");
	for (uint64 i = 0; i < SPI_processed; i++)
		nango_store_seen_unchanged(st, SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1));
	SPI_freetuptable(SPI_tuptable);
	nango_pop_role(&saved);
	MemoryContextSwitchTo(cxt);
}

/*
 * job_memo_skip: the current page is unchanged: its records count as
 * fetched and unchanged (as a stored page's would), its keys are seen, and
 * paging goes on from the memo.
 */
void
job_memo_skip(JobRun *run, NangoPager *pager, NangoStore *st)
{
	JobMemo    *m = run->memo;
	MemoPage   *p = memo_of(m, run->page);

	run->counts.pages++;
	run->counts.fetched += p->records;
	run->keyed += p->records;
	/* with the keys, the store counts them (nango_store_count) */
	if (m->track_keys)
	{
		if (p->records > 0)
			seen_keys(run, st);
	}
	else
		run->counts.unchanged += p->records;
	if (!job_paging_restore(run, pager, p->paging))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the memo of page %d of sync %s names a secret this job does not have",
						run->page, run->name),
				 errhint("nango.update_sync drops the sync's page memos.")));
	m->last_page = run->page;
	m->skipped_pages++;
}

/* page_clean: the page was stored as it came: nothing left out or changed. */
static bool
page_clean(JobRun *run, PageRecords *pr)
{
	PageMarks	now;
	PageMarks  *was = &run->memo->marks;

	mark_page(run, &now);
	return pr->received == pr->n && now.nul_replaced == was->nul_replaced &&
		now.long_keys == was->long_keys && now.key_missing == was->key_missing &&
		now.key_unusable == was->key_unusable && now.warn_calls == was->warn_calls &&
		now.skipped == was->skipped && now.mismatch == was->mismatch &&
		now.duplicate == was->duplicate;
}

/* keep_plan: a statement on nango.page_memos prepared once per process. */
static SPIPlanPtr
keep_plan(SPIPlanPtr *plan, const char *sql, int nargs, Oid *types)
{
	if (*plan == NULL)
	{
		SPIPlanPtr	p = SPI_prepare(sql, nargs, types);

		if (p == NULL)
			elog(ERROR, "could not prepare a statement on nango.page_memos");
		SPI_keepplan(p);
		*plan = p;
	}
	return *plan;
}

/* delete_page: the memo of the current page goes (SPI connected). */
static void
delete_page(JobRun *run)
{
	Oid			types[2] = {INT8OID, INT4OID};
	Datum		vals[2] = {Int64GetDatum(run->sync_id), Int32GetDatum(run->page)};
	SPIPlanPtr	plan = keep_plan(&plan_delete_page,
								 "DELETE FROM nango.page_memos WHERE sync_id OPERATOR(pg_catalog.=) $1 "
								 "AND page OPERATOR(pg_catalog.=) $2", 2, types);

	if (SPI_execute_plan(plan, vals, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not delete from nango.page_memos");
}

/*
 * Memos of clean pages wait in the job's memory and are written
 * MEMO_BATCH at a time, one statement per batch; a job that checkpoints
 * writes each page's at once, so that a checkpoint commits it with the
 * page's records.
 */
#define MEMO_BATCH 64

/* One memo waiting to be written (JobMemo.pending, in pendcxt). */
typedef struct PendingMemo
{
	int			page;
	char	   *request_hash;
	char	   *etag;
	char	   *last_modified;
	char	   *body_hash;
	int			records;
	int			nkeys;			/* -1: no keys kept */
	char	  **keys;
	Jsonb	   *paging;
} PendingMemo;

/* add_pending: the memo of the current page joins the batch. */
static void
add_pending(JobRun *run, PageRecords *pr, Jsonb *paging)
{
	JobMemo    *m = run->memo;
	MemoryContext old = MemoryContextSwitchTo(m->pendcxt);
	PendingMemo *w;

	if (m->pending == NULL)
		m->pending = palloc(sizeof(PendingMemo) * MEMO_BATCH);
	w = &m->pending[m->npending++];
	w->page = run->page;
	w->request_hash = pstrdup(m->request_hash);
	w->etag = m->etag ? pstrdup(m->etag) : NULL;
	w->last_modified = m->last_modified ? pstrdup(m->last_modified) : NULL;
	w->body_hash = pstrdup(m->body_hash);
	w->records = pr->n;
	w->nkeys = m->track_keys ? pr->n : -1;
	w->keys = NULL;
	if (m->track_keys)
	{
		w->keys = palloc(sizeof(char *) * Max(pr->n, 1));
		for (int i = 0; i < pr->n; i++)
			w->keys[i] = pstrdup(pr->keys[i]);
	}
	w->paging = DatumGetJsonbPCopy(JsonbPGetDatum(paging));
	MemoryContextSwitchTo(old);
}

/* text_array: a text[] of n strings, NULLs included. */
static Datum
text_array(int n, Datum *elems, bool *nulls)
{
	int			dims[1] = {n};
	int			lbs[1] = {1};

	if (n == 0)
		return PointerGetDatum(construct_empty_array(TEXTOID));
	return PointerGetDatum(construct_md_array(elems, nulls, 1, dims, lbs, TEXTOID, -1, false,
											  TYPALIGN_INT));
}

/*
 * flush_pending: writes the waiting memos with one statement (their keys
 * as one array, cut per page by offset and count).  SPI connected, as the
 * extension owner.
 */
static void
flush_pending(JobMemo *m)
{
	int			n = m->npending;
	int			nk = 0;
	int			k = 0;
	Oid			types[11] = {INT8OID, INT4ARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
	TEXTARRAYOID, INT4ARRAYOID, JSONBARRAYOID, TEXTARRAYOID, INT4ARRAYOID, INT4ARRAYOID};
	Datum		v[11];
	Datum	   *d[9];
	bool	   *nl[9];
	SPIPlanPtr	plan;

	if (n == 0)
		return;
	for (int i = 0; i < n; i++)
		nk += Max(m->pending[i].nkeys, 0);
	for (int c = 0; c < 9; c++)
	{
		d[c] = palloc(sizeof(Datum) * Max(c == 7 ? nk : n, 1));
		nl[c] = palloc0(sizeof(bool) * Max(c == 7 ? nk : n, 1));
	}
	for (int i = 0; i < n; i++)
	{
		PendingMemo *w = &m->pending[i];

		d[0][i] = Int32GetDatum(w->page);
		d[1][i] = CStringGetTextDatum(w->request_hash);
		d[2][i] = w->etag ? CStringGetTextDatum(w->etag) : (Datum) 0;
		nl[2][i] = w->etag == NULL;
		d[3][i] = w->last_modified ? CStringGetTextDatum(w->last_modified) : (Datum) 0;
		nl[3][i] = w->last_modified == NULL;
		d[4][i] = CStringGetTextDatum(w->body_hash);
		d[5][i] = Int32GetDatum(w->records);
		d[6][i] = JsonbPGetDatum(w->paging);
		d[8][i] = Int32GetDatum(k);
		for (int j = 0; j < w->nkeys; j++)
			d[7][k++] = CStringGetTextDatum(w->keys[j]);
	}
	v[0] = Int64GetDatum(m->sync_id);
	v[1] = PointerGetDatum(construct_array(d[0], n, INT4OID, 4, true, TYPALIGN_INT));
	v[2] = text_array(n, d[1], nl[1]);
	v[3] = text_array(n, d[2], nl[2]);
	v[4] = text_array(n, d[3], nl[3]);
	v[5] = text_array(n, d[4], nl[4]);
	v[6] = PointerGetDatum(construct_array(d[5], n, INT4OID, 4, true, TYPALIGN_INT));
	v[7] = PointerGetDatum(construct_array(d[6], n, JSONBOID, -1, false, TYPALIGN_INT));
	v[8] = text_array(nk, d[7], nl[7]);
	v[9] = PointerGetDatum(construct_array(d[8], n, INT4OID, 4, true, TYPALIGN_INT));
	for (int i = 0; i < n; i++)
		d[0][i] = Int32GetDatum(m->pending[i].nkeys);
	for (int i = 0; i < n; i++)
		nl[0][i] = m->pending[i].nkeys < 0;
	v[10] = PointerGetDatum(construct_md_array(d[0], nl[0], 1, &n, (int[]) {1}, INT4OID, 4, true,
											   TYPALIGN_INT));
	plan = keep_plan(&plan_upsert,
					 "INSERT INTO nango.page_memos AS m (sync_id, page, request_hash, etag, "
					 "last_modified, body_hash, records, keys, paging) "
					 "SELECT $1, u.page, u.rh, u.et, u.lm, u.bh, u.rec, "
					 "CASE WHEN u.kn IS NULL THEN NULL "
					 "ELSE $9[u.ko OPERATOR(pg_catalog.+) 1 : u.ko OPERATOR(pg_catalog.+) u.kn] END, u.pg "
					 "FROM ROWS FROM (pg_catalog.unnest($2), pg_catalog.unnest($3), pg_catalog.unnest($4), "
					 "pg_catalog.unnest($5), pg_catalog.unnest($6), pg_catalog.unnest($7), "
					 "pg_catalog.unnest($8), pg_catalog.unnest($10), pg_catalog.unnest($11)) "
					 "AS u(page, rh, et, lm, bh, rec, pg, ko, kn) "
					 "ON CONFLICT (sync_id, page) DO UPDATE SET request_hash = excluded.request_hash, "
					 "etag = excluded.etag, last_modified = excluded.last_modified, "
					 "body_hash = excluded.body_hash, records = excluded.records, "
					 "keys = excluded.keys, paging = excluded.paging, saved_at = pg_catalog.now()",
					 11, types);
	if (SPI_execute_plan(plan, v, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not write nango.page_memos");
	m->npending = 0;
	m->pending = NULL;
	MemoryContextReset(m->pendcxt);
}

/*
 * job_memo_page_done: after the current page was stored: a clean page
 * gets (or keeps, updated) its memo; any other page loses it.  In the
 * job's transaction, as the extension owner.
 */
void
job_memo_page_done(JobRun *run, NangoPager *pager, PageRecords *pr)
{
	JobMemo    *m = run->memo;
	Jsonb	   *paging = NULL;
	NangoSavedRole saved;
	MemoryContext cxt = CurrentMemoryContext;

	if (m == NULL)
		return;
	m->last_page = run->page;
	if (m->request_hash != NULL && m->body_hash != NULL && page_clean(run, pr))
		paging = job_paging_state(run, pager);
	if (paging == NULL && memo_of(m, run->page) == NULL)
		return;
	if (paging != NULL)
		add_pending(run, pr, paging);
	/* a job that checkpoints writes each memo with its page */
	if (paging != NULL && m->npending < MEMO_BATCH && run->ckpt == NULL)
		return;
	nango_push_role(nango_extension_owner(), &saved);
	if (paging == NULL)
		delete_page(run);
	else
		flush_pending(m);
	nango_pop_role(&saved);
	MemoryContextSwitchTo(cxt);
}

/*
 * job_memo_page_dropped: the current page ended the data without being
 * stored (response_path missing): it is past the pass's last page.
 */
void
job_memo_page_dropped(JobRun *run)
{
	if (run->memo != NULL)
		run->memo->last_page = run->page - 1;
}

/* delete_memos: the sync's memos of the pages after `after` (SPI connected). */
static void
delete_memos(int64 sync_id, int after)
{
	Oid			types[2] = {INT8OID, INT4OID};
	Datum		vals[2] = {Int64GetDatum(sync_id), Int32GetDatum(after)};

	if (SPI_execute_with_args("DELETE FROM nango.page_memos WHERE sync_id OPERATOR(pg_catalog.=) $1 "
							  "AND page OPERATOR(pg_catalog.>) $2",
							  2, types, vals, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not delete from nango.page_memos");
}

/*
 * job_memo_finish: at the end of a job that got through its pages, its
 * counts complete (SPI connected): a job that saw a key twice drops the
 * sync's memos; a complete pass drops those of the pages after its last.
 */
void
job_memo_finish(JobRun *run, bool complete)
{
	JobMemo    *m = run->memo;
	NangoSavedRole saved;
	MemoryContext cxt = CurrentMemoryContext;

	if (m == NULL)
		return;
	nango_push_role(nango_extension_owner(), &saved);
	if (run->counts.duplicate > 0)
		delete_memos(run->sync_id, 0);
	else
	{
		flush_pending(m);
		if (complete)
			delete_memos(run->sync_id, m->last_page);
	}
	nango_pop_role(&saved);
	MemoryContextSwitchTo(cxt);
	if (m->skipped_pages > 0)
		nango_log(NANGO_LOG_DEBUG, LOG, "nango: sync %s: " INT64_FORMAT " unchanged pages skipped",
				  run->name, m->skipped_pages);
}

/*
 * nango_page_memo_discard: any change of a sync's config or URL
 * (update_sync, put_sync) drops its page memos: the next job reads every
 * page.  Runs as the extension owner inside the API's scope.
 */
void
nango_page_memo_discard(int64 sync_id)
{
	if (!memos_installed())
		return;
	SPI_connect();
	delete_memos(sync_id, 0);
	SPI_finish();
}
