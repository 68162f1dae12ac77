/*-------------------------------------------------------------------------
 *
 * pagingstate.c
 *	  A pager's state as checkpoints and page memos store it: a jsonb
 *	  object with the next URL's secrets written as markers, and the pager
 *	  set again from it by a later job (checkpoint.c resumes a pass from it,
 *	  pagememo.c pages on from a skipped page's memo).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"

#include "job_int.h"
#include "nango.h"

/*
 * A next URL is stored with each of the job's own secrets in it (the
 * sync's secret query values, a token, as the config puts them there)
 * replaced by a marker naming its place in the job's list of secrets, which
 * the same config fills in the same order; the next job writes its own
 * values back (a Pizzly token fetched anew, say).
 */
#define SECRET_MARKER "{nango-secret-"

/* secret_at: the longest of the job's secrets that starts at s, or -1. */
static int
secret_at(const NangoSecrets *secrets, const char *s)
{
	int			best = -1;
	size_t		bestlen = 0;

	for (int i = 0; i < secrets->n; i++)
	{
		size_t		len = strlen(secrets->values[i]);

		if (len > bestlen && strncmp(s, secrets->values[i], len) == 0)
		{
			best = i;
			bestlen = len;
		}
	}
	return best;
}

/*
 * job_secret_encode_url: the URL with the job's secrets replaced by markers; NULL
 * when it would still carry a secret (a signature the API put there, a
 * secret-looking parameter of unknown value, a secret in another form).
 */
char *
job_secret_encode_url(JobRun *run, const char *url)
{
	StringInfoData out;
	StringInfoData probe;
	const char *s = url;

	if (strstr(url, SECRET_MARKER) != NULL)
		return NULL;
	initStringInfo(&out);
	initStringInfo(&probe);
	while (*s)
	{
		int			i = secret_at(&run->secrets, s);

		if (i < 0)
		{
			appendStringInfoChar(&out, *s);
			appendStringInfoChar(&probe, *s++);
			continue;
		}
		appendStringInfo(&out, SECRET_MARKER "%d}", i);
		appendStringInfoString(&probe, NANGO_REDACTED);
		s += strlen(run->secrets.values[i]);
	}
	/* what redaction would still change is a secret not replaced */
	if (strcmp(nango_redact_url(probe.data, &run->secrets), probe.data) != 0)
		return NULL;
	return out.data;
}

/* job_secret_decode_url: the stored URL with this job's secrets; NULL when one is unknown. */
char *
job_secret_decode_url(JobRun *run, const char *stored)
{
	StringInfoData out;
	const char *s = stored;
	const char *m;

	initStringInfo(&out);
	while ((m = strstr(s, SECRET_MARKER)) != NULL)
	{
		char	   *end;
		long		i = strtol(m + strlen(SECRET_MARKER), &end, 10);

		if (*end != '}' || i < 0 || i >= run->secrets.n)
			return NULL;
		appendBinaryStringInfo(&out, s, m - s);
		appendStringInfoString(&out, run->secrets.values[i]);
		s = end + 1;
	}
	appendStringInfoString(&out, s);
	return out.data;
}

/* job_paging_text: a text field of a stored paging state, or NULL. */
char *
job_paging_text(Jsonb *paging, const char *key)
{
	JsonbValue	v;

	if (getKeyJsonValueFromContainer(&paging->root, key, strlen(key), &v) == NULL ||
		v.type != jbvString)
		return NULL;
	return pnstrdup(v.val.string.val, v.val.string.len);
}

/* paging_bool: a boolean field of a stored paging state. */
static bool
paging_bool(Jsonb *paging, const char *key)
{
	JsonbValue	v;

	return getKeyJsonValueFromContainer(&paging->root, key, strlen(key), &v) != NULL &&
		v.type == jbvBool && v.val.boolean;
}

