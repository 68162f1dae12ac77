/*-------------------------------------------------------------------------
 *
 * children.c
 *	  Child syncs: one request chain per live record of the parent sync, the
 *	  parent's values written into the child's requests, records stored per
 *	  parent key (docs/config.md, "Child syncs"); with checkpoint, commits
 *	  between parents (docs/config.md#checkpoint).
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
 * incr_map: the incremental values of the parents done: those of earlier
 * jobs of the pass (done, or NULL) and those of this job so far (the map
 * being built in buf, still without its closing brace).
 */
static Jsonb *
incr_map(Jsonb *done, StringInfo buf)
{
	Jsonb	   *m = DatumGetJsonbP(DirectFunctionCall1(jsonb_in,
													   CStringGetDatum(psprintf("%s}", buf->data))));

	if (done == NULL)
		return m;
	return DatumGetJsonbP(DirectFunctionCall2(jsonb_concat, JsonbPGetDatum(done), JsonbPGetDatum(m)));
}

/*
 * first_not_done: the index of the first parent after the key of the last
 * parent done (parents are in byte order of their keys), 0 when none.
 */
static int
first_not_done(ParentRecords *pr, const char *after)
{
	int			i = 0;

	if (after == NULL)
		return 0;
	while (i < pr->n && strcmp(pr->keys[i], after) <= 0)
		i++;
	return i;
}

/*
 * job_run_children: a child sync's job: one request chain for each live
 * record of the parent, stored in the parent's key order, with up to
 * concurrency chains in flight (chains.c).  With incremental sync, each
 * parent key has its own value (incremental_state is a map of parent key
 * to value), stored when the job succeeds.  With checkpoint, the job
 * commits after a parent's records when nango.checkpoint_interval has
 * passed, and a job that resumes starts at the first parent after the
 * last one done (docs/config.md#checkpoint).
 */
void
job_run_children(JobRun *run, NangoStore *st, NangoMapTable *mt, Jsonb *meta)
{
	ParentRecords parents;
	ChainSet   *cs;
	StringInfoData state;
	MemoryContext pcxt;
	Jsonb	   *incr_done;
	int			done;
	char	   *after = job_checkpoint_resume_parent(run, &done, &incr_done);
	int			first;
	int			n;
	char	  **keys;

	load_parents(run, &parents);
	first = first_not_done(&parents, after);
	n = parents.n - first;
	keys = parents.keys + first;
	if (run->incr != NULL)
		run->incr->highest = NULL;
	cs = chains_open(run, n, keys, parents.records + first);
	/* the current parent's metadata, kept until the next parent's */
	pcxt = AllocSetContextCreate(run->jobcxt, "nango parent record", ALLOCSET_SMALL_SIZES);
	initStringInfo(&state);
	appendStringInfoChar(&state, '{');
	for (int i = 0; i < n && !run->truncated; i++)
	{
		Jsonb	   *md;
		char	   *detail = NULL;

		MemoryContextReset(pcxt);
		MemoryContextSwitchTo(pcxt);
		md = parent_metadata(meta, keys[i]);
		nango_store_set_metadata(st, md);
		if (mt != NULL)
			nango_map_set_metadata(mt, md);
		if (chains_store_parent(cs, i, st, mt, &detail) != CHAIN_STORED)
			skip_parent(run, keys[i], detail);
		if (run->incr != NULL)
			incr_add(run, &state, keys[i]);
		if (i + 1 < n && !run->truncated && job_checkpoint_due(run))
			job_checkpoint_parent(run, st, keys[i], done + i + 1,
								  run->incr ? incr_map(incr_done, &state) : NULL);
	}
	chains_close(cs);
	MemoryContextSwitchTo(run->jobcxt);
	if (run->incr != NULL)
		run->incr->highest = incr_map(incr_done, &state);
	nango_log(NANGO_LOG_DEBUG, LOG, "nango: sync %s: %d parent records, %d done before, " INT64_FORMAT " skipped",
			  run->name, n, first, run->skipped_parents);
}
