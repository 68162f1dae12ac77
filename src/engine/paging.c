/*-------------------------------------------------------------------------
 *
 * paging.c
 *	  Pagination: every style of docs/config.md, one small function each.
 *
 *	  The request side puts the paging values (cursor, offset and limit, page
 *	  number) and any extra value (incremental) into the query of GET and
 *	  DELETE requests, or at a dot path of the JSON body of POST, PUT and
 *	  PATCH requests.  A next URL taken from a response (body or Link
 *	  header) is fetched as given.  Loops are detected with a set of 64-bit
 *	  hashes of the cursors and URLs used, so memory stays small however
 *	  many pages a job reads.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <cjson/cJSON.h>

#include "common/hashfn.h"
#include "lib/stringinfo.h"
#include "utils/memutils.h"

#include "jsonpath.h"
#include "nango.h"
#include "paging.h"
#include "redact.h"
#include "text.h"

/* The values one request carries, overriding same-named query parameters. */
typedef struct ReqValues
{
	NangoParam	v[NANGO_MAX_PARAMS + 3];
	int			n;
} ReqValues;

static uint64
hash_text(const char *s)
{
	return hash_bytes_extended((const unsigned char *) s, strlen(s), 0x6e616e676fULL);
}

const char *
nango_stop_reason_text(NangoStopReason reason)
{
	switch (reason)
	{
		case NANGO_STOP_NONE:
			return "not ended";
		case NANGO_STOP_MAX_TOTAL:
			return "max_total reached";
		case NANGO_STOP_NO_CURSOR:
			return "no next cursor";
		case NANGO_STOP_NO_URL:
			return "no next URL";
		case NANGO_STOP_EMPTY_PAGE:
			return "empty page";
		case NANGO_STOP_NO_PAGING:
			return "no paging configured";
		case NANGO_STOP_RESPONSE_PATH_MISSING:
			return "response_path missing";
	}
	return "unknown";
}

void
nango_pager_init(NangoPager *p, const NangoConfig *cfg, NangoHttp *http, MemoryContext cxt)
{
	memset(p, 0, sizeof(*p));
	p->cfg = cfg;
	p->http = http;
	p->cxt = cxt;
	p->body_method = (strcmp(cfg->method, "POST") == 0 || strcmp(cfg->method, "PUT") == 0 ||
					  strcmp(cfg->method, "PATCH") == 0);
	p->page_number = cfg->paging_number_start;
	p->seen_cap = 256;
	p->seen = MemoryContextAlloc(cxt, sizeof(uint64) * p->seen_cap);
}

void
nango_pager_add_param(NangoPager *p, const NangoPath *path, const char *value, bool is_number)
{
	MemoryContext old = MemoryContextSwitchTo(p->cxt);

	Assert(p->nextra < NANGO_MAX_PARAMS);
	p->extra[p->nextra].path = nango_path_dotted(path);
	p->extra[p->nextra].steps = path;
	p->extra[p->nextra].value = pstrdup(value);
	p->extra[p->nextra].is_number = is_number;
	p->nextra++;
	MemoryContextSwitchTo(old);
}

/*
 * add_value: one request value (the last one of a name wins): its query
 * parameter name and its steps in a body.
 */
static void
add_value(ReqValues *rv, const char *path, const NangoPath *steps, const char *value,
		  bool is_number)
{
	rv->v[rv->n].path = (char *) path;
	rv->v[rv->n].steps = steps;
	rv->v[rv->n].value = (char *) value;
	rv->v[rv->n].is_number = is_number;
	rv->n++;
}