/* add_text_field: "key": "value" (a JSON string) into buf. */
static void
add_text_field(StringInfo buf, const char *key, const char *value)
{
	appendStringInfo(buf, "%s\"%s\": ", buf->len > 1 ? ", " : "", key);
	escape_json(buf, value);
}

/*
 * job_paging_state: the pager's state after a page, as stored; NULL when it
 * cannot be stored without a secret: a next URL or cursor that carries one
 * that is not the job's own (a signature the API put in its next URL).
 */
Jsonb *
job_paging_state(JobRun *run, NangoPager *pager)
{
	StringInfoData buf;
	char	   *next_url = NULL;

	initStringInfo(&buf);
	if (pager->done)
		appendStringInfo(&buf, "{\"done\": true, \"stop\": \"%d\"}", (int) pager->stop);
	else
	{
		if (pager->next_url != NULL && (next_url = job_secret_encode_url(run, pager->next_url)) == NULL)
			return NULL;
		if (pager->cursor != NULL &&
			strcmp(nango_redact_text(pager->cursor, &run->secrets), pager->cursor) != 0)
			return NULL;
		appendStringInfoChar(&buf, '{');
		if (next_url != NULL)
			add_text_field(&buf, "next_url", next_url);
		if (pager->cursor != NULL)
			add_text_field(&buf, "cursor", pager->cursor);
		add_text_field(&buf, "offset", psprintf(INT64_FORMAT, pager->offset));
		add_text_field(&buf, "page_number", psprintf(INT64_FORMAT, pager->page_number));
		add_text_field(&buf, "prev_page_hash", psprintf(UINT64_FORMAT, pager->prev_page_hash));
		appendStringInfo(&buf, ", \"cursor_is_number\": %s, \"have_prev_page\": %s}",
						 pager->cursor_is_number ? "true" : "false",
						 pager->have_prev_page ? "true" : "false");
	}
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}

/*
 * job_paging_parent_state: the state of a child sync's pass after a parent
 * record: the parent's key.
 */
Jsonb *
job_paging_parent_state(const char *key)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	add_text_field(&buf, "parent_key", key);
	appendStringInfoChar(&buf, '}');
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}

/*
 * job_paging_restore: the pager goes on from a stored state (allocations
 * in the pager's context).  Its next cursor or URL counts as used, so that
 * a loop through restored and fetched pages is still found.  Returns false,
 * leaving the pager as it was, when the stored next URL names a secret this
 * job does not have.
 */
bool
job_paging_restore(JobRun *run, NangoPager *pager, Jsonb *p)
{
	MemoryContext old;
	char	   *s;
	char	   *url = NULL;

	if (paging_bool(p, "done"))
	{
		pager->done = true;
		s = job_paging_text(p, "stop");
		pager->stop = s ? (NangoStopReason) atoi(s) : NANGO_STOP_NO_PAGING;
		return true;
	}
	if ((s = job_paging_text(p, "next_url")) != NULL && (url = job_secret_decode_url(run, s)) == NULL)
		return false;
	old = MemoryContextSwitchTo(pager->cxt);
	if (pager->next_url)
		pfree(pager->next_url);
	pager->next_url = url ? pstrdup(url) : NULL;
	if (pager->cursor)
		pfree(pager->cursor);
	pager->cursor = job_paging_text(p, "cursor");
	pager->cursor_is_number = paging_bool(p, "cursor_is_number");
	if ((s = job_paging_text(p, "offset")) != NULL)
		pager->offset = pg_strtoint64(s);
	if ((s = job_paging_text(p, "page_number")) != NULL)
		pager->page_number = pg_strtoint64(s);
	pager->have_prev_page = paging_bool(p, "have_prev_page");
	if ((s = job_paging_text(p, "prev_page_hash")) != NULL)
		pager->prev_page_hash = strtou64(s, NULL, 10);
	MemoryContextSwitchTo(old);
	nango_pager_note_restored(pager);
	return true;
}
