/*-------------------------------------------------------------------------
 *
 * job.c
 *	  One job of a sync, end to end: fetch every page, store every record,
 *	  map it, and record the outcome in nango.jobs.
 *
 *	  nango_job_create inserts the 'running' job row.  nango_job_execute
 *	  runs the whole job in one subtransaction of the caller's transaction,
 *	  so all of a job's data changes commit together or not at all; an
 *	  ERROR inside the job is caught, the subtransaction rolled back, and
 *	  the failure recorded on the job row (with the page, the redacted URL,
 *	  the HTTP status and a body excerpt).  nango.run_sync is create +
 *	  execute in the calling session; the background worker commits between
 *	  the two.
 *
 *	  One job per sync at a time: a transaction-level lock on an advisory
 *	  lock tag of the sync (field4 NANGO_LOCK_FIELD4, so it never collides
 *	  with pg_advisory_lock) is held by the job's transaction.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "commands/async.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "storage/sinvaladt.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/formatting.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/syscache.h"
#include "utils/tuplestore.h"
#include "utils/varlena.h"

#include "common/hashfn.h"

#include "config.h"
#include "flatten.h"
#include "credentials.h"
#include "http.h"
#include "incremental.h"
#include "job.h"
#include "jsonparse.h"
#include "jsonpath.h"
#include "mapping.h"
#include "nango.h"
#include "paging.h"
#include "pizzly.h"
#include "placeholder.h"
#include "progress.h"
#include "redact.h"
#include "store.h"
#include "extinfo.h"
#include "roles.h"
#include "text.h"
#include "worker.h"

#define NANGO_LOCK_FIELD4 0x6e67

/*
 * The longest usable unique key, in bytes: a btree index entry must fit in
 * a third of a page (about 2700 bytes), and the key shares it with the
 * sync id (nango.raw and the mapped table's unique constraint).
 */
#define NANGO_MAX_KEY_BYTES 2000

PG_FUNCTION_INFO_V1(nango_run_sync);

/* What a running job knows; read again by the error path. */
typedef struct JobRun
{
	int64		job_id;
	int64		sync_id;
	Oid			owner;
	Oid			caller;			/* the role the job runs for: see
								 * nango_push_owner */
	char	   *name;			/* friendly name, or the id */
	const NangoConfig *cfg;
	NangoSecrets secrets;
	NangoHttp  *http;
	NangoPizzly *pizzly;		/* Pizzly token source, or NULL */
	NangoFill  *fill;			/* the config's placeholders, or NULL */
	NangoCounts counts;
	int			page;			/* page being fetched (1-based), 0 before */
	char	   *url;			/* redacted URL of the current request */
	char	   *method;
	char	   *trigger;		/* the job row's trigger, or NULL */
	TimestampTz started_at;		/* the job row's started_at */
	int64		nul_replaced;	/* \u0000 escapes replaced by U+FFFD */
	int64		long_keys;		/* records skipped for a too long unique key */
	int64		key_missing;	/* records skipped: no value at unique_key */
	int64		key_unusable;	/* records skipped: null, object or array key */
	int64		keyed;			/* records with a usable unique key */
	char	   *key_suggestion; /* the key path closest to unique_key of the
								 * first record without one (outercxt) */
	bool		manual;			/* run_sync: warnings go to the caller */
	NangoIncremental *incr;		/* incremental sync, or NULL */
	bool		truncated;		/* paging stopped by max_total */
	/* a child sync (docs/config.md): the chain of the current parent record */
	const NangoConfig *chain_cfg;	/* the requests for that record, or NULL */
	const char *parent_key;		/* its unique key */
	Jsonb	   *chain_parent;	/* its record */
	bool		gone;			/* its first request answered 404 or 410 */
	int64		skipped_parents;	/* parent records without children fetched */
	int64		withheld;		/* the same count of the child job's other handles */
	MemoryContext chaincxt;		/* reset for each parent record */
	List	   *warnings;		/* distinct warning lines (outercxt) */
	bool		warnings_capped;	/* lines past NANGO_MAX_WARNINGS dropped */
	MemoryContext outercxt;		/* outlives the job's subtransaction */
	MemoryContext jobcxt;
	MemoryContext pagecxt;
} JobRun;

/* The job running in this process, for nango_job_warn; NULL when none. */
static JobRun *current_run = NULL;

/* The sync row as the job needs it. */
typedef struct SyncRow
{
	Oid			owner;
	char	   *url;
	Jsonb	   *config;
	char	   *friendly_name;
	char	   *mapped_table;
	Jsonb	   *incremental_state;	/* NULL: none */
} SyncRow;

/*
 * nango_job_warn: see job.h.  The line is formatted in the job's outer
 * memory context, which outlives the subtransaction, so that a line noted
 * deep inside mapping survives until finish_job writes it.
 */