/* request_values: what this page's request must carry besides the config. */
static void
request_values(NangoPager *p, ReqValues *rv)
{
	const NangoConfig *cfg = p->cfg;
	int			i;

	rv->n = 0;
	for (i = 0; i < p->nextra; i++)
		add_value(rv, p->extra[i].path, p->extra[i].steps, p->extra[i].value, p->extra[i].is_number);
	switch (cfg->paging)
	{
		case NANGO_PAGING_CURSOR_METADATA:
		case NANGO_PAGING_CURSOR_OBJECT:
			if (p->cursor != NULL && cfg->paging_cursor_request_path != NULL)
				add_value(rv, cfg->paging_cursor_request_path, cfg->paging_cursor_request_steps, p->cursor, p->cursor_is_number);
			break;
		case NANGO_PAGING_OFFSET:
			add_value(rv, cfg->paging_offset_request_path, cfg->paging_offset_request_steps,
					  psprintf(INT64_FORMAT, p->offset), true);
			add_value(rv, cfg->paging_limit_request_path, cfg->paging_limit_request_steps,
					  psprintf(INT64_FORMAT, cfg->paging_limit), true);
			break;
		case NANGO_PAGING_NUMBER:
			add_value(rv, cfg->paging_number_request_path, cfg->paging_number_request_steps,
					  psprintf(INT64_FORMAT, p->page_number), true);
			if (cfg->paging_limit_request_path != NULL && cfg->paging_limit > 0)
				add_value(rv, cfg->paging_limit_request_path, cfg->paging_limit_request_steps,
						  psprintf(INT64_FORMAT, cfg->paging_limit), true);
			break;
		default:
			break;
	}
}

/* overridden: does a request value replace the parameter called name? */
static bool
overridden(const ReqValues *rv, const char *name, int len)
{
	int			i;

	for (i = 0; i < rv->n; i++)
		if ((int) strlen(rv->v[i].path) == len && strncmp(rv->v[i].path, name, len) == 0)
			return true;
	return false;
}

/* append_param: "&name=value", URL-encoded. */
static void
append_param(NangoPager *p, StringInfo buf, const char *name, const char *value)
{
	if (buf->data[buf->len - 1] != '?')
		appendStringInfoChar(buf, '&');
	appendStringInfo(buf, "%s=%s", nango_url_escape(p->http, name),
					 nango_url_escape(p->http, value));
}

/*
 * build_url: the config URL with its own query (minus parameters nango
 * sets), then query_params, then nango's values when they go in the query.
 */
static char *
build_url(NangoPager *p, const ReqValues *rv)
{
	const NangoConfig *cfg = p->cfg;
	StringInfoData buf;
	const char *url = cfg->url;
	size_t		baselen = strcspn(url, "?#");
	const char *q = url[baselen] == '?' ? url + baselen + 1 : NULL;
	int			i;

	initStringInfo(&buf);
	appendBinaryStringInfo(&buf, url, baselen);
	appendStringInfoChar(&buf, '?');
	if (q != NULL)
	{
		const char *end = q + strcspn(q, "#");

		while (q < end)
		{
			const char *amp = memchr(q, '&', end - q);
			const char *stop = amp ? amp : end;
			int			namelen = strcspn(q, "=&#");

			if (namelen > stop - q)
				namelen = stop - q;
			if (stop > q && !(!p->body_method && overridden(rv, q, namelen)))
			{
				if (buf.data[buf.len - 1] != '?')
					appendStringInfoChar(&buf, '&');
				appendBinaryStringInfo(&buf, q, stop - q);
			}
			q = amp ? amp + 1 : end;
		}
	}
	for (i = 0; i < cfg->nparams; i++)
		if (p->body_method || !overridden(rv, cfg->params[i].name, strlen(cfg->params[i].name)))
			append_param(p, &buf, cfg->params[i].name, cfg->params[i].value);
	if (!p->body_method)
		for (i = 0; i < rv->n; i++)
			append_param(p, &buf, rv->v[i].path, rv->v[i].value);
	if (buf.data[buf.len - 1] == '?')
		buf.data[--buf.len] = '\0';
	return buf.data;
}

/*
 * body_set: puts value at a path of a cJSON object (its steps are keys),
 * creating nested objects.  Returns false when a non-object is in the
 * way.  Numbers are inserted as raw text so no digit is lost.
 */
static bool
body_set(cJSON *root, const NangoPath *path, const NangoParam *v)
{
	cJSON	   *cur = root;

	for (int i = 0; i < path->nsteps; i++)
	{
		const char *key = path->steps[i].key;
		cJSON	   *child;

		if (!cJSON_IsObject(cur) || key == NULL)
			return false;
		if (i == path->nsteps - 1)
		{
			cJSON	   *item = v->is_number ? cJSON_CreateRaw(v->value) : cJSON_CreateString(v->value);

			if (item == NULL)
				return false;
			cJSON_DeleteItemFromObjectCaseSensitive(cur, key);
			cJSON_AddItemToObject(cur, key, item);
			return true;
		}
		child = cJSON_GetObjectItemCaseSensitive(cur, key);
		if (child == NULL)
		{
			child = cJSON_AddObjectToObject(cur, key);
			if (child == NULL)
				return false;
		}
		cur = child;
	}
	return false;
}

