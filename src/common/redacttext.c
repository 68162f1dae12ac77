/*-------------------------------------------------------------------------
 *
 * redacttext.c
 *	  Redaction of a text (nango_redact_text): the values of secret-looking
 *	  query parameters written in it, and every secret of the set in the
 *	  forms an API may echo it in (JSON-escaped, percent-encoded, base64).
 *	  Pure text work: no SQL, no request.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "lib/stringinfo.h"

#include "redact.h"
#include "redact_int.h"

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
		int			d = redact_hexval(p[i]);

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

		if (cp < 0 && (how & DEC_PCT) && t[i] == '%' && redact_hexval(t[i + 1]) >= 0 && redact_hexval(t[i + 2]) >= 0 &&
			(redact_hexval(t[i + 1]) | redact_hexval(t[i + 2])) != 0)
		{
			d->s[d->len] = (char) (redact_hexval(t[i + 1]) * 16 + redact_hexval(t[i + 2]));
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