void
nango_job_warn(const char *fmt,...)
{
	JobRun	   *run = current_run;
	MemoryContext old;
	StringInfoData buf;
	ListCell   *lc;

	if (run == NULL)
		return;
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

/*
 * read_sync: the sync row (as the extension owner, with SPI connected);
 * false when there is none.
 */
static bool
read_sync(int64 sync_id, SyncRow *row, MemoryContext cxt)
{
	Oid			types[1] = {INT8OID};
	Datum		vals[1] = {Int64GetDatum(sync_id)};
	HeapTuple	tup;
	TupleDesc	td;
	bool		isnull;

	if (SPI_execute_with_args("SELECT owner::pg_catalog.oid, url, config, friendly_name, mapped_table, "
							  "incremental_state FROM nango.syncs WHERE id = $1",
							  1, types, vals, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read nango.syncs");
	MemoryContextSwitchTo(cxt);
	if (SPI_processed == 0)
		return false;
	tup = SPI_tuptable->vals[0];
	td = SPI_tuptable->tupdesc;
	row->owner = DatumGetObjectId(SPI_getbinval(tup, td, 1, &isnull));
	row->url = SPI_getvalue(tup, td, 2);
	row->config = DatumGetJsonbPCopy(SPI_getbinval(tup, td, 3, &isnull));
	row->friendly_name = SPI_getvalue(tup, td, 4);
	row->mapped_table = SPI_getvalue(tup, td, 5);
	{
		Datum		d = SPI_getbinval(tup, td, 6, &isnull);

		row->incremental_state = isnull ? NULL : DatumGetJsonbPCopy(d);
	}
	return true;
}

/*
 * raise_busy: the 55006 error for a sync whose job is running elsewhere,
 * naming the job when its row is visible, else the holder's pid.
 */
static void
raise_busy(int64 sync_id, LOCKTAG *tag)
{
	Oid			types[1] = {INT8OID};
	Datum		vals[1] = {Int64GetDatum(sync_id)};
	char	   *job = NULL;
	int			pid = 0;

	if (SPI_execute_with_args("SELECT id, pid FROM nango.jobs WHERE sync_id = $1 "
							  "AND status = 'running' ORDER BY id DESC LIMIT 1",
							  1, types, vals, NULL, false, 1) == SPI_OK_SELECT &&
		SPI_processed > 0)
		job = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
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
	Oid			types[1] = {INT8OID};
	Datum		vals[1] = {Int64GetDatum(sync_id)};
	uint64		i;

	if (SPI_execute_with_args("SELECT pid FROM nango.jobs WHERE sync_id = $1 AND status = 'running'",
							  1, types, vals, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read nango.jobs");
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		int			pid = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[i],
													  SPI_tuptable->tupdesc, 1, &isnull));

		if (!isnull && pid != MyProcPid && BackendPidGetProc(pid) != NULL)
			return true;
	}
	return false;
}

int64
nango_job_create(int64 sync_id, int attempt, NangoJobTrigger trigger)
{
	NangoSavedRole saved;
	LOCKTAG		tag;
	Oid			types[4] = {INT8OID, INT4OID, INT4OID, TEXTOID};
	Datum		vals[4];
	bool		isnull;
	int64		job_id;

	int			pinned = nango_pin_search_path();

	nango_push_role(nango_extension_owner(), &saved);
	SPI_connect();
	sync_lock_tag(&tag, sync_id);
	if (LockAcquire(&tag, ExclusiveLock, false, true) == LOCKACQUIRE_NOT_AVAIL)
		raise_busy(sync_id, &tag);
	if (other_running_job(sync_id))
		raise_busy(sync_id, NULL);
	vals[0] = Int64GetDatum(sync_id);
	vals[1] = Int32GetDatum(attempt);
	vals[2] = Int32GetDatum(MyProcPid);
	vals[3] = CStringGetTextDatum(nango_job_trigger_name(trigger));
	/* before ALTER EXTENSION nango UPDATE to 0.3 there is no trigger column */
	if (SPI_execute_with_args(nango_has_column("jobs", "trigger")
							  ? "INSERT INTO nango.jobs (sync_id, attempt, pid, status, trigger) "
							  "VALUES ($1, $2, $3, 'running', $4) RETURNING id"
							  : "INSERT INTO nango.jobs (sync_id, attempt, pid, status) "
							  "VALUES ($1, $2, $3, 'running') RETURNING id",
							  nango_has_column("jobs", "trigger") ? 4 : 3,
							  types, vals, NULL, false, 1) != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "could not insert a job row");
	job_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	nango_pop_role(&saved);
	nango_unpin_search_path(pinned);
	return job_id;
}

/*
 * run_after_parent: after a successful job of sync_id, its children
 * without a schedule of their own are due now (docs/config.md); the
 * launcher is woken at commit.
 */
static void
run_after_parent(int64 sync_id)
{
	Oid			types[1] = {TEXTOID};
	Datum		vals[1] = {CStringGetTextDatum(psprintf(INT64_FORMAT, sync_id))};

	if (SPI_execute_with_args("UPDATE nango.syncs s SET next_run_at = pg_catalog.now() "
							  "WHERE s.config -> 'parent' ->> 'sync' = $1 AND s.frequency IS NULL "
							  "AND s.cron IS NULL AND s.status = 'active'",
							  1, types, vals, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not schedule the child syncs of sync " INT64_FORMAT, sync_id);
	if (SPI_processed > 0)
		nango_wake_launcher_at_commit();
}

/* ---------------------------------------------------------------------
 * One page
 * ---------------------------------------------------------------------
 */

/*
 * replace_nul_escapes: rewrites \u0000 escapes (which jsonb cannot store)
 * as \uFFFD in place; the same length, so no copy.  Returns how many.
 */
static int64
replace_nul_escapes(char *s, size_t len)
{
	int64		n = 0;
	size_t		i = 0;

	for (;;)
	{
		char	   *bs = memchr(s + i, '\\', len - i);

		if (bs == NULL)
			break;
		i = bs - s;
		if (i + 1 >= len)
			break;
		if (s[i + 1] == 'u' && i + 5 < len && memcmp(s + i + 2, "0000", 4) == 0)
		{
			memcpy(s + i + 2, "FFFD", 4);
			n++;
		}
		i += 2;					/* skip the escaped character */
	}
	return n;
}

/*
 * parse_page: validates and parses a response body with PostgreSQL's
 * jsonb parser (every digit of every number kept).  Errors name the page.
 * An empty body is an error on page 1 and the end of the data later
 * (NULL), like a missing response_path.  *marks gets where the numbers
 * written with an exponent are (see nango_parse_jsonb_marks; NULL when
 * jsonb_in parsed the page).
 */
static Jsonb *
parse_page(JobRun *run, const NangoResponse *resp, NangoExpMarks **marks)
{
	char	   *volatile text = (char *) resp->body;
	Jsonb	   *jb = NULL;
	MemoryContext cxt = CurrentMemoryContext;

	*marks = NULL;
	if (resp->body_len == 0 && run->page > 1)
		return NULL;			/* an empty later page: the end of the data */
	if (resp->body_len == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("page %d: the response body is empty (HTTP %ld)", run->page, resp->status)));
	if (strlen(text) != resp->body_len)
		ereport(ERROR,
				(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
				 errmsg("page %d: the response body contains a NUL byte, so it is not JSON text", run->page)));
	if (!pg_verify_mbstr(PG_UTF8, text, (int) resp->body_len, true))
		ereport(ERROR,
				(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
				 errmsg("page %d: the response body is not valid UTF-8", run->page)));
	run->nul_replaced += replace_nul_escapes(text, resp->body_len);
	/* a UTF-8 byte order mark is not JSON: skip it */
	if (resp->body_len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
		text += 3;
	if (GetDatabaseEncoding() != PG_UTF8)
		text = pg_any_to_server(text, (int) strlen(text), PG_UTF8);

	jb = nango_parse_jsonb_marks(text, strlen(text), marks);
	if (jb != NULL)
		return jb;
	PG_TRY();
	{
		jb = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(text)));
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		if (edata->sqlerrcode == ERRCODE_INVALID_TEXT_REPRESENTATION)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_JSON_TEXT),
					 errmsg("page %d: the response body is not valid JSON", run->page),
					 errdetail("%s%s%s", edata->message,
							   edata->detail ? ": " : "", edata->detail ? edata->detail : "")));
		/* e.g. nesting deeper than max_stack_depth */
		ereport(ERROR,
				(errcode(edata->sqlerrcode),
				 errmsg("page %d: the response body could not be parsed: %s",
						run->page, edata->message),
				 edata->hint ? errhint("%s", edata->hint) : 0));
	}
	PG_END_TRY();
	return jb;
}

