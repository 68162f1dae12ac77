/*-------------------------------------------------------------------------
 *
 * redact.c
 *	  Secret redaction of URLs and texts (docs/sync-modes.md: header values,
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

/* the i-th secret of a set: kept ones first, then the URL ring */
#define SECRET_AT(s, i) ((i) < (s)->n ? (s)->values[i] : (s)->url_values[(i) - (s)->n])

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

/* ---------------------------------------------------------------------
 * Echoed forms
 *
 * An API that echoes a request writes a secret in the forms of its own
 * output: JSON-escaped (any character as \uXXXX, '/' as \/), percent-
 * encoded (%2F or %2f, '+' for a space), or base64 (a Basic header).  The
 * text is decoded once per form (decode_echo: JSON escapes and percent
 * escapes in one pass, '+' read as '+' or as a space), keeping for each
 * decoded byte the span of the text it came from; every secret, and its
 * base64 forms, is searched for in the text as written and in each
 * decoding, and the union of the spans found is replaced.  The cost is a
 * few passes over the text per secret form (strstr), not a product of
 * their lengths.
 * ---------------------------------------------------------------------
 */

/* A decoding of a text: bytes, and the text span [from, to) of each. */
typedef struct Decoded
{
	char	   *s;
	int		   *from;
	int		   *to;
	int			len;
} Decoded;

/* A span of the text to replace. */
typedef struct Span
{
	int			start;
	int			end;
} Span;

typedef struct SpanList
{
	Span	   *v;
	int			n;
	int			cap;
} SpanList;

/* The shortest base64 run searched for: shorter ones match too much. */
#define NANGO_MIN_B64 6

