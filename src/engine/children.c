/*-------------------------------------------------------------------------
 *
 * children.c
 *	  Child syncs: one request chain per live record of the parent sync, the
 *	  parent's values written into the child's requests, records stored per
 *	  parent key (docs/config.md, "Child syncs").
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/memutils.h"

#include "job_int.h"
#include "nango.h"
#include "extinfo.h"
#include "roles.h"

/* The live records of a child sync's parent, in key order. */
typedef struct ParentRecords
{
	int			n;
	char	  **keys;
	Jsonb	  **records;
} ParentRecords;

/*
 * load_parents: the parent's live rows of nango.raw (not deleted), in the
 * order of their unique keys (bytes), read as the extension owner into
 * the job's memory.
 */
static void
load_parents(JobRun *run, ParentRecords *pr)
{
	NangoSavedRole saved;
	Oid			types[1] = {INT8OID};
	Datum		vals[1] = {Int64GetDatum(run->cfg->parent_id)};

	nango_push_role(nango_extension_owner(), &saved);
	if (SPI_execute_with_args("SELECT unique_key, data FROM nango.raw WHERE sync_id = $1 "
							  "AND deleted_at IS NULL AND unique_key IS NOT NULL "
							  "ORDER BY unique_key COLLATE \"C\"",
							  1, types, vals, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the parent's records");
	nango_pop_role(&saved);
	MemoryContextSwitchTo(run->jobcxt);
	pr->n = (int) SPI_processed;
	pr->keys = palloc(sizeof(char *) * Max(pr->n, 1));
	pr->records = palloc(sizeof(Jsonb *) * Max(pr->n, 1));
	for (int i = 0; i < pr->n; i++)
	{
		bool		isnull;

		pr->keys[i] = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		pr->records[i] = DatumGetJsonbPCopy(SPI_getbinval(SPI_tuptable->vals[i],
														  SPI_tuptable->tupdesc, 2, &isnull));
	}
	SPI_freetuptable(SPI_tuptable);
}

/*
 * parent_metadata: the sync's metadata (or none) with _nango_parent_key
 * set to the parent's key, for the rows of that parent's chain.
 */
static Jsonb *
parent_metadata(Jsonb *base, const char *key)
{
	StringInfoData buf;
	Datum		extra;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"_nango_parent_key\": ");
	escape_json(&buf, key);
	appendStringInfoChar(&buf, '}');
	extra = DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data));
	if (base == NULL)
		return DatumGetJsonbP(extra);
	return DatumGetJsonbP(DirectFunctionCall2(jsonb_concat, JsonbPGetDatum(base), extra));
}

/*
 * skip_parent: a parent record that gives no child records (why), counted
 * in skipped_count and logged.
 */
static void
skip_parent(JobRun *run, const char *key, const char *why)
{
	run->counts.skipped++;
	run->skipped_parents++;
	nango_log(NANGO_LOG_WARNING, LOG, "nango: sync %s: parent record %s skipped: %s",
			  run->name, key, why);
	nango_job_warn("parent record %s skipped: %s", key, why);
}

/*
 * incr_add: adds the parent's new incremental state (the highest value
 * of its chain, else what was stored) to the map being built in buf.
 */
static void
incr_add(JobRun *run, StringInfo buf, const char *key)
{
	Jsonb	   *v = nango_incr_final(run->incr);

	if (v == NULL)
		v = run->incr->stored;
	if (v == NULL)
		return;
	appendStringInfoString(buf, buf->len > 1 ? ", " : "");
	escape_json(buf, key);
	appendStringInfo(buf, ": %s", JsonbToCString(NULL, &v->root, VARSIZE(v)));
}

/*
 * One slot of a child job's concurrency: an HTTP handle of its own and the
 * requests prepared for the parent record it serves next.  The slots take
 * the parents in turn (parent i uses slot i % concurrency), so while one
 * parent's chain is fetched and stored, the first requests of the next
 * ones are already in flight on the other slots' handles.
 */
typedef struct ChainSlot
{
	NangoHttp  *http;
	MemoryContext cxt;			/* the prepared requests and the chain's pager */
	int			parent;			/* index of the parent prepared, -1: none */
	NangoConfig *cfg;			/* its requests, NULL when a value is missing */
	char	   *missing;		/* then the placeholder's path */
} ChainSlot;