/* Records of a page, as separate Jsonb values. */
typedef struct PageRecords
{
	int			n;
	Jsonb	  **records;
	char	  **keys;
	NangoNumPaths **numpaths;	/* NULL, or per record its fields written as
								 * 1e3 (NULL for a record without any) */
	int			received;		/* records received, before key filtering */
	JsonbValue	last;			/* the page's last record, for the object cursor */
	uint64		hash;			/* hash of the records' content (loop check) */
	bool		missing;		/* response_path missing: end of data */
} PageRecords;

/*
 * mark_record: the record a marked number's path (from the page's root)
 * falls in, and where its path in that record starts; -1 when it is not
 * inside a record.  rp is response_path's steps, matched as
 * nango_steps_get matches them (a key in an object, an index in an array).
 */
static int
mark_record(const NangoExpPath *ep, const NangoPath *rp, bool is_array, int total,
			int *from)
{
	int			j;
	int			nr = rp ? rp->nsteps : 0;

	for (j = 0; j < nr; j++)
	{
		const NangoPathSeg *sg;
		const NangoPathStep *st = &rp->steps[j];

		if (j >= ep->nseg)
			return -1;
		sg = &ep->segs[j];
		if (sg->key ? (st->key == NULL || sg->keylen != st->keylen ||
					   memcmp(sg->key, st->key, st->keylen) != 0)
			: st->index != sg->index)
			return -1;
	}
	if (!is_array)
	{
		*from = nr;
		return ep->nseg > nr ? 0 : -1;
	}
	*from = nr + 1;
	if (ep->nseg <= nr + 1 || ep->segs[nr].key != NULL || ep->segs[nr].index >= total)
		return -1;
	return ep->segs[nr].index;
}

/*
 * record_num_paths: for each record, the fields whose numbers were written
 * with an exponent (1e3), which the mapping types as decimals (docs/mapping.md) although jsonb keeps them as integers.  Only called for a
 * page that has such numbers; the paths are copied, as the response body
 * they point into is reused by the next request.
 */
static void
record_num_paths(JobRun *run, const NangoExpMarks *marks, PageRecords *pr, bool is_array)
{
	List	  **lists = palloc0(sizeof(List *) * Max(pr->n, 1));

	for (int m = 0; m < marks->n; m++)
	{
		const NangoExpPath *ep = &marks->paths[m];
		int			from;
		int			r = mark_record(ep, run->cfg->response_steps, is_array, pr->n, &from);

		if (r >= 0)
			lists[r] = lappend(lists[r], nango_path_ident(ep->segs + from, ep->nseg - from));
	}
	pr->numpaths = palloc0(sizeof(NangoNumPaths *) * Max(pr->n, 1));
	for (int r = 0; r < pr->n; r++)
	{
		NangoNumPaths *np;
		ListCell   *lc;

		if (lists[r] == NIL)
			continue;
		np = palloc(sizeof(NangoNumPaths));
		np->n = 0;
		np->idents = palloc(sizeof(char *) * list_length(lists[r]));
		foreach(lc, lists[r])
			np->idents[np->n++] = lfirst(lc);
		nango_num_paths_sort(np);
		pr->numpaths[r] = np;
	}
}

/*
 * extract_records: the records at response_path (an array gives its
 * elements, an object one record), cut to max_total.  Missing on page 1
 * fails the job (it never empties a table); missing later ends the data.
 */
