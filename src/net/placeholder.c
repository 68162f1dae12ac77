/*-------------------------------------------------------------------------
 *
 * placeholder.c
 *	  Writes credentials into a job's in-memory config: ${secret:name}
 *	  (the sync owner's secrets, docs/security.md) and the Pizzly token
 *	  placeholders (docs/config.md).  The config's request strings are kept
 *	  as templates, so a token fetched again after a 401 replaces the first
 *	  one; each string is rewritten in one pass, so a substituted value is
 *	  never read again as a placeholder.  Every form in which a value is
 *	  sent (as it is, URL-encoded, JSON-escaped) joins the job's redaction
 *	  set before any request is made.  The stored config only ever holds
 *	  the placeholders.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "utils/json.h"
#include "utils/memutils.h"

#include "jsonpath.h"
#include "placeholder.h"
#include "text.h"

/* Where a value goes, which decides how it is written there. */
typedef enum FillPlace
{
	PLACE_URL,					/* URL-encoded */
	PLACE_HEADER,				/* as it is; no line break allowed */
	PLACE_PARAM,				/* as it is; the request builder encodes it */
	PLACE_BODY					/* JSON-escaped, inside a JSON string */
} FillPlace;

struct NangoFill
{
	NangoConfig *cfg;			/* the job's config, rewritten by apply */
	NangoSecrets *redact;
	MemoryContext cxt;
	int			nsecrets;
	const NangoSecretValue *secrets;
	/* the values as configured, placeholders unreplaced */
	char	   *url;
	int			nheaders;
	NangoPair  *headers;
	char	  **params;
	char	   *body;
};

/* json_inner: value JSON-escaped, without the enclosing quotes. */
static char *
json_inner(const char *value)
{
	StringInfoData js;

	initStringInfo(&js);
	escape_json(&js, value);
	js.data[js.len - 1] = '\0';
	return js.data + 1;
}

/*
 * encode: value as written at place; the encoded form joins the redaction
 * set.  A line break cannot go into a header (it would add headers).
 */
static char *
encode(NangoFill *f, const char *what, const char *value, FillPlace place)
{
	char	   *out;

	switch (place)
	{
		case PLACE_URL:
			out = nango_url_escape(NULL, value);
			break;
		case PLACE_BODY:
			out = json_inner(value);
			break;
		default:
			if (place == PLACE_HEADER && strpbrk(value, "\r\n") != NULL)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("%s contains a line break and cannot be sent in a header", what),
						 errhint("Use it in the URL, query_params or body instead, or set a value without line breaks.")));
			out = pstrdup(value);
			break;
	}
	nango_secrets_add(f->redact, out);
	return out;
}

/* lookup: the value of secret name (len bytes), or NULL. */
static const NangoSecretValue *
lookup(const NangoFill *f, const char *name, int len)
{
	for (int i = 0; i < f->nsecrets; i++)
		if ((int) strlen(f->secrets[i].name) == len && memcmp(f->secrets[i].name, name, len) == 0)
			return &f->secrets[i];
	return NULL;
}

/*
 * fill_one: s with its placeholders replaced (NULL stays NULL), scanning
 * s once: the text of a value is never scanned again.
 */
static char *
fill_one(NangoFill *f, const char *s, const char *token, FillPlace place)
{
	StringInfoData buf;
	const char *p;

	if (s == NULL)
		return NULL;
	initStringInfo(&buf);
	p = s;
	for (;;)
	{
		const char *open = strstr(p, "${");
		const char *close;
		const char *name;
		int			len;

		if (open == NULL)
			break;
		close = strchr(open + 2, '}');
		if (close == NULL)
			break;
		name = open + 2;
		len = close - name;
		appendBinaryStringInfo(&buf, p, open - p);
		if (token != NULL && ((len == 17 && memcmp(name, "pizzlyAccessToken", 17) == 0) ||
							  (len == 16 && memcmp(name, "nangoAccessToken", 16) == 0)))
			appendStringInfoString(&buf, encode(f, "the access token", token, place));
		else if (len > 7 && memcmp(name, "secret:", 7) == 0 && lookup(f, name + 7, len - 7) != NULL)
		{
			const NangoSecretValue *sv = lookup(f, name + 7, len - 7);

			appendStringInfoString(&buf, encode(f, psprintf("secret \"%s\"", sv->name),
												sv->value, place));
		}
		else
		{
			/* not ours (e.g. ${parent.id}): kept, scanning goes on after "${" */
			appendStringInfoString(&buf, "${");
			p = open + 2;
			continue;
		}
		p = close + 1;
	}
	appendStringInfoString(&buf, p);
	return buf.data;
}