/* The slots of a child job and what the parent records need. */
typedef struct ChainSet
{
	int			n;
	ChainSlot  *slots;
	Jsonb	   *map;			/* the stored incremental state (parent key -> value) */
} ChainSet;

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
 * prepare_slot: the slot of parent i gets that record's requests and, for
 * parents after the current one, starts its first request (with the
 * parent's own incremental value) so the API answers meanwhile.
 */
static void
prepare_slot(JobRun *run, ChainSet *cs, ParentRecords *parents, int i, bool start)
{
	ChainSlot  *sl = &cs->slots[i % cs->n];
	MemoryContext old;

	if (sl->parent == i)
		return;
	MemoryContextReset(sl->cxt);
	old = MemoryContextSwitchTo(sl->cxt);
	sl->parent = i;
	sl->missing = NULL;
	sl->cfg = nango_parent_fill(run->cfg, parents->records[i], &sl->missing);
	if (sl->cfg != NULL && start)
	{
		NangoPager	pager;
		NangoRequest req;
		const NangoConfig *saved_cfg = run->chain_cfg;
		int			saved_page = run->page;

		nango_pager_init(&pager, sl->cfg, sl->http, sl->cxt);
		if (run->incr != NULL)
		{
			bool		is_number;
			char	   *v = nango_incr_start_value(stored_for_parent(cs->map, parents->keys[i]),
												   run->cfg->incremental_initial_value, &is_number);

			if (v != NULL)
				nango_pager_add_param(&pager, run->cfg->incremental_request_steps, v, is_number);
		}
		run->chain_cfg = sl->cfg;
		run->page = 1;
		job_build_request(run, &pager, &req, false);
		nango_http_start(sl->http, &req);
		run->chain_cfg = saved_cfg;
		run->page = saved_page;
	}
	MemoryContextSwitchTo(old);
}

/*
 * run_chain: parent i's request chain, on its slot: the child's requests
 * with the record's values, its pages stored with the parent's key.
 */
static void
run_chain(JobRun *run, ChainSet *cs, ParentRecords *parents, int i, NangoStore *st,
		  NangoMapTable *mt, Jsonb *meta)
{
	ChainSlot  *sl = &cs->slots[i % cs->n];
	const char *key = parents->keys[i];
	Jsonb	   *md;

	prepare_slot(run, cs, parents, i, false);
	if (sl->cfg == NULL)
	{
		skip_parent(run, key, psprintf("it has no value at ${parent.%s}", sl->missing));
		return;
	}
	MemoryContextSwitchTo(sl->cxt);
	md = parent_metadata(meta, key);
	nango_store_set_metadata(st, md);
	if (mt != NULL)
		nango_map_set_metadata(mt, md);
	run->http = sl->http;
	run->chaincxt = sl->cxt;
	run->chain_cfg = sl->cfg;
	run->chain_parent = parents->records[i];
	run->parent_key = key;
	run->gone = false;
	run->page = 0;
	job_run_pages(run, st, mt);
	if (run->gone)
		skip_parent(run, key, psprintf("its first request answered HTTP %ld",
									   nango_http_last_status(run->http)));
	run->chain_cfg = NULL;
	MemoryContextSwitchTo(run->jobcxt);
}

/*
 * open_slots: the slots of a child job: the job's own HTTP handle and
 * concurrency - 1 more, each with the sync's credential scope.
 */
static void
open_slots(JobRun *run, ChainSet *cs, int nparents)
{
	cs->n = Max(1, Min(run->cfg->concurrency, nparents));
	cs->slots = palloc0(sizeof(ChainSlot) * cs->n);
	for (int k = 0; k < cs->n; k++)
	{
		ChainSlot  *sl = &cs->slots[k];

		if (k == 0)
			sl->http = run->http;
		else
		{
			sl->http = nango_http_create(run->jobcxt, &run->secrets);
			nango_http_set_scope(sl->http, run->cfg->url, run->cfg->credential_hosts,
								 run->cfg->ncredential_hosts);
		}
		sl->cxt = AllocSetContextCreate(run->jobcxt, "nango child chain", ALLOCSET_DEFAULT_SIZES);
		sl->parent = -1;
	}
}

/*
 * job_run_children: a child sync's job: one request chain for each live
 * record of the parent, stored in the parent's key order, with up to
 * concurrency chains' requests in flight.  With incremental sync, each
 * parent key has its own value (incremental_state is a map of parent key
 * to value), stored when the job succeeds.
 */
void
job_run_children(JobRun *run, NangoStore *st, NangoMapTable *mt, Jsonb *meta)
{
	ParentRecords parents;
	ChainSet	cs;
	StringInfoData state;
	NangoHttp  *own = run->http;

	load_parents(run, &parents);
	cs.map = run->incr ? run->incr->stored : NULL;
	open_slots(run, &cs, parents.n);
	initStringInfo(&state);
	appendStringInfoChar(&state, '{');
	for (int i = 0; i < parents.n && !run->truncated; i++)
	{
		/* the next parents' first requests go out while this one runs */
		for (int j = i + 1; j < parents.n && j < i + cs.n; j++)
			prepare_slot(run, &cs, &parents, j, true);
		if (run->incr != NULL)
		{
			run->incr->stored = stored_for_parent(cs.map, parents.keys[i]);
			run->incr->highest = NULL;
		}
		run_chain(run, &cs, &parents, i, st, mt, meta);
		if (run->incr != NULL)
			incr_add(run, &state, parents.keys[i]);
	}
	appendStringInfoChar(&state, '}');
	if (run->incr != NULL)
	{
		run->incr->stored = NULL;
		run->incr->highest = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(state.data)));
	}
	for (int k = 1; k < cs.n; k++)
		run->withheld += nango_http_withheld_count(cs.slots[k].http);
	run->http = own;
	run->parent_key = NULL;
	nango_log(NANGO_LOG_DEBUG, LOG, "nango: sync %s: %d parent records, " INT64_FORMAT " skipped",
			  run->name, parents.n, run->skipped_parents);
}