static void
extract_records(JobRun *run, Jsonb *body, const NangoExpMarks *marks, PageRecords *pr)
{
	const NangoConfig *cfg = run->cfg;
	JsonbValue	v;
	int64		limit = -1;
	int			total;
	int			i;

	memset(pr, 0, sizeof(*pr));
	if (!nango_jsonb_steps_get(body, cfg->response_steps, &v) || v.type == jbvNull)
	{
		if (run->page == 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("page 1: response_path \"%s\" is missing from the response",
							cfg->response_path ? cfg->response_path : ""),
					 errhint("The API may have answered with an error; the sync's rows were left as they were.")));
		pr->missing = true;
		return;
	}
	if (cfg->max_total > 0)
		limit = cfg->max_total - run->counts.fetched;
	if (v.type != jbvBinary)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("page %d: the value at response_path \"%s\" is a JSON scalar, not an array or object",
						run->page, cfg->response_path ? cfg->response_path : "")));
	/* the loop check of offset and page-number paging compares pages */
	if (cfg->paging == NANGO_PAGING_OFFSET || cfg->paging == NANGO_PAGING_NUMBER)
		pr->hash = hash_bytes_extended((const unsigned char *) v.val.binary.data,
									   v.val.binary.len, 0);
	if (!JsonContainerIsArray(v.val.binary.data))
	{
		pr->n = pr->received = limit == 0 ? 0 : 1;
		pr->records = palloc(sizeof(Jsonb *));
		pr->records[0] = JsonbValueToJsonb(&v);
		pr->last = v;
		if (marks != NULL && pr->n > 0)
			record_num_paths(run, marks, pr, false);
		return;
	}
	total = JsonContainerSize(v.val.binary.data);
	if (limit >= 0 && total > limit)
		total = (int) limit;
	pr->records = palloc(sizeof(Jsonb *) * (total > 0 ? total : 1));
	for (i = 0; i < total; i++)
	{
		JsonbValue *e = getIthJsonbValueFromContainer(v.val.binary.data, i);

		pr->records[i] = JsonbValueToJsonb(e);
		if (i == total - 1)
			pr->last = *e;
	}
	pr->n = pr->received = total;
	if (marks != NULL && pr->n > 0)
		record_num_paths(run, marks, pr, true);
}

/* The longest key path closest_path compares (Levenshtein's own limit is 255). */
#define NANGO_MAX_SUGGEST_BYTES 200

/*
 * closest_path: among the dot paths of the scalar values of an object
 * (nested objects followed 3 levels deep), the one nearest to target
 * (Levenshtein distance, ignoring case); *best and *best_d hold the best
 * so far.  For the hint of a job in which no record had its unique_key.
 */
static void
closest_path(JsonbContainer *c, const char *prefix, const char *target, int depth,
			 char **best, int *best_d)
{
	JsonbIterator *it = JsonbIteratorInit(c);
	JsonbIteratorToken tok;
	JsonbValue	v;
	char	   *key = NULL;

	if (!JsonContainerIsObject(c))
		return;
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		char	   *path;

		if (tok == WJB_KEY)
		{
			key = pnstrdup(v.val.string.val, v.val.string.len);
			continue;
		}
		if (tok != WJB_VALUE || key == NULL || v.type == jbvNull)
			continue;
		path = prefix ? psprintf("%s.%s", prefix, key) : key;
		if (v.type == jbvBinary)
		{
			if (depth < 3)
				closest_path(v.val.binary.data, path, target, depth + 1, best, best_d);
		}
		else if (strlen(path) <= NANGO_MAX_SUGGEST_BYTES)
		{
			char	   *lower = str_tolower(path, strlen(path), DEFAULT_COLLATION_OID);
			int			d = varstr_levenshtein(lower, strlen(lower), target, strlen(target),
											   1, 1, 1, false);

			if (d < *best_d)
			{
				*best_d = d;
				*best = path;
			}
		}
	}
}

/*
 * suggest_key: remembers, from the first record without a value at
 * unique_key, the key path it has that is closest to unique_key.
 */
static void
suggest_key(JobRun *run, Jsonb *record)
{
	const char *uk = run->cfg->unique_key;
	char	   *target;
	char	   *best = NULL;
	int			best_d = INT_MAX;

	if (run->key_suggestion != NULL || strlen(uk) > NANGO_MAX_SUGGEST_BYTES ||
		JB_ROOT_IS_SCALAR(record))
		return;
	target = str_tolower(uk, strlen(uk), DEFAULT_COLLATION_OID);
	closest_path(&record->root, NULL, target, 1, &best, &best_d);
	if (best != NULL)
		run->key_suggestion = MemoryContextStrdup(run->outercxt, best);
}

/*
 * child_key: a child sync's record key: its parent's key and its own as a
 * JSON array of two strings, e.g. ["1296269","1347"], so that the same
 * key under two parents is two records and no two pairs give one text.
 */
static char *
child_key(const char *parent_key, const char *key)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '[');
	escape_json(&buf, parent_key);
	appendStringInfoChar(&buf, ',');
	escape_json(&buf, key);
	appendStringInfoChar(&buf, ']');
	return buf.data;
}

/*
 * record_keys: in upsert mode, the unique key of each record; records
 * without a usable key (missing, null, object or array, or longer than
 * NANGO_MAX_KEY_BYTES, which the unique indexes of nango.raw and of the
 * mapped table could not hold) are dropped from the page and counted as
 * skipped.
 */