/* nango_secrets_add_forms: see placeholder.h. */
void
nango_secrets_add_forms(NangoSecrets *redact, const char *value)
{
	nango_secrets_add(redact, value);
	nango_secrets_add(redact, nango_url_escape(NULL, value));
	nango_secrets_add(redact, json_inner(value));
	/* a JSON body with the value, echoed inside a JSON string */
	nango_secrets_add(redact, json_inner(json_inner(value)));
}

/* nango_fill_begin: see placeholder.h. */
NangoFill *
nango_fill_begin(NangoConfig *cfg, int nsecrets, const NangoSecretValue *secrets,
				 NangoSecrets *redact, MemoryContext cxt)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);
	NangoFill  *f = palloc0(sizeof(NangoFill));

	f->cfg = cfg;
	f->redact = redact;
	f->cxt = cxt;
	f->nsecrets = nsecrets;
	f->secrets = secrets;
	for (int i = 0; i < nsecrets; i++)
		nango_secrets_add_forms(redact, secrets[i].value);
	f->url = pstrdup(cfg->url);
	f->body = cfg->body;
	f->nheaders = cfg->nheaders;
	f->headers = palloc(sizeof(NangoPair) * (cfg->nheaders + 1));
	memcpy(f->headers, cfg->headers, sizeof(NangoPair) * cfg->nheaders);
	/* the job's copy gets its own arrays (room for one more header) */
	cfg->headers = palloc(sizeof(NangoPair) * (cfg->nheaders + 1));
	memcpy(cfg->headers, f->headers, sizeof(NangoPair) * cfg->nheaders);
	f->params = palloc(sizeof(char *) * (cfg->nparams + 1));
	for (int i = 0; i < cfg->nparams; i++)
		f->params[i] = cfg->params[i].value;
	{
		NangoPair  *params = palloc(sizeof(NangoPair) * (cfg->nparams + 1));

		memcpy(params, cfg->params, sizeof(NangoPair) * cfg->nparams);
		cfg->params = params;
	}
	MemoryContextSwitchTo(old);
	return f;
}

/* nango_fill_apply: see placeholder.h. */
void
nango_fill_apply(NangoFill *f, const char *token)
{
	NangoConfig *cfg = f->cfg;
	MemoryContext old = MemoryContextSwitchTo(f->cxt);

	cfg->url = fill_one(f, f->url, token, PLACE_URL);
	cfg->nheaders = f->nheaders;
	for (int i = 0; i < f->nheaders; i++)
	{
		cfg->headers[i].name = f->headers[i].name;
		cfg->headers[i].value = fill_one(f, f->headers[i].value, token, PLACE_HEADER);
	}
	for (int i = 0; i < cfg->nparams; i++)
		cfg->params[i].value = fill_one(f, f->params[i], token, PLACE_PARAM);
	cfg->body = fill_one(f, f->body, token, PLACE_BODY);
	MemoryContextSwitchTo(old);
}

/* has_token: does s contain either token placeholder? */
static bool
has_token(const char *s)
{
	return s != NULL &&
		(strstr(s, NANGO_PIZZLY_PLACEHOLDER) != NULL || strstr(s, NANGO_NANGO_PLACEHOLDER) != NULL);
}

/* nango_fill_has_token_placeholder: see placeholder.h. */
bool
nango_fill_has_token_placeholder(const NangoFill *f)
{
	bool		found = has_token(f->url) || has_token(f->body);

	for (int i = 0; i < f->nheaders && !found; i++)
		found = has_token(f->headers[i].value);
	for (int i = 0; i < f->cfg->nparams && !found; i++)
		found = has_token(f->params[i]);
	return found;
}