/* hex4: the value of 4 hex digits at p, or -1. */
static int
hex4(const char *p)
{
	int			v = 0;

	for (int i = 0; i < 4; i++)
	{
		int			d = hexval(p[i]);

		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/*
 * json_escape_at: the code point a JSON escape at text[i] stands for (a
 * surrogate pair counts as one), and its length in *n; -1 when there is
 * none.  NUL and lone surrogates are left as written.  With loose, an
 * escaped backslash stands for itself but does not hide the character
 * after it: "\\\\u0070" then reads as a backslash and "p", as someone reading
 * the text may take it.
 */
static int
json_escape_at(const char *t, int i, int *n, bool loose)
{
	const char *simple = "/\"\\bfnrt";
	const char *means = "/\"\\\b\f\n\r\t";
	const char *hit;
	int			cp;

	if (t[i] != '\\')
		return -1;
	if (t[i + 1] != '\0' && t[i + 1] != 'u' && (hit = strchr(simple, t[i + 1])) != NULL)
	{
		*n = (t[i + 1] == '\\' && loose) ? 1 : 2;
		return (unsigned char) means[hit - simple];
	}
	if (t[i + 1] != 'u' || (cp = hex4(t + i + 2)) <= 0)
		return -1;
	*n = 6;
	if (cp >= 0xD800 && cp <= 0xDBFF)
	{
		int			lo = (t[i + 6] == '\\' && t[i + 7] == 'u') ? hex4(t + i + 8) : -1;

		if (lo < 0xDC00 || lo > 0xDFFF)
			return -1;
		*n = 12;
		return 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
	}
	return (cp >= 0xDC00 && cp <= 0xDFFF) ? -1 : cp;
}

/* put_utf8: appends code point cp as UTF-8, each byte from span [a, b). */
static void
put_utf8(Decoded *d, int cp, int a, int b)
{
	unsigned char u[4];
	int			n;

	if (cp < 0x80)
		u[0] = cp, n = 1;
	else if (cp < 0x800)
		u[0] = 0xC0 | (cp >> 6), u[1] = 0x80 | (cp & 0x3F), n = 2;
	else if (cp < 0x10000)
		u[0] = 0xE0 | (cp >> 12), u[1] = 0x80 | ((cp >> 6) & 0x3F), u[2] = 0x80 | (cp & 0x3F), n = 3;
	else
		u[0] = 0xF0 | (cp >> 18), u[1] = 0x80 | ((cp >> 12) & 0x3F),
			u[2] = 0x80 | ((cp >> 6) & 0x3F), u[3] = 0x80 | (cp & 0x3F), n = 4;
	for (int k = 0; k < n; k++)
	{
		d->s[d->len] = (char) u[k];
		d->from[d->len] = a;
		d->to[d->len] = b;
		d->len++;
	}
}

/*
 * decode_echo: text with its JSON escapes and/or percent escapes decoded
 * in one left-to-right pass, as how says (DEC_*).  A decoded byte
 * is never NUL (%00 and \u0000 stay as written), so strstr works on it.
 */
/* What decode_echo decodes. */
#define DEC_JSON	0x01		/* JSON escapes */
#define DEC_PCT		0x02		/* percent escapes */
#define DEC_PLUS	0x04		/* '+' as a space */
#define DEC_LOOSE	0x08		/* see json_escape_at */

static void
decode_echo(const char *t, int len, int how, Decoded *d)
{
	d->s = palloc(len + 1);
	d->from = palloc(sizeof(int) * (len + 1));
	d->to = palloc(sizeof(int) * (len + 1));
	d->len = 0;
	for (int i = 0; i < len;)
	{
		int			n = 1;
		int			cp = (how & DEC_JSON) ? json_escape_at(t, i, &n, (how & DEC_LOOSE) != 0) : -1;

		if (cp < 0 && (how & DEC_PCT) && t[i] == '%' && hexval(t[i + 1]) >= 0 && hexval(t[i + 2]) >= 0 &&
			(hexval(t[i + 1]) | hexval(t[i + 2])) != 0)
		{
			d->s[d->len] = (char) (hexval(t[i + 1]) * 16 + hexval(t[i + 2]));
			d->from[d->len] = i;
			d->to[d->len] = i + 3;
			d->len++;
			i += 3;
			continue;
		}
		if (cp < 0)
		{
			n = 1;
			cp = (unsigned char) ((how & DEC_PLUS) && t[i] == '+' ? ' ' : t[i]);
			d->s[d->len] = (char) cp;
			d->from[d->len] = i;
			d->to[d->len] = i + 1;
			d->len++;
		}
		else
			put_utf8(d, cp, i, i + n);
		i += n;
	}
	d->s[d->len] = '\0';
}

/* add_span: remembers [start, end) of the text. */
static void
add_span(SpanList *l, int start, int end)
{
	if (l->n == l->cap)
	{
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = l->v ? repalloc(l->v, sizeof(Span) * l->cap) : palloc(sizeof(Span) * l->cap);
	}
	l->v[l->n].start = start;
	l->v[l->n].end = end;
	l->n++;
}

/*
 * find_all: every occurrence of target in a decoding (overlapping ones
 * too), as spans of the text.
 */
static void
find_all(const Decoded *d, const char *target, SpanList *l)
{
	size_t		m = strlen(target);
	const char *p = d->s;
	const char *hit;

	if (m == 0)
		return;
	while ((hit = strstr(p, target)) != NULL)
	{
		int			k = hit - d->s;

		add_span(l, d->from[k], d->to[k + m - 1]);
		p = hit + 1;
	}
}

/* b64_char: the base64 digit of a 6-bit value (url: the URL-safe alphabet). */
static char
b64_char(int v, bool url)
{
	static const char std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	if (url && v >= 62)
		return v == 62 ? '-' : '_';
	return std[v];
}

/*
 * b64_form: base64 digits of s when s starts at byte offset align (0, 1
 * or 2) of a base64-encoded text.  Without to_end, the digits that depend
 * only on s: its "core", found whatever comes before or after it (user: in
 * front of a password in a Basic header, say).  With to_end, also the
 * last digit that s shares with zero bits after it: s at the end of the
 * encoded text (padding, if any, follows).  NULL when shorter than
 * NANGO_MIN_B64.
 */
static char *
b64_form(const char *s, int align, bool url, bool to_end)
{
	int			len = strlen(s);
	int			bits = 8 * (align + len);
	int			first = (8 * align + 5) / 6;
	int			last = to_end ? (bits + 5) / 6 : bits / 6;
	StringInfoData out;

	if (last - first < NANGO_MIN_B64)
		return NULL;
	initStringInfo(&out);
	for (int j = first; j < last; j++)
	{
		int			v = 0;

		/* the 6 bits at bit offset 6j of (align zero bytes, s, zero bytes) */
		for (int b = 6 * j; b < 6 * j + 6; b++)
		{
			int			byte = b / 8 - align;
			int			bit = (byte >= 0 && byte < len) ?
				((unsigned char) s[byte] >> (7 - b % 8)) & 1 : 0;

			v = (v << 1) | bit;
		}
		appendStringInfoChar(&out, b64_char(v, url));
	}
	return out.data;
}

/*
 * secret_forms: the strings searched for one secret: itself, and its
 * base64 forms (the cores of its three alignments, and the same up to the
 * end of the encoding, in both alphabets; the URL-safe ones only when they
 * differ).
 */
static int
secret_forms(const char *secret, char **forms)
{
	int			n = 0;

	forms[n++] = (char *) secret;
	for (int url = 0; url < 2; url++)
		for (int align = 0; align < 3; align++)
			for (int to_end = 0; to_end < 2; to_end++)
			{
				char	   *f = b64_form(secret, align, url, to_end);

				if (f == NULL || (url && strpbrk(f, "-_") == NULL) ||
					(to_end && strcmp(f, forms[n - 1]) == 0))
					continue;
				forms[n++] = f;
			}
	return n;
}

/* cmp_span: orders spans by start. */
static int
cmp_span(const void *a, const void *b)
{
	const Span *x = a;
	const Span *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/*
 * replace_spans: text with the union of the spans replaced by REDACTED
 * (one REDACTED per run of overlapping spans).
 */
static char *
replace_spans(const char *text, SpanList *l)
{
	StringInfoData buf;
	int			pos = 0;
	int			i = 0;

	qsort(l->v, l->n, sizeof(Span), cmp_span);
	initStringInfo(&buf);
	while (i < l->n)
	{
		int			start = l->v[i].start;
		int			end = l->v[i].end;

		for (i++; i < l->n && l->v[i].start < end; i++)
			end = Max(end, l->v[i].end);
		if (start < pos)
			start = pos;
		appendBinaryStringInfo(&buf, text + pos, start - pos);
		appendStringInfoString(&buf, NANGO_REDACTED);
		pos = end;
	}
	appendStringInfoString(&buf, text + pos);
	return buf.data;
}

/* identity: a text as its own decoding. */
static void
identity(const char *t, int len, Decoded *d)
{
	d->s = (char *) t;
	d->len = len;
	d->from = palloc(sizeof(int) * (len + 1));
	d->to = palloc(sizeof(int) * (len + 1));
	for (int i = 0; i < len; i++)
	{
		d->from[i] = i;
		d->to[i] = i + 1;
	}
}

/*
 * nango_redact_text: replaces every occurrence of every secret value, as
 * written, JSON-escaped, percent-encoded or in base64, by REDACTED, and the
 * values of secret-looking query parameters written in the text.
 */
char *
nango_redact_text(const char *text, const NangoSecrets *secrets)
{
	char	   *cur;
	int			len;
	Decoded		dec[6];
	int			ndec = 1;
	SpanList	spans = {NULL, 0, 0};
	bool		escapes;
	bool		spaces = false;

	if (text == NULL)
		return NULL;
	cur = redact_params(pstrdup(text));
	if (secrets == NULL || secrets->n + secrets->nurl == 0)
		return cur;
	len = strlen(cur);
	identity(cur, len, &dec[0]);
	escapes = strpbrk(cur, "\\%+") != NULL;
	for (int i = 0; i < secrets->n + secrets->nurl; i++)
		spaces |= strchr(SECRET_AT(secrets, i), ' ') != NULL;
	/*
	 * Each decoding only when the text has what it decodes: both kinds of
	 * escapes together, each alone (a '%' or '\\' of the text just before a
	 * secret could otherwise swallow its first characters), escaped
	 * backslashes read loosely, '+' as a space.
	 */
	if (escapes)
	{
		bool		pct = strchr(cur, '%') != NULL;
		bool		bs = strchr(cur, '\\') != NULL;

		decode_echo(cur, len, DEC_JSON | DEC_PCT, &dec[ndec++]);
		if (pct && bs)
		{
			decode_echo(cur, len, DEC_JSON, &dec[ndec++]);
			decode_echo(cur, len, DEC_PCT, &dec[ndec++]);
		}
		if (strstr(cur, "\\\\") != NULL)
			decode_echo(cur, len, DEC_JSON | DEC_PCT | DEC_LOOSE, &dec[ndec++]);
		if (spaces && strchr(cur, '+') != NULL)
			decode_echo(cur, len, DEC_JSON | DEC_PCT | DEC_PLUS, &dec[ndec++]);
	}
	for (int i = 0; i < secrets->n + secrets->nurl; i++)
	{
		char	   *forms[16];
		int			nforms = secret_forms(SECRET_AT(secrets, i), forms);

		for (int f = 0; f < nforms; f++)
			for (int k = 0; k < ndec; k++)
				find_all(&dec[k], forms[f], &spans);
	}
	if (spans.n == 0)
		return cur;
	return replace_spans(cur, &spans);
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