static void
record_keys(JobRun *run, PageRecords *pr)
{
	const NangoPath *path = run->cfg->unique_key_steps;
	int			i;
	int			m = 0;

	pr->keys = palloc(sizeof(char *) * (pr->n > 0 ? pr->n : 1));
	for (i = 0; i < pr->n; i++)
	{
		JsonbValue	kv;
		char	   *key = NULL;

		if (!nango_jsonb_steps_get(pr->records[i], path, &kv))
		{
			run->key_missing++;
			suggest_key(run, pr->records[i]);
		}
		else if ((key = nango_scalar_text(&kv)) == NULL)
			run->key_unusable++;
		else if (run->parent_key != NULL && strlen(key = child_key(run->parent_key, key)) > NANGO_MAX_KEY_BYTES)
		{
			run->long_keys++;
			key = NULL;
		}
		else if (strlen(key) > NANGO_MAX_KEY_BYTES)
		{
			run->long_keys++;
			key = NULL;
		}
		if (key == NULL)
		{
			run->counts.skipped++;
			continue;
		}
		run->keyed++;
		pr->records[m] = pr->records[i];
		pr->keys[m] = key;
		if (pr->numpaths)
			pr->numpaths[m] = pr->numpaths[i];
		m++;
	}
	pr->n = m;
}

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

/*
 * build_request: the request of the pager's next page (its strings in the
 * current memory context).
 */
static void
build_request(JobRun *run, NangoPager *pager, NangoRequest *req, bool refreshed)
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
 * fetch_page: builds and sends one page's request; returns the response.
 */
