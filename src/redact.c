/*-------------------------------------------------------------------------
 *
 * redact.c
 *	  Secret redaction of URLs and texts (SPEC section 5: header values,
 *	  tokens and secret-looking query parameters never appear in log lines,
 *	  job rows, error messages or NOTIFY payloads).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include <cjson/cJSON.h>

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"

#include "redact.h"

/* Name fragments that mark a query parameter as secret (case-insensitive). */
static const char *const secret_words[] = {
	"token", "key", "secret", "password", "passwd", "pwd", "signature",
	"auth", "credential", "session", "sid", NULL
};

/*
 * nango_secret_name: does a parameter name look like it carries a secret?
 * Matches any of secret_words as a substring, ignoring case, so api_key,
 * access_token, X-Api-Key and hapikey all match.
 */
bool
nango_secret_name(const char *name, int len)
{
	char		lower[128];
	int			i;

	if (len <= 0)
		return false;
	if (len >= (int) sizeof(lower))
		len = sizeof(lower) - 1;
	for (i = 0; i < len; i++)
		lower[i] = pg_tolower((unsigned char) name[i]);
	lower[len] = '\0';
	for (i = 0; secret_words[i] != NULL; i++)
		if (strstr(lower, secret_words[i]) != NULL)
			return true;
	/* Azure's shared access signatures: too short to match as a part */
	return strcmp(lower, "sig") == 0;
}

/* known_secret: whether value is remembered already (either list). */
static bool
known_secret(const NangoSecrets *secrets, const char *value)
{
	for (int i = 0; i < secrets->n; i++)
		if (strcmp(secrets->values[i], value) == 0)
			return true;
	for (int i = 0; i < secrets->nurl; i++)
		if (strcmp(secrets->url_values[i], value) == 0)
			return true;
	return false;
}

/*
 * nango_secrets_add: remember a secret value.  Values shorter than 4 bytes
 * are ignored (replacing them everywhere would garble texts, and they are
 * not secrets worth the name).
 */
void
nango_secrets_add(NangoSecrets *secrets, const char *value)
{
	if (value == NULL || strlen(value) < 4 || known_secret(secrets, value))
		return;
	if (secrets->n == 0)
		secrets->values = palloc(sizeof(char *) * 8);
	else if ((secrets->n & 7) == 0)
		secrets->values = repalloc(secrets->values, sizeof(char *) * (secrets->n + 8));
	secrets->values[secrets->n++] = pstrdup(value);
}

/* param_name_char: a character of a query parameter's name in a text */
static inline bool
param_name_char(char c)
{
	/* ';' and '%' let "&amp;token=" and encoded names through */
	return isalnum((unsigned char) c) || c == '_' || c == '-' || c == '.' || c == ';' || c == '%';
}

/*
 * redact_params: replaces the values of secret-looking query parameters
 * written in a text ("?name=value" or "&name=value", as in a next URL
 * echoed in a response body or a URL in an error page), up to the next
 * '&', '#', quote, backslash, white space, angle bracket, comma or closing
 * bracket (tokens do not contain those; a known secret is replaced whole
 * anyway).  Returns text itself
 * when there is none.
 */
static char *
redact_params(char *text)
{
	StringInfoData buf;
	const char *p = text;
	bool		changed = false;

	initStringInfo(&buf);
	while (*p)
	{
		const char *q = p + 1;

		if ((*p != '?' && *p != '&') || !param_name_char(*q))
		{
			appendStringInfoChar(&buf, *p++);
			continue;
		}
		while (param_name_char(*q))
			q++;
		if (*q != '=' || !nango_secret_name(p + 1, (int) (q - p - 1)))
		{
			appendBinaryStringInfo(&buf, p, q - p);
			p = q;
			continue;
		}
		appendBinaryStringInfo(&buf, p, q - p + 1);
		appendStringInfoString(&buf, NANGO_REDACTED);
		p = q + 1;
		while (*p && strchr("&#\"'\\ \t\r\n<>,)]}", *p) == NULL)
			p++;
		changed = true;
	}
	if (!changed)
	{
		pfree(buf.data);
		return text;
	}
	pfree(text);
	return buf.data;
}

/*
 * nango_redact_text: replaces every occurrence of every secret value, and of
 * the part after "Bearer "/"Basic " of a secret header value, by REDACTED,
 * and the values of secret-looking query parameters written in the text.
 */