/* nango_secret_name_valid: see placeholder.h. */
bool
nango_secret_name_valid(const char *name, int len)
{
	if (len <= 0 || len >= NAMEDATALEN)
		return false;
	for (int i = 0; i < len; i++)
	{
		char		c = name[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
			  (i > 0 && c >= '0' && c <= '9')))
			return false;
	}
	return true;
}

/*
 * add_refs: the secret names s references, appended to names (each once);
 * key is the config key s comes from, for the error.
 */
static List *
add_refs(List *names, const char *s, const char *key)
{
	const char *p = s;
	size_t		plen = strlen(NANGO_SECRET_PREFIX);

	while (p != NULL && (p = strstr(p, NANGO_SECRET_PREFIX)) != NULL)
	{
		const char *name = p + plen;
		const char *close = strchr(name, '}');
		char	   *n;
		ListCell   *lc;
		bool		seen = false;

		if (close == NULL || !nango_secret_name_valid(name, close - name))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("config key \"%s\" has an invalid secret reference \"%.*s\"", key,
							close ? (int) (close - p + 1) : (int) Min(strlen(p), 80), p),
					 errhint("Write ${secret:name}, where name is made of letters, digits and underscores, "
							 "does not start with a digit and has at most %d bytes.", NAMEDATALEN - 1)));
		n = pnstrdup(name, close - name);
		foreach(lc, names)
			seen |= strcmp(lfirst(lc), n) == 0;
		if (!seen)
			names = lappend(names, n);
		p = close + 1;
	}
	return names;
}

/* nango_secret_refs: see placeholder.h. */
List *
nango_secret_refs(const NangoConfig *cfg)
{
	List	   *names = NIL;

	names = add_refs(names, cfg->url, "url");
	for (int i = 0; i < cfg->nheaders; i++)
		names = add_refs(names, cfg->headers[i].value, "headers");
	for (int i = 0; i < cfg->nparams; i++)
		names = add_refs(names, cfg->params[i].value, "query_params");
	if (cfg->body != NULL)
		names = add_refs(names, cfg->body, "body");
	return names;
}

/* ---------------------------------------------------------------------
 * ${parent.<path>}: a parent record's values in a child sync's requests
 * ---------------------------------------------------------------------
 */

/* Where a parent value goes. */
typedef enum ParentPlace
{
	PARENT_URL,					/* path or query of the URL, by position */
	PARENT_PARAM,				/* a query_params value */
	PARENT_HEADER,				/* a header value */
	PARENT_BODY					/* the JSON body */
} ParentPlace;

/*
 * path_escape: value for a URL path: unreserved characters, sub-delims,
 * ':', '@' and '/' as they are, every other byte percent-encoded; a
 * segment made only of dots ("." or "..") has its dots encoded, so a
 * value cannot move the request up the path.
 */
static void
path_escape(StringInfo buf, const char *value)
{
	static const char hex[] = "0123456789ABCDEF";
	const char *seg = value;

	for (const char *c = value; *c; c++)
	{
		unsigned char ch = (unsigned char) *c;

		if (ch == '/')
			seg = c + 1;
		if (ch == '.')
		{
			const char *e = c;

			while (*e == '.')
				e++;
			if (c == seg && (*e == '/' || *e == '\0'))
			{
				for (; c < e; c++)
					appendStringInfoString(buf, "%2E");
				c--;
				continue;
			}
		}
		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
			strchr("-._~!$&'()*+,;=:@/", ch) != NULL)
			appendStringInfoChar(buf, (char) ch);
		else
		{
			appendStringInfoChar(buf, '%');
			appendStringInfoChar(buf, hex[ch >> 4]);
			appendStringInfoChar(buf, hex[ch & 15]);
		}
	}
}

/*
 * parent_value: the record's scalar at the dot path (len bytes at path);
 * false for a missing, null, object or array value.  *json gets the
 * value as JSON text (for a whole body string), *text as text.
 */