static void
fetch_page(JobRun *run, NangoPager *pager, NangoResponse *resp)
{
	NangoRequest req;
	bool		refreshed = false;

	for (;;)
	{
		MemoryContext cur;

		build_request(run, pager, &req, refreshed);
		/* a next URL from the API may carry new secrets (e.g. a signature) */
		cur = MemoryContextSwitchTo(run->jobcxt);
		nango_secrets_add_url(&run->secrets, req.url, false);
		MemoryContextSwitchTo(cur);
		run->url = nango_redact_url(req.url, &run->secrets);
		nango_progress_request(req.method, run->url);
		nango_log(NANGO_LOG_DEBUG, LOG, "nango: sync \"%s\": fetching page %d: %s %s",
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

	build_request(run, pager, &req, false);
	nango_http_start(run->http, &req);
}

/*
 * start_incremental: the value of the last successful job (or the initial
 * value) goes with every request of this job.
 */
static void
start_incremental(JobRun *run, NangoPager *pager)
{
	bool		is_number;
	char	   *v = nango_incr_start_value(run->incr->stored,
										   run->cfg->incremental_initial_value, &is_number);

	if (v != NULL)
		nango_pager_add_param(pager, run->cfg->incremental_request_steps, v, is_number);
	nango_log(NANGO_LOG_DEBUG, LOG, "nango: sync \"%s\": incremental from %s",
			  run->name, v ? v : "the beginning");
}

/*
 * save_incremental: after a successful job, the highest value seen becomes
 * the sync's incremental state (in the job's subtransaction).
 */
static void
save_incremental(JobRun *run)
{
	Jsonb	   *final = nango_incr_final(run->incr);
	NangoSavedRole saved;
	Oid			types[2] = {INT8OID, JSONBOID};
	Datum		v[2];

	if (final == NULL)
		return;
	v[0] = Int64GetDatum(run->sync_id);
	v[1] = JsonbPGetDatum(final);
	nango_push_role(nango_extension_owner(), &saved);
	if (SPI_execute_with_args("UPDATE nango.syncs SET incremental_state = $2 WHERE id = $1",
							  2, types, v, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not store the incremental state");
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
 * delete_unseen: after a complete full-refresh job (not cut by max_total,
 * not incremental), the sync's keys the job did not see are deleted.
 */
static void
delete_unseen(JobRun *run, NangoStore *st, NangoMapTable *mt)
{
	DeleteTarget t;
	NangoSavedRole saved;

	if (run->truncated)
	{
		nango_log(NANGO_LOG_INFO, LOG,
				  "nango: sync \"%s\": max_total cut the job short, no rows deleted", run->name);
		return;
	}
	t.mt = mt;
	t.owner = run->owner;
	t.caller = run->caller;
	t.soft = (run->cfg->delete_mode == NANGO_DELETE_SOFT);
	nango_push_role(nango_extension_owner(), &saved);
	run->counts.deleted = nango_store_delete_unseen(st, t.soft, map_delete_keys, &t);
	nango_pop_role(&saved);
	MemoryContextSwitchTo(run->jobcxt);
}

/*
 * run_pages: the page loop.  Each page is handled in a memory context
 * reset before the next one, so memory does not grow with pages.
 */
static void
run_pages(JobRun *run, NangoStore *st, NangoMapTable *mt)
{
	const NangoConfig *cfg = run->cfg;
	NangoPager	pager;

	nango_pager_init(&pager, run->chain_cfg ? run->chain_cfg : cfg, run->http,
					 run->chain_cfg ? run->chaincxt : run->jobcxt);
	if (run->incr != NULL)
		start_incremental(run, &pager);
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
		fetch_page(run, &pager, &resp);
		if (resp.status == 404 || resp.status == 410)
		{
			/* only asked for on a child chain's first request */
			run->counts.pages++;
			run->gone = true;
			pager.done = true;
			break;
		}
		body = parse_page(run, &resp, &marks);
		if (body != NULL)
			extract_records(run, body, marks, &pr);
		else
		{
			memset(&pr, 0, sizeof(pr));
			pr.missing = true;
		}
		if (pr.missing)
		{
			run->counts.pages++;
			pager.done = true;
			pager.stop = NANGO_STOP_RESPONSE_PATH_MISSING;
			break;
		}
		run->counts.fetched += pr.n;
		run->counts.pages++;
		if (cfg->unique_key != NULL)
			record_keys(run, &pr);
		if (run->incr != NULL)
		{
			int			i;

			for (i = 0; i < pr.n; i++)
				nango_incr_see(run->incr, pr.records[i]);
		}
		remaining = cfg->max_total > 0 ? cfg->max_total - run->counts.fetched : -1;
		/* paging sees every record received, keyless ones too */
		nango_pager_advance(&pager, body, pr.received, pr.received > 0 ? &pr.last : NULL,
							pr.hash, &resp, remaining);
		/* resp is not used past this point: the next request may start */
		if (!pager.done)
			prefetch_page(run, &pager);
		store_page(run, st, mt, &pr);
		nango_report_progress(run->job_id, run->counts.pages, run->counts.fetched);
		/* whatever the callees left current, the page's work stays in pagecxt */
		MemoryContextSwitchTo(run->pagecxt);
	}
	MemoryContextSwitchTo(run->jobcxt);
	run->truncated |= (pager.stop == NANGO_STOP_MAX_TOTAL);
	nango_log(NANGO_LOG_DEBUG, LOG, "nango: sync \"%s\": paging ended after page %d: %s",
			  run->name, run->page, nango_stop_reason_text(pager.stop));
}

/* ---------------------------------------------------------------------
 * Child syncs (docs/config.md): one request chain per parent record
 * ---------------------------------------------------------------------
 */

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
	nango_log(NANGO_LOG_WARNING, LOG, "nango: sync \"%s\": parent record %s skipped: %s",
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
		build_request(run, &pager, &req, false);
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
	run_pages(run, st, mt);
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
 * run_children: a child sync's job: one request chain for each live
 * record of the parent, stored in the parent's key order, with up to
 * concurrency chains' requests in flight.  With incremental sync, each
 * parent key has its own value (incremental_state is a map of parent key
 * to value), stored when the job succeeds.
 */
static void
run_children(JobRun *run, NangoStore *st, NangoMapTable *mt, Jsonb *meta)
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
	nango_log(NANGO_LOG_DEBUG, LOG, "nango: sync \"%s\": %d parent records, " INT64_FORMAT " skipped",
			  run->name, parents.n, run->skipped_parents);
}

/*
 * collect_secrets: every header value (and its token part after a scheme
 * word such as Bearer) and every secret-looking query parameter value.
 */
static void
collect_secrets(JobRun *run)
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
 * set_rate_limit: the sync's rate_limit for the job's requests, and its
 * credentials other than headers (the URL's password and secret-looking
 * query values, after secrets were filled in), which with the host and
 * the credential headers choose the budget the job shares (ratelimit.c).
 */
static void
set_rate_limit(JobRun *run)
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
 * apply_credentials: the owner's grant of the sync's Pizzly connection is
 * checked again (it may have been revoked), and the owner's secrets are
 * read and written into the job's copy of the config (their values join
 * the redaction set first, in nango_fill_begin).  The Pizzly token is written later, through
 * the same templates.
 */
static void
apply_credentials(JobRun *run)
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
 * check_some_keyed: a job that fetched records of which not one had a
 * usable unique key fails (docs/sync-modes.md): it would otherwise succeed
 * and store nothing.  The hint names the key path closest to unique_key
 * that the records do have (ID for id, say).
 */
static void
check_some_keyed(JobRun *run)
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
 * note_outcome: the warnings of a job that got to its end: records
 * skipped for their key, duplicate keys, \u0000 replaced.  (Mapping notes
 * its own: mismatches, the column cap, rows too big.)
 */
static void
note_outcome(JobRun *run)
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
	apply_credentials(run);
	collect_secrets(run);
	run->method = cfg->method;
	run->http = nango_http_create(run->jobcxt, &run->secrets);
	nango_http_set_scope(run->http, cfg->url, cfg->credential_hosts, cfg->ncredential_hosts);
	set_rate_limit(run);
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

	if (cfg->has_parent)
		run_children(run, st, mt, metadata);
	else
		run_pages(run, st, mt);
	if (cfg->unique_key != NULL)
		check_some_keyed(run);
	nango_store_count(st, &run->counts);
	if (run->incr != NULL)
		save_incremental(run);
	else if (cfg->unique_key != NULL && cfg->delete_mode != NANGO_DELETE_NONE)
		delete_unseen(run, st, mt);

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
				  "nango: sync \"%s\": replaced " INT64_FORMAT " \\u0000 escapes by U+FFFD",
				  run->name, run->nul_replaced);
	note_outcome(run);
	run->withheld += nango_http_withheld_count(run->http);
	if (run->withheld > 0)
	{
		nango_log(NANGO_LOG_WARNING, LOG,
				  "nango: sync \"%s\": " INT64_FORMAT " requests went to another origin without the sync's credentials",
				  run->name, run->withheld);
		nango_job_warn(INT64_FORMAT " request(s) went to another origin (a next URL, Link or redirect) "
					   "without the sync's credentials; list that host in credential_hosts if it should get them",
					   run->withheld);
	}
}

/* ---------------------------------------------------------------------
 * Job outcome
 * ---------------------------------------------------------------------
 */

static const char *
status_name(NangoJobStatus s)
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
					 errmsg("sync \"%s\": %s", run->name, line),
					 errhint("The job succeeded; its row in nango.jobs lists this in \"warnings\".")));
		else
			nango_log(NANGO_LOG_WARNING, WARNING, "nango: sync \"%s\": job " INT64_FORMAT ": %s",
					  run->name, run->job_id, line);
	}
}

/*
 * finish_job: records the outcome on the job row (as the extension owner),
 * sends NOTIFY nango_jobs and logs a line.
 */