char *
nango_redact_text(const char *text, const NangoSecrets *secrets)
{
	char	   *cur;
	int			i;

	if (text == NULL)
		return NULL;
	cur = redact_params(pstrdup(text));
	if (secrets == NULL)
		return cur;
	for (i = 0; i < secrets->n + secrets->nurl; i++)
	{
		const char *secret = i < secrets->n ? secrets->values[i] : secrets->url_values[i - secrets->n];
		size_t		slen = strlen(secret);
		const char *p;
		const char *hit;
		StringInfoData buf;

		if (strstr(cur, secret) == NULL)
			continue;
		initStringInfo(&buf);
		p = cur;
		while ((hit = strstr(p, secret)) != NULL)
		{
			appendBinaryStringInfo(&buf, p, hit - p);
			appendStringInfoString(&buf, NANGO_REDACTED);
			p = hit + slen;
		}
		appendStringInfoString(&buf, p);
		pfree(cur);
		cur = buf.data;
	}
	return cur;
}

/*
 * redact_query: appends query (without '?') to buf with the values of
 * secret-looking parameters replaced.
 */
static void
redact_query(StringInfo buf, const char *query, const char *end)
{
	const char *p = query;

	while (p < end)
	{
		const char *amp = memchr(p, '&', end - p);
		const char *stop = amp ? amp : end;
		const char *eq = memchr(p, '=', stop - p);

		if (eq != NULL && nango_secret_name(p, eq - p))
		{
			appendBinaryStringInfo(buf, p, eq - p + 1);
			appendStringInfoString(buf, NANGO_REDACTED);
		}
		else
			appendBinaryStringInfo(buf, p, stop - p);
		if (amp == NULL)
			break;
		appendStringInfoChar(buf, '&');
		p = amp + 1;
	}
}

/*
 * nango_redact_url: see redact.h.  Works on the text of the URL so that
 * even a malformed URL is redacted rather than shown as is.
 */
char *
nango_redact_url(const char *url, const NangoSecrets *secrets)
{
	StringInfoData buf;
	const char *scheme_end;
	const char *auth_start;
	const char *path_start;
	const char *q;
	const char *frag;
	char	   *result;

	if (url == NULL)
		return NULL;
	initStringInfo(&buf);
	scheme_end = strstr(url, "://");
	auth_start = scheme_end ? scheme_end + 3 : url;
	path_start = auth_start + strcspn(auth_start, "/?#");

	/* user:password@ in the authority */
	{
		const char *at = memchr(auth_start, '@', path_start - auth_start);

		if (at != NULL)
		{
			const char *colon = memchr(auth_start, ':', at - auth_start);

			appendBinaryStringInfo(&buf, url, auth_start - url);
			if (colon != NULL)
			{
				appendBinaryStringInfo(&buf, auth_start, colon - auth_start + 1);
				appendStringInfoString(&buf, NANGO_REDACTED);
			}
			else
				appendStringInfoString(&buf, NANGO_REDACTED);
			appendBinaryStringInfo(&buf, at, path_start - at);
		}
		else
			appendBinaryStringInfo(&buf, url, path_start - url);
	}

	q = strchr(path_start, '?');
	frag = strchr(path_start, '#');
	if (q != NULL && frag != NULL && frag < q)
		q = NULL;
	if (q == NULL)
		appendStringInfoString(&buf, path_start);
	else
	{
		const char *qend = frag ? frag : q + strlen(q);

		appendBinaryStringInfo(&buf, path_start, q - path_start + 1);
		redact_query(&buf, q + 1, qend);
		appendStringInfoString(&buf, qend);
	}
	result = nango_redact_text(buf.data, secrets);
	pfree(buf.data);
	return result;
}

int
nango_secrets_maxlen(const NangoSecrets *secrets)
{
	int			max = 0;
	int			i;

	if (secrets == NULL)
		return 0;
	for (i = 0; i < secrets->n; i++)
		max = Max(max, (int) strlen(secrets->values[i]));
	for (i = 0; i < secrets->nurl; i++)
		max = Max(max, (int) strlen(secrets->url_values[i]));
	return max;
}

/*
 * add_url_secret: adds a secret found in a URL to the ring of URL secrets
 * (the oldest one leaves when it is full); known values are skipped.
 */
static void
add_url_secret(NangoSecrets *secrets, char *value)
{
	if (strlen(value) < 4 || known_secret(secrets, value))
		return;
	if (secrets->nurl < NANGO_URL_SECRETS)
		secrets->url_values[secrets->nurl++] = pstrdup(value);
	else
	{
		pfree(secrets->url_values[secrets->url_next]);
		secrets->url_values[secrets->url_next] = pstrdup(value);
		secrets->url_next = (secrets->url_next + 1) % NANGO_URL_SECRETS;
	}
}

