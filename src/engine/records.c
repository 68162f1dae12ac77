/*-------------------------------------------------------------------------
 *
 * records.c
 *	  One page of a job, from response body to records: parse the body into
 *	  jsonb, pick the records at response_path, read each record's unique key
 *	  (skipping and counting the unusable ones).  Runs no request and writes
 *	  nothing.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "catalog/pg_collation.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/formatting.h"
#include "utils/varlena.h"
#include "common/hashfn.h"

#include "job_int.h"

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
 * job_parse_page: validates and parses a response body with PostgreSQL's
 * jsonb parser (every digit of every number kept).  Errors name the page.
 * An empty body is an error on page 1 and the end of the data later
 * (NULL), like a missing response_path.  *marks gets where the numbers
 * written with an exponent are (see nango_parse_jsonb_marks; NULL when
 * jsonb_in parsed the page).
 */
Jsonb *
job_parse_page(JobRun *run, const NangoResponse *resp, NangoExpMarks **marks)
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
 * job_extract_records: the records at response_path (an array gives its
 * elements, an object one record), cut to max_total.  Missing on page 1
 * fails the job (it never empties a table); missing later ends the data.
 */
void
job_extract_records(JobRun *run, Jsonb *body, const NangoExpMarks *marks, PageRecords *pr)
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
 * job_record_keys: in upsert mode, the unique key of each record; records
 * without a usable key (missing, null, object or array, or longer than
 * NANGO_MAX_KEY_BYTES, which the unique indexes of nango.raw and of the
 * mapped table could not hold) are dropped from the page and counted as
 * skipped.
 */
void
job_record_keys(JobRun *run, PageRecords *pr)
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
