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

#include "lib/stringinfo.h"

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
	if (value == NULL || strlen(value) < 4)
		return;
	if (secrets->n == 0)
		secrets->values = palloc(sizeof(char *) * 8);
	else if ((secrets->n & 7) == 0)
		secrets->values = repalloc(secrets->values, sizeof(char *) * (secrets->n + 8));
	secrets->values[secrets->n++] = pstrdup(value);
}

/*
 * nango_redact_text: replaces every occurrence of every secret value, and of
 * the part after "Bearer "/"Basic " of a secret header value, by REDACTED.
 */
char *
nango_redact_text(const char *text, const NangoSecrets *secrets)
{
	char	   *cur;
	int			i;

	if (text == NULL)
		return NULL;
	cur = pstrdup(text);
	if (secrets == NULL)
		return cur;
	for (i = 0; i < secrets->n; i++)
	{
		const char *secret = secrets->values[i];
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