/* hexval: the value of a hex digit, or -1. */
static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * add_value: adds a URL component value as written and percent-decoded
 * ('+' read as a space too), for the whole job (keep) or to the ring.
 */
static void
add_value(NangoSecrets *secrets, const char *v, int len, bool keep)
{
	char	   *raw = pnstrdup(v, len);
	char	   *dec = palloc(len + 1);
	int			i;
	int			n = 0;

	for (i = 0; i < len; i++)
	{
		if (v[i] == '%' && i + 2 < len &&
			hexval(v[i + 1]) >= 0 && hexval(v[i + 2]) >= 0)
		{
			dec[n++] = (char) (hexval(v[i + 1]) * 16 + hexval(v[i + 2]));
			i += 2;
		}
		else
			dec[n++] = v[i] == '+' ? ' ' : v[i];
	}
	dec[n] = '\0';
	if (keep)
	{
		nango_secrets_add(secrets, raw);
		if (strlen(dec) == (size_t) n)
			nango_secrets_add(secrets, dec);
	}
	else
	{
		add_url_secret(secrets, raw);
		if (strlen(dec) == (size_t) n)
			add_url_secret(secrets, dec);
	}
}

void
nango_secrets_add_url(NangoSecrets *secrets, const char *url, bool keep)
{
	const char *auth_start;
	const char *path_start;
	const char *at;
	const char *p;
	const char *end;

	if (url == NULL)
		return;
	auth_start = strstr(url, "://");
	auth_start = auth_start ? auth_start + 3 : url;
	path_start = auth_start + strcspn(auth_start, "/?#");
	at = memchr(auth_start, '@', path_start - auth_start);
	if (at != NULL)
	{
		const char *colon = memchr(auth_start, ':', at - auth_start);

		if (colon != NULL)
			add_value(secrets, colon + 1, at - colon - 1, keep);
	}
	p = strchr(path_start, '?');
	if (p == NULL)
		return;
	p++;
	end = p + strcspn(p, "#");
	while (p < end)
	{
		const char *amp = memchr(p, '&', end - p);
		const char *stop = amp ? amp : end;
		const char *eq = memchr(p, '=', stop - p);

		if (eq != NULL && nango_secret_name(p, eq - p))
			add_value(secrets, eq + 1, stop - eq - 1, keep);
		p = stop + 1;
	}
}

/*
 * add_json_secrets: walks a cJSON tree; values under a secret-looking key
 * (strings, numbers, and every scalar inside an object or array under
 * such a key) are secrets.
 */
static void
add_json_secrets(NangoSecrets *secrets, const cJSON *item, bool secret)
{
	const cJSON *child;

	if (cJSON_IsString(item) && secret)
		nango_secrets_add(secrets, item->valuestring);
	else if (cJSON_IsNumber(item) && secret)
	{
		char	   *printed = cJSON_PrintUnformatted(item);

		if (printed != NULL)
		{
			nango_secrets_add(secrets, printed);
			cJSON_free(printed);
		}
	}
	cJSON_ArrayForEach(child, item)
	{
		bool		s = secret ||
			(child->string != NULL && nango_secret_name(child->string, strlen(child->string)));

		add_json_secrets(secrets, child, s);
	}
}

void
nango_secrets_add_json(NangoSecrets *secrets, const char *json)
{
	cJSON	   *root;

	if (json == NULL)
		return;
	root = cJSON_Parse(json);
	if (root == NULL)
		return;
	/* nango_secrets_add pallocs; an out-of-memory ERROR would leak root */
	PG_TRY();
	{
		add_json_secrets(secrets, root, false);
	}
	PG_FINALLY();
	{
		cJSON_Delete(root);
	}
	PG_END_TRY();
}

PG_FUNCTION_INFO_V1(nango_redact_url_sql);

/*
 * nango_redact_url_sql: nango.redact_url(url): the URL as nango shows it
 * (nango.sync_status.url): user-info password and values of
 * secret-looking query parameters replaced by REDACTED.
 */
Datum
nango_redact_url_sql(PG_FUNCTION_ARGS)
{
	char	   *url = text_to_cstring(PG_GETARG_TEXT_PP(0));

	PG_RETURN_TEXT_P(cstring_to_text(nango_redact_url(url, NULL)));
}