static bool
parent_value(Jsonb *record, const char *path, int len, char **text, char **json)
{
	JsonbValue	v;
	Jsonb	   *jb;

	if (len <= 0 || !nango_jsonb_steps_get(record, nango_path_from_dots(pnstrdup(path, len)), &v))
		return false;
	if (v.type == jbvNull || v.type == jbvBinary)
		return false;
	*text = nango_scalar_text(&v);
	if (*text == NULL)
		return false;
	jb = JsonbValueToJsonb(&v);
	*json = JsonbToCString(NULL, &jb->root, VARSIZE(jb));
	return true;
}

/*
 * parent_one: s with each ${parent.<path>} replaced by the record's value
 * in the form place needs (see nango_parent_fill); NULL stays NULL.
 * Returns false, with *missing set, when a value is missing.
 */
static bool
parent_one(const char *s, Jsonb *record, ParentPlace place, char **out, char **missing)
{
	StringInfoData buf;
	const char *p = s;
	size_t		plen = strlen(NANGO_PARENT_PREFIX);
	bool		query = false;

	*out = NULL;
	if (s == NULL)
		return true;
	initStringInfo(&buf);
	for (;;)
	{
		const char *open = strstr(p, NANGO_PARENT_PREFIX);
		const char *close = open ? strchr(open + plen, '}') : NULL;
		const char *path;
		char	   *text;
		char	   *json;

		if (close == NULL)
			break;
		path = open + plen;
		if (place == PARENT_URL && !query)
			query = memchr(p, '?', open - p) != NULL || memchr(p, '#', open - p) != NULL;
		if (!parent_value(record, path, close - path, &text, &json) ||
			(place == PARENT_HEADER && strpbrk(text, "\r\n") != NULL))
		{
			*missing = pnstrdup(path, close - path);
			return false;
		}
		appendBinaryStringInfo(&buf, p, open - p);
		if (place == PARENT_URL && query)
			appendStringInfoString(&buf, nango_url_escape(NULL, text));
		else if (place == PARENT_URL)
			path_escape(&buf, text);
		else if (place == PARENT_BODY && open > s && open[-1] == '"' && close[1] == '"' &&
				 !(open - s >= 2 && open[-2] == '\\'))
		{
			/* the whole JSON string: the value itself, of its own type */
			buf.len--;
			buf.data[buf.len] = '\0';
			appendStringInfoString(&buf, json);
			close++;
		}
		else if (place == PARENT_BODY)
			appendStringInfoString(&buf, json_inner(text));
		else
			appendStringInfoString(&buf, text);
		p = close + 1;
	}
	appendStringInfoString(&buf, p);
	*out = buf.data;
	return true;
}

/* nango_parent_fill_into: see placeholder.h. */
bool
nango_parent_fill_into(const NangoConfig *cfg, Jsonb *record, NangoConfig *out, char **missing)
{
	char	   *url;
	char	   *body;
	NangoPair  *headers = palloc(sizeof(NangoPair) * (cfg->nheaders + 1));
	NangoPair  *params = palloc(sizeof(NangoPair) * (cfg->nparams + 1));

	if (!parent_one(cfg->url, record, PARENT_URL, &url, missing) ||
		!parent_one(cfg->body, record, PARENT_BODY, &body, missing))
		return false;
	for (int i = 0; i < cfg->nheaders; i++)
	{
		headers[i].name = cfg->headers[i].name;
		if (!parent_one(cfg->headers[i].value, record, PARENT_HEADER, &headers[i].value, missing))
			return false;
	}
	for (int i = 0; i < cfg->nparams; i++)
	{
		params[i].name = cfg->params[i].name;
		if (!parent_one(cfg->params[i].value, record, PARENT_PARAM, &params[i].value, missing))
			return false;
	}
	out->url = url;
	out->body = body;
	out->headers = headers;
	out->nheaders = cfg->nheaders;
	out->params = params;
	out->nparams = cfg->nparams;
	return true;
}

/* nango_parent_fill: see placeholder.h. */
NangoConfig *
nango_parent_fill(const NangoConfig *cfg, Jsonb *record, char **missing)
{
	NangoConfig *out = palloc(sizeof(NangoConfig));

	*out = *cfg;
	return nango_parent_fill_into(cfg, record, out, missing) ? out : NULL;
}