/*
 * build_body: the config body with nango's values placed at their dot
 * paths (POST, PUT, PATCH).  cJSON memory is freed before any ERROR.
 */
static char *
build_body(NangoPager *p, const ReqValues *rv)
{
	cJSON	   *root;
	char	   *printed;
	char	   *result;
	int			i;
	const char *bad = NULL;

	if (rv->n == 0)
		return p->cfg->body ? pstrdup(p->cfg->body) : NULL;
	root = p->cfg->body ? cJSON_Parse(p->cfg->body) : cJSON_CreateObject();
	if (root == NULL || !cJSON_IsObject(root))
	{
		cJSON_Delete(root);
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot place \"%s\" in the request body: the body is not a JSON object",
						rv->v[0].path)));
	}
	for (i = 0; i < rv->n && bad == NULL; i++)
		if (!body_set(root, rv->v[i].steps, &rv->v[i]))
			bad = rv->v[i].path;
	printed = bad ? NULL : cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (bad != NULL || printed == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot place \"%s\" in the request body", bad ? bad : "?"),
				 errdetail("A value that is not a JSON object is in the way.")));
	result = pstrdup(printed);
	cJSON_free(printed);
	return result;
}

void
nango_pager_request(NangoPager *p, char **url, char **body)
{
	ReqValues	rv;

	if (p->next_url != NULL)
	{
		/* a next URL from the response is used as given */
		*url = pstrdup(p->next_url);
		*body = p->cfg->body ? pstrdup(p->cfg->body) : NULL;
		return;
	}
	request_values(p, &rv);
	*url = build_url(p, &rv);
	*body = p->body_method ? build_body(p, &rv) : (p->cfg->body ? pstrdup(p->cfg->body) : NULL);
}

/* ---------------------------------------------------------------------
 * Response side
 * ---------------------------------------------------------------------
 */

/*
 * mark_used: records a cursor or URL as used; a second use is a loop and
 * fails the job (an API that keeps answering the same cursor would
 * otherwise be read forever).
 */
static int
cmp_u64(const void *a, const void *b)
{
	uint64		x = *(const uint64 *) a;
	uint64		y = *(const uint64 *) b;

	return x < y ? -1 : (x > y);
}

/*
 * seen_before: adds h to the set of used cursors and URLs (8 bytes each: a
 * sorted array searched by bisection plus a short unsorted tail, sorted
 * in every 256 entries); returns true when it was already there.
 */
static bool
seen_before(NangoPager *p, uint64 h)
{
	int			i;

	if (bsearch(&h, p->seen, p->nsorted, sizeof(uint64), cmp_u64) != NULL)
		return true;
	for (i = p->nsorted; i < p->nseen; i++)
		if (p->seen[i] == h)
			return true;
	if (p->nseen == p->seen_cap)
	{
		p->seen_cap *= 2;
		p->seen = repalloc(p->seen, sizeof(uint64) * p->seen_cap);
	}
	p->seen[p->nseen++] = h;
	if (p->nseen - p->nsorted >= 256)
	{
		qsort(p->seen, p->nseen, sizeof(uint64), cmp_u64);
		p->nsorted = p->nseen;
	}
	return false;
}

static void
mark_used(NangoPager *p, const char *what, const char *value)
{
	if (seen_before(p, hash_text(value)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("paging loop: the response gave %s \"%s\", which this job already used",
						what, strcmp(what, "the next URL") == 0
						? nango_redact_url(value, NULL) : value),
				 errhint("Check the paging configuration of the sync.")));
}

/* set_string: replaces a string kept across pages (in the job's context). */
static void
set_string(NangoPager *p, char **field, const char *value)
{
	if (*field != NULL)
		pfree(*field);
	*field = value ? MemoryContextStrdup(p->cxt, value) : NULL;
}

/*
 * cursor_value: the usable text of a cursor or next URL found at a path, or
 * NULL when paging ends there (missing, null, "", false).
 */
static char *
cursor_value(bool found, JsonbValue *v, bool *is_number)
{
	*is_number = false;
	if (!found || v->type == jbvNull)
		return NULL;
	if (v->type == jbvBool && !v->val.boolean)
		return NULL;
	if (v->type == jbvString && v->val.string.len == 0)
		return NULL;
	if (v->type == jbvBinary)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the paging value in the response is a JSON object or array, not a cursor")));
	*is_number = (v->type == jbvNumeric);
	return nango_scalar_text(v);
}

