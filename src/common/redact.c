/*-------------------------------------------------------------------------
 *
 * redact.c
 *	  Secret redaction of URLs and texts (docs/sync-modes.md: header values,
 *	  tokens and secret-looking query parameters never appear in log lines,
 *	  job rows, error messages or NOTIFY payloads).  This file holds the
 *	  redaction set (which values are secrets: names that look secret,
 *	  values added from headers, URLs and JSON, with their Basic forms) and
 *	  the redaction of URLs; a text, with the forms an API may echo a
 *	  secret in, is redacted by redacttext.c.
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
#include "redact_int.h"

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

/* redact_hexval: the value of a hex digit, or -1. */
int
redact_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
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
 * add_one: remembers one secret value.  Values shorter than 4 bytes are
 * ignored (replacing them everywhere would garble texts, and they are not
 * secrets worth the name).
 */
static void
add_one(NangoSecrets *secrets, const char *value)
{
	if (value == NULL || strlen(value) < 4 || known_secret(secrets, value))
		return;
	if (secrets->n == 0)
		secrets->values = palloc(sizeof(char *) * 8);
	else if ((secrets->n & 7) == 0)
		secrets->values = repalloc(secrets->values, sizeof(char *) * (secrets->n + 8));
	secrets->values[secrets->n++] = pstrdup(value);
}

/* b64_value: the value of a base64 digit (either alphabet), or -1. */
static int
b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/*
 * basic_credentials: when value is the base64 of printable "user:password"
 * (a Basic auth header's part), that text (palloc'd), else NULL.
 */
static char *
basic_credentials(const char *value)
{
	size_t		len = strlen(value);
	char	   *out = palloc(len + 1);
	int			n = 0;
	uint32		acc = 0;
	int			nbits = 0;

	while (len > 0 && value[len - 1] == '=')
		len--;
	for (size_t i = 0; i < len; i++)
	{
		int			v = b64_value(value[i]);

		if (v < 0)
			return NULL;
		acc = (acc << 6) | v;
		nbits += 6;
		if (nbits >= 8)
		{
			nbits -= 8;
			out[n] = (char) ((acc >> nbits) & 0xFF);
			if (out[n] < 0x20 || out[n] > 0x7E)
				return NULL;
			n++;
		}
	}
	out[n] = '\0';
	return strchr(out, ':') != NULL ? out : NULL;
}

/*
 * nango_secrets_add: remember a secret value.  Values shorter than 4 bytes
 * are ignored (see add_one).  A value that is the base64 of "user:password"
 * (a Basic header) also adds that text and the password, which an API may
 * echo decoded.
 */
void
nango_secrets_add(NangoSecrets *secrets, const char *value)
{
	char	   *basic;

	if (value == NULL)
		return;
	add_one(secrets, value);
	if (strlen(value) >= 8 && (basic = basic_credentials(value)) != NULL)
	{
		add_one(secrets, basic);
		add_one(secrets, strchr(basic, ':') + 1);
	}
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
			redact_hexval(v[i + 1]) >= 0 && redact_hexval(v[i + 2]) >= 0)
		{
			dec[n++] = (char) (redact_hexval(v[i + 1]) * 16 + redact_hexval(v[i + 2]));
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