static void
finish_job(JobRun *run, NangoJobStatus status, const char *message, const char *detail)
{
	NangoSavedRole saved;
	Oid			types[14] = {INT8OID, TEXTOID, TEXTOID, TEXTOID, INT8OID, INT8OID,
	INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, TEXTARRAYOID};
	Datum		v[14];
	char		nulls[14] = "              ";
	bool		isnull;
	bool		outcome_cols;
	NangoCounts *c = &run->counts;
	const char *sname = status_name(status);

	v[0] = Int64GetDatum(run->job_id);
	v[1] = CStringGetTextDatum(sname);
	v[2] = message ? CStringGetTextDatum(message) : (Datum) 0;
	v[3] = detail ? CStringGetTextDatum(detail) : (Datum) 0;
	if (!message)
		nulls[2] = 'n';
	if (!detail)
		nulls[3] = 'n';
	v[4] = Int64GetDatum(c->pages);
	v[5] = Int64GetDatum(c->fetched);
	v[6] = Int64GetDatum(c->added);
	v[7] = Int64GetDatum(c->updated);
	v[8] = Int64GetDatum(c->deleted);
	v[9] = Int64GetDatum(c->unchanged);
	v[10] = Int64GetDatum(c->skipped);
	v[11] = Int64GetDatum(c->mismatch);
	v[12] = Int64GetDatum(c->duplicate);
	v[13] = warnings_array(run, &isnull);
	if (isnull)
		nulls[13] = 'n';

	nango_push_role(nango_extension_owner(), &saved);
	SPI_connect();
	/* the last two columns are new in 0.3 (see nango_has_column) */
	outcome_cols = nango_has_column("jobs", "warnings");
	if (SPI_execute_with_args(psprintf("UPDATE nango.jobs SET status = $2, ended_at = pg_catalog.clock_timestamp(), "
									   "error_message = $3, error_detail = $4, page_count = $5, fetched_count = $6, "
									   "added_count = $7, updated_count = $8, deleted_count = $9, "
									   "unchanged_count = $10, skipped_count = $11, mismatch_count = $12%s "
									   "WHERE id = $1",
									   outcome_cols ? ", duplicate_count = $13, warnings = $14" : ""),
							  outcome_cols ? 14 : 12, types, v, nulls, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not update job " INT64_FORMAT, run->job_id);
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
				  "nango: sync \"%s\": job " INT64_FORMAT " succeeded: " INT64_FORMAT " pages, "
				  INT64_FORMAT " fetched, " INT64_FORMAT " added, " INT64_FORMAT " updated, "
				  INT64_FORMAT " unchanged, " INT64_FORMAT " deleted, " INT64_FORMAT " skipped, "
				  INT64_FORMAT " duplicate",
				  run->name, run->job_id, c->pages, c->fetched, c->added, c->updated,
				  c->unchanged, c->deleted, c->skipped, c->duplicate);
	else
		nango_log(NANGO_LOG_WARNING, LOG, "nango: sync \"%s\": job " INT64_FORMAT " %s: %s (%s)",
				  run->name, run->job_id, sname, message ? message : "", detail ? detail : "");
	if (status == NANGO_JOB_SUCCEEDED)
		report_warnings(run);
}

/*
 * failure_detail: where the job failed: page, request, HTTP status, body
 * excerpt, and the error's own detail; secrets redacted.
 */
static char *
failure_detail(JobRun *run, ErrorData *edata)
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

/*
 * load_job: the job's sync id, trigger and start, and its sync row (as the
 * extension owner), allocated in cxt; the job row's pid becomes this
 * process.  A job that is not 'running' is an error.
 */
static void
load_job(JobRun *run, SyncRow *sync, MemoryContext cxt)
{
	NangoSavedRole saved;
	Oid			types[2] = {INT8OID, INT4OID};
	Datum		vals[2] = {Int64GetDatum(run->job_id), Int32GetDatum(MyProcPid)};
	bool		isnull;

	nango_push_role(nango_extension_owner(), &saved);
	SPI_connect();
	/*
	 * The process that executes the job may not be the one that created it.
	 * The row is only updated then: a job worker created and committed it
	 * with its own pid, and must not lock it for the whole job, since the
	 * launcher copies the job's progress into it meanwhile (worker.h).
	 */
	/*
	 * trigger is read through to_jsonb: a database still at an older version
	 * of the extension (before ALTER EXTENSION UPDATE) has no such column.
	 */
	if (SPI_execute_with_args("WITH u AS (UPDATE nango.jobs j SET pid = $2 WHERE id = $1 "
							  "AND status = 'running' AND pid IS DISTINCT FROM $2 "
							  "RETURNING sync_id, pg_catalog.to_jsonb(j) ->> 'trigger', started_at) "
							  "SELECT * FROM u UNION ALL "
							  "SELECT sync_id, pg_catalog.to_jsonb(j) ->> 'trigger', started_at FROM nango.jobs j "
							  "WHERE id = $1 AND status = 'running' AND pid = $2",
							  2, types, vals, NULL, false, 1) != SPI_OK_SELECT ||
		SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("job " INT64_FORMAT " does not exist or is not running", run->job_id)));
	run->sync_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	{
		MemoryContext old = MemoryContextSwitchTo(cxt);

		run->trigger = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
		run->started_at = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0],
															SPI_tuptable->tupdesc, 3, &isnull));
		MemoryContextSwitchTo(old);
		/* a job of run_sync: its warnings go to the caller */
		run->manual = run->trigger != NULL && strcmp(run->trigger, "manual") == 0;
	}
	if (!read_sync(run->sync_id, sync, cxt))
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
	if (retryable)
		*retryable = false;
	load_job(run, &sync, oldcxt);
	run->owner = sync.owner;
	/* from now on the job shows in nango.job_progress and can be cancelled */
	shown = nango_progress_begin(job_id, run->sync_id, run->owner, run->trigger, run->started_at);
	run->name = sync.friendly_name ? sync.friendly_name : psprintf(INT64_FORMAT, run->sync_id);

	run->jobcxt = AllocSetContextCreate(oldcxt, "nango job", ALLOCSET_DEFAULT_SIZES);
	run->pagecxt = AllocSetContextCreate(run->jobcxt, "nango page", ALLOCSET_DEFAULT_SIZES);

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(run->jobcxt);
	current_run = run;
	PG_TRY();
	{
		run_job(run, &sync);
		current_run = NULL;
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		/* over: a second cancel must not reach the recording of the outcome */
		if (shown)
			nango_progress_end();
		current_run = NULL;
		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;

		status = (edata->sqlerrcode == ERRCODE_QUERY_CANCELED) ? NANGO_JOB_CANCELLED : NANGO_JOB_FAILED;
		if (retryable)
			*retryable = failure_retryable(edata->sqlerrcode);
		/* the warnings were about what the job stored, which is gone */
		run->warnings = NIL;
		run->warnings_capped = false;
		message = nango_redact_text(edata->message, &run->secrets);
		detail = failure_detail(run, edata);
		/* nothing the job wrote was kept */
		run->counts.added = run->counts.updated = run->counts.unchanged = 0;
		run->counts.deleted = run->counts.skipped = run->counts.mismatch = 0;
		run->counts.duplicate = 0;
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
	finish_job(run, status, message, detail);
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
	found = read_sync(sync_id, &sync, CurrentMemoryContext);
	SPI_finish();
	nango_pop_role(&saved);
	if (!found)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("sync " INT64_FORMAT " does not exist", sync_id)));
	if (!superuser_arg(caller) && !has_privs_of_role(caller, sync.owner))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to run sync " INT64_FORMAT, sync_id),
				 errdetail("Only the owner of a sync or a superuser may run it.")));
}