/* take_cursor: a cursor for the next request, or the end of paging. */
static void
take_cursor(NangoPager *p, bool found, JsonbValue *v)
{
	bool		is_number;
	char	   *c = cursor_value(found, v, &is_number);

	if (c == NULL)
	{
		p->done = true;
		p->stop = NANGO_STOP_NO_CURSOR;
		return;
	}
	mark_used(p, "the cursor", c);
	set_string(p, &p->cursor, c);
	p->cursor_is_number = is_number;
}

/*
 * encode_unsafe: ref with the bytes a URL cannot carry as they are
 * percent-encoded: space, control characters, non-ASCII bytes and
 * " < > \ ^ ` { | }.  Every other byte is kept, existing %XX sequences
 * included, so the URL is otherwise used exactly as the API gave it (as
 * Figma's next URLs with a raw space in a timestamp).
 */
static char *
encode_unsafe(const char *ref)
{
	static const char hex[] = "0123456789ABCDEF";
	StringInfoData buf;

	initStringInfo(&buf);
	for (const unsigned char *c = (const unsigned char *) ref; *c; c++)
	{
		if (*c <= 0x20 || *c >= 0x7f || strchr("\"<>\\^`{|}", *c) != NULL)
		{
			appendStringInfoChar(&buf, '%');
			appendStringInfoChar(&buf, hex[*c >> 4]);
			appendStringInfoChar(&buf, hex[*c & 15]);
		}
		else
			appendStringInfoChar(&buf, (char) *c);
	}
	return buf.data;
}

/* take_url: a next URL (absolute or relative to the page's URL), or the end. */
static void
take_url(NangoPager *p, const char *ref, const NangoResponse *resp)
{
	char	   *abs;

	if (ref == NULL || ref[0] == '\0')
	{
		p->done = true;
		p->stop = NANGO_STOP_NO_URL;
		return;
	}
	ref = encode_unsafe(ref);
	abs = nango_url_resolve(resp->effective_url, ref);
	if (abs == NULL || (pg_strncasecmp(abs, "http://", 7) != 0 &&
						pg_strncasecmp(abs, "https://", 8) != 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the next page URL in the response is not a valid http(s) URL: \"%s\"",
						nango_redact_url(ref, NULL))));
	if (p->next_url == NULL)
		mark_used(p, "the next URL", resp->effective_url);
	mark_used(p, "the next URL", abs);
	set_string(p, &p->next_url, abs);
}

/* same_page: an offset or page-number API that ignores the parameter. */
static void
check_same_page(NangoPager *p, uint64 page_hash)
{
	if (p->have_prev_page && p->prev_page_hash == page_hash)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("paging loop: this page has the same records as the previous page"),
				 errhint("The API may ignore the offset or page parameter; check %s.",
						 p->cfg->paging == NANGO_PAGING_OFFSET
						 ? "paging_offset_request_path" : "paging_number_request_path")));
	p->prev_page_hash = page_hash;
	p->have_prev_page = true;
}

void
nango_pager_advance(NangoPager *p, Jsonb *body, int nrecords, JsonbValue *last_record,
					uint64 page_hash, const NangoResponse *resp, int64 remaining_total)
{
	const NangoConfig *cfg = p->cfg;
	JsonbValue	v;
	bool		found;

	if (remaining_total == 0)
	{
		p->done = true;
		p->stop = NANGO_STOP_MAX_TOTAL;
		return;
	}
	switch (cfg->paging)
	{
		case NANGO_PAGING_CURSOR_METADATA:
			found = nango_jsonb_steps_get(body, cfg->paging_response_steps, &v);
			take_cursor(p, found, &v);
			break;
		case NANGO_PAGING_CURSOR_OBJECT:
			if (nrecords == 0 || last_record == NULL)
			{
				p->done = true;
				p->stop = NANGO_STOP_EMPTY_PAGE;
				break;
			}
			found = last_record->type == jbvBinary &&
				nango_steps_get(last_record->val.binary.data, cfg->paging_response_steps, &v);
			take_cursor(p, found, &v);
			break;
		case NANGO_PAGING_URL:
			{
				bool		is_number;
				char	   *ref;

				found = nango_jsonb_steps_get(body, cfg->paging_response_steps, &v);
				ref = cursor_value(found, &v, &is_number);
				if (ref != NULL && is_number)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("the value at paging_url_path \"%s\" is a number, not a URL",
									cfg->paging_response_path)));
				take_url(p, ref, resp);
			}
			break;
		case NANGO_PAGING_LINK:
			take_url(p, resp->link ? nango_link_find(resp->link, cfg->paging_response_path) : NULL,
					 resp);
			break;
		case NANGO_PAGING_OFFSET:
		case NANGO_PAGING_NUMBER:
			if (nrecords == 0)
			{
				p->done = true;
				p->stop = NANGO_STOP_EMPTY_PAGE;
				break;
			}
			check_same_page(p, page_hash);
			if (cfg->paging == NANGO_PAGING_OFFSET)
				p->offset += nrecords;
			else
				p->page_number++;
			break;
		case NANGO_PAGING_NONE:
			p->done = true;
			p->stop = NANGO_STOP_NO_PAGING;
			break;
	}
}