/*
 * warn_failed_job: the WARNING run_sync gives for a failed or cancelled
 * job, from what the job row recorded (no ids, so outputs are stable).
 */
static void
warn_failed_job(int64 job_id, NangoJobStatus status)
{
	MemoryContext cxt = CurrentMemoryContext;
	NangoSavedRole saved;
	Oid			types[1] = {INT8OID};
	Datum		vals[1] = {Int64GetDatum(job_id)};
	char	   *name = NULL;
	char	   *msg = NULL;
	char	   *detail = NULL;

	nango_push_role(nango_extension_owner(), &saved);
	SPI_connect();
	if (SPI_execute_with_args("SELECT COALESCE(s.friendly_name, s.id::pg_catalog.text), "
							  "j.error_message, j.error_detail "
							  "FROM nango.jobs j JOIN nango.syncs s ON s.id = j.sync_id WHERE j.id = $1",
							  1, types, vals, NULL, false, 1) == SPI_OK_SELECT &&
		SPI_processed > 0)
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	td = SPI_tuptable->tupdesc;
		MemoryContext old = MemoryContextSwitchTo(cxt);

		name = SPI_getvalue(tup, td, 1);
		msg = SPI_getvalue(tup, td, 2);
		detail = SPI_getvalue(tup, td, 3);
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
	nango_pop_role(&saved);
	ereport(WARNING,
			(errcode(status == NANGO_JOB_CANCELLED ? ERRCODE_QUERY_CANCELED : ERRCODE_WARNING),
			 errmsg("sync \"%s\": job %s: %s", name ? name : "?", status_name(status),
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

/* ---------------------------------------------------------------------
 * Preview: a dry run of a job
 * ---------------------------------------------------------------------
 */

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
		start_incremental(run, &pager);
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
		fetch_page(run, &pager, &resp);
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
		body = parse_page(run, &resp, &marks);
		if (body != NULL)
			extract_records(run, body, marks, &pr);
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
	Oid			types[3] = {INT8OID, TEXTOID, OIDOID};
	Datum		vals[3];
	char		nulls[3] = "   ";
	const NangoConfig *cfg = run->cfg;
	const char *shown = cfg->parent_name ? cfg->parent_name : psprintf(INT64_FORMAT, cfg->parent_id);
	char	   *missing;
	bool		isnull;
	uint64		found;
	MemoryContext cxt = CurrentMemoryContext;

	vals[0] = Int64GetDatum(cfg->parent_id);
	vals[1] = cfg->parent_name ? CStringGetTextDatum(cfg->parent_name) : (Datum) 0;
	nulls[1] = cfg->parent_name ? ' ' : 'n';
	vals[2] = ObjectIdGetDatum(run->owner);
	nango_push_role(nango_extension_owner(), &saved);
	SPI_connect();
	if (SPI_execute_with_args("SELECT s.id, "
							  "(SELECT r.unique_key FROM nango.raw r WHERE r.sync_id = s.id AND r.deleted_at IS NULL "
							  "  AND r.unique_key IS NOT NULL ORDER BY r.unique_key COLLATE \"C\" LIMIT 1), "
							  "(SELECT r.data FROM nango.raw r WHERE r.sync_id = s.id AND r.deleted_at IS NULL "
							  "  AND r.unique_key IS NOT NULL ORDER BY r.unique_key COLLATE \"C\" LIMIT 1) "
							  "FROM nango.syncs s WHERE s.owner::pg_catalog.oid = $3 "
							  "AND (s.id = $1 OR s.friendly_name = $2)",
							  3, types, vals, nulls, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the parent sync");
	found = SPI_processed;
	MemoryContextSwitchTo(cxt);
	if (found > 0)
	{
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull);

		run->parent_key = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
		run->chain_parent = isnull ? NULL : DatumGetJsonbPCopy(d);
	}
	SPI_finish();
	nango_pop_role(&saved);
	if (found == 0)
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
		apply_credentials(run);
		collect_secrets(run);
		run->http = nango_http_create(run->jobcxt, &run->secrets);
		nango_http_set_scope(run->http, run->cfg->url, run->cfg->credential_hosts,
							 run->cfg->ncredential_hosts);
		set_rate_limit(run);
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