/*
 * nango_pager_note_restored: after the pager's state was set from a page
 * memo instead of a response: its next cursor or URL counts as used, so a
 * loop through skipped and fetched pages is still found.
 */
void
nango_pager_note_restored(NangoPager *p)
{
	if (p->done)
		return;
	if (p->next_url != NULL)
		mark_used(p, "the next URL", p->next_url);
	else if (p->cursor != NULL)
		mark_used(p, "the cursor", p->cursor);
}

/* ---------------------------------------------------------------------
 * Link header (RFC 8288)
 * ---------------------------------------------------------------------
 */

static const char *
skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/*
 * rel_matches: does a rel value (a space-separated list of relation
 * types) contain rel?  Relation types compare case-insensitively.
 */
static bool
rel_matches(const char *val, int len, const char *rel)
{
	int			rlen = strlen(rel);
	int			i = 0;

	while (i < len)
	{
		int			start;

		while (i < len && (val[i] == ' ' || val[i] == '\t'))
			i++;
		start = i;
		while (i < len && val[i] != ' ' && val[i] != '\t')
			i++;
		if (i - start == rlen && pg_strncasecmp(val + start, rel, rlen) == 0)
			return true;
	}
	return false;
}

/*
 * parse_param: one ";name=value" parameter at s; sets name/value spans and
 * returns the position after it.  Values may be quoted (with \ escapes
 * kept as is: rel values never need them) or bare tokens.
 */
static const char *
parse_param(const char *s, const char **name, int *namelen, const char **val, int *vallen)
{
	s = skip_ws(s);
	*name = s;
	while (*s && *s != '=' && *s != ';' && *s != ',' && *s != ' ' && *s != '\t')
		s++;
	*namelen = s - *name;
	s = skip_ws(s);
	*val = NULL;
	*vallen = 0;
	if (*s != '=')
		return s;
	s = skip_ws(s + 1);
	if (*s == '"')
	{
		*val = ++s;
		while (*s && *s != '"')
			s += (*s == '\\' && s[1]) ? 2 : 1;
		*vallen = s - *val;
		if (*s == '"')
			s++;
	}
	else
	{
		*val = s;
		while (*s && *s != ';' && *s != ',' && *s != ' ' && *s != '\t')
			s++;
		*vallen = s - *val;
	}
	return skip_ws(s);
}

char *
nango_link_find(const char *header, const char *rel)
{
	const char *s = header;

	while (*s)
	{
		const char *url;
		int			urllen;
		bool		match = false;

		s = skip_ws(s);
		if (*s == ',')
		{
			s++;
			continue;
		}
		if (*s != '<')
		{
			/* not a link-value: skip to the next comma */
			s += strcspn(s, ",");
			continue;
		}
		url = ++s;
		while (*s && *s != '>')
			s++;
		urllen = s - url;
		if (*s == '>')
			s++;
		s = skip_ws(s);
		while (*s == ';')
		{
			const char *name;
			const char *val;
			int			namelen;
			int			vallen;

			s = parse_param(s + 1, &name, &namelen, &val, &vallen);
			if (namelen == 3 && pg_strncasecmp(name, "rel", 3) == 0 && val != NULL &&
				rel_matches(val, vallen, rel))
				match = true;
		}
		if (match)
			return pnstrdup(url, urllen);
		s += strcspn(s, ",");
	}
	return NULL;
}
