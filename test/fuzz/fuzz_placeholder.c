/*-------------------------------------------------------------------------
 *
 * fuzz_placeholder.c
 *	  Fuzz target: writing credentials into a job's config
 *	  (nango_fill_begin / nango_fill_apply, placeholder.c).
 *
 *	  Input: parts separated by NUL bytes: the templates, the value of
 *	  secret "a", the value of secret "api_key", the access token (a
 *	  missing part: no such secret, no token).  The templates part is cut
 *	  at its first three 0x1E bytes into the URL, the value of one header,
 *	  the value of one query parameter and the body; a missing one is a
 *	  copy of the first.
 *
 *	  The config is filled with the token, then again from the same
 *	  templates with another one (as after a 401), and each time:
 *	  - an ERROR is raised exactly when a value containing CR or LF goes
 *	    into the header;
 *	  - otherwise each string is what an independent expansion gives: every
 *	    byte outside a placeholder unchanged, ${secret:a} / ${secret:api_key}
 *	    of a given secret and ${pizzlyAccessToken} / ${nangoAccessToken}
 *	    (with a token) replaced by the value percent-encoded (unreserved
 *	    bytes A-Z a-z 0-9 - . _ ~ kept, others %XX) in the URL, JSON-escaped
 *	    in the body, as it is in the header and the parameter; every other
 *	    ${...} kept as written;
 *	  - the secrets' values, their percent-encoded, JSON-escaped and twice
 *	    JSON-escaped forms and every form written (4 bytes or more) are in
 *	    the redaction set, and nango_redact_text of each string leaves none
 *	    of them (an occurrence overlapping a REDACTED it wrote aside).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"

#include "placeholder.h"
#include "redact.h"
#include "shim.h"

#define NSECRETS 2
#define MAX_SENT 64

static const char *const secret_names[NSECRETS] = {"a", "api_key"};

typedef enum Place
{
	P_URL,
	P_HEADER,
	P_PARAM,
	P_BODY,
	NPLACES
} Place;

static const char *const place_names[NPLACES] = {"url", "header", "param", "body"};

typedef struct Input
{
	const char *tmpl[NPLACES];
	int			nsecrets;
	NangoSecretValue secrets[NSECRETS];
	const char *token;			/* NULL: no token part */
} Input;

/* What the expansion expects of one fill. */
typedef struct Expect
{
	char	   *out[NPLACES];
	bool		header_break;	/* a value with CR or LF goes into the header */
	int			nsent;
	const char *sent[MAX_SENT]; /* forms written, 4 bytes or more */
} Expect;

typedef struct Args
{
	const Input *in;
	NangoConfig cfg;
	NangoPair	header;
	NangoPair	param;
	NangoSecrets redact;
	NangoFill  *fill;
	const char *token;
	const char *text;
	char	   *redacted;
} Args;

/* ---- the expected result, built independently of placeholder.c ---- */

/* pct: s percent-encoded, RFC 3986 unreserved bytes kept */
static char *
pct(const char *s)
{
	StringInfoData o;

	initStringInfo(&o);
	for (; *s; s++)
	{
		unsigned char c = (unsigned char) *s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			c == '-' || c == '.' || c == '_' || c == '~')
			appendStringInfoChar(&o, c);
		else
			appendStringInfo(&o, "%%%02X", c);
	}
	return o.data;
}

/* json: s JSON-escaped, without quotes */
static char *
json(const char *s)
{
	StringInfoData o;

	initStringInfo(&o);
	for (; *s; s++)
	{
		unsigned char c = (unsigned char) *s;

		switch (c)
		{
			case '"':
			case '\\':
				appendStringInfo(&o, "\\%c", c);
				break;
			case '\b':
				appendStringInfoString(&o, "\\b");
				break;
			case '\f':
				appendStringInfoString(&o, "\\f");
				break;
			case '\n':
				appendStringInfoString(&o, "\\n");
				break;
			case '\r':
				appendStringInfoString(&o, "\\r");
				break;
			case '\t':
				appendStringInfoString(&o, "\\t");
				break;
			default:
				if (c < 0x20)
					appendStringInfo(&o, "\\u%04x", c);
				else
					appendStringInfoChar(&o, c);
		}
	}
	return o.data;
}

/* form: value as written at place */
static char *
form(const char *value, Place place)
{
	if (place == P_URL)
		return pct(value);
	if (place == P_BODY)
		return json(value);
	return pstrdup(value);
}

/* value_of: the value of placeholder name (len bytes), or NULL */
static const char *
value_of(const Input *in, const char *token, const char *name, int len)
{
	static const char *const token_names[] = {"pizzlyAccessToken", "nangoAccessToken"};

	for (int i = 0; token != NULL && i < 2; i++)
		if ((int) strlen(token_names[i]) == len && strncmp(name, token_names[i], len) == 0)
			return token;
	if (len < 7 || strncmp(name, "secret:", 7) != 0)
		return NULL;
	for (int i = 0; i < in->nsecrets; i++)
		if ((int) strlen(in->secrets[i].name) == len - 7 && strncmp(name + 7, in->secrets[i].name, len - 7) == 0)
			return in->secrets[i].value;
	return NULL;
}

/*
 * expand: the template s filled for place, byte by byte: a "${" whose text
 * up to the next '}' names a value is replaced, anything else is copied.
 */
static char *
expand(const Input *in, const char *token, const char *s, Place place, Expect *ex)
{
	StringInfoData o;
	size_t		i = 0;

	initStringInfo(&o);
	while (s[i] != '\0')
	{
		const char *close = (s[i] == '$' && s[i + 1] == '{') ? strchr(s + i + 2, '}') : NULL;
		const char *v = close ? value_of(in, token, s + i + 2, close - (s + i + 2)) : NULL;

		if (v == NULL)
		{
			appendStringInfoChar(&o, s[i++]);
			continue;
		}
		if (place == P_HEADER && strpbrk(v, "\r\n") != NULL)
			ex->header_break = true;
		appendStringInfoString(&o, form(v, place));
		if (strlen(form(v, place)) >= 4 && ex->nsent < MAX_SENT)
			ex->sent[ex->nsent++] = form(v, place);
		i = close - s + 1;
	}
	return o.data;
}

/* ---- checks ---- */

static void
fail(const char *what, const char *detail, const char *got)
{
	fprintf(stderr, "placeholder: %s: \"%s\" in \"%s\"\n", what, detail, got ? got : "(null)");
	abort();
}

/* in_set: is s in the redaction set? */
static bool
in_set(const NangoSecrets *set, const char *s)
{
	for (int i = 0; i < set->n; i++)
		if (strcmp(set->values[i], s) == 0)
			return true;
	return false;
}

/* survives: does s occur in text outside (not overlapping) every REDACTED? */
static bool
survives(const char *text, const char *s)
{
	size_t		n = strlen(s);
	size_t		rn = strlen(NANGO_REDACTED);

	for (const char *p = strstr(text, s); p != NULL; p = strstr(p + 1, s))
	{
		bool		covered = false;

		for (const char *r = strstr(text, NANGO_REDACTED); r != NULL && r < p + n;
			 r = strstr(r + 1, NANGO_REDACTED))
			covered |= r + rn > p;
		if (!covered)
			return true;
	}
	return false;
}

static void
run_begin(void *p)
{
	Args	   *a = p;

	a->fill = nango_fill_begin(&a->cfg, a->in->nsecrets, a->in->secrets, &a->redact, NULL);
}

static void
run_apply(void *p)
{
	Args	   *a = p;

	nango_fill_apply(a->fill, a->token);
}

static void
run_redact(void *p)
{
	Args	   *a = p;

	a->redacted = nango_redact_text(a->text, &a->redact);
}

/* check_redaction: the values and forms are in the set and redacted */
static void
check_redaction(Args *a, const Expect *ex, char *const *got)
{
	const char *must[NSECRETS * 4 + MAX_SENT];
	int			n = 0;

	for (int i = 0; i < a->in->nsecrets; i++)
	{
		const char *v = a->in->secrets[i].value;

		must[n++] = v;
		must[n++] = pct(v);
		must[n++] = json(v);
		must[n++] = json(json(v));
	}
	for (int i = 0; i < ex->nsent; i++)
		must[n++] = ex->sent[i];
	for (int i = 0; i < n; i++)
		if (strlen(must[i]) >= 4 && !in_set(&a->redact, must[i]))
			fail("a value or form is not in the redaction set", must[i], "");
	for (int p = 0; p < NPLACES; p++)
	{
		a->text = got[p];
		if (!fuzz_try(run_redact, a))
			fail("redaction raised an ERROR", place_names[p], got[p]);
		for (int i = 0; i < n; i++)
			if (strlen(must[i]) >= 4 && survives(a->redacted, must[i]))
				fail("a value survived redaction", must[i], a->redacted);
	}
}

/* fill_and_check: one nango_fill_apply with token, checked */
static void
fill_and_check(Args *a, const char *token)
{
	Expect		ex;
	char	   *got[NPLACES];
	bool		ok;

	memset(&ex, 0, sizeof(ex));
	for (int p = 0; p < NPLACES; p++)
		ex.out[p] = expand(a->in, token, a->in->tmpl[p], p, &ex);
	a->token = token;
	ok = fuzz_try(run_apply, a);
	if (ok && ex.header_break)
		fail("a value with a line break was written into the header", a->cfg.headers[0].value, "");
	if (!ok && !ex.header_break)
		fail("unexpected ERROR", a->in->tmpl[P_URL], "");
	if (!ok)
		return;
	if (a->cfg.nheaders != 1 || strcmp(a->cfg.headers[0].name, "X-Key") != 0 ||
		a->cfg.nparams != 1 || strcmp(a->cfg.params[0].name, "q") != 0)
		fail("the header or parameter names changed", "", "");
	got[P_URL] = a->cfg.url;
	got[P_HEADER] = a->cfg.headers[0].value;
	got[P_PARAM] = a->cfg.params[0].value;
	got[P_BODY] = a->cfg.body;
	for (int p = 0; p < NPLACES; p++)
		if (got[p] == NULL || strcmp(got[p], ex.out[p]) != 0)
		{
			fprintf(stderr, "placeholder: %s of \"%s\" is \"%s\", expected \"%s\"\n",
					place_names[p], a->in->tmpl[p], got[p] ? got[p] : "(null)", ex.out[p]);
			abort();
		}
	check_redaction(a, &ex, got);
}

/* has_token: does any template contain a token placeholder? */
static bool
has_token(const Input *in)
{
	for (int p = 0; p < NPLACES; p++)
		if (strstr(in->tmpl[p], "${pizzlyAccessToken}") || strstr(in->tmpl[p], "${nangoAccessToken}"))
			return true;
	return false;
}

/* parse: cuts buf (size bytes, NUL-terminated after them) into in */
static void
parse(char *buf, size_t size, Input *in)
{
	const char *parts[1 + NSECRETS + 1];
	int			nparts = 1;
	char	   *t = buf;

	memset(in, 0, sizeof(*in));
	parts[0] = buf;
	for (size_t i = 0; i < size && nparts < 1 + NSECRETS + 1; i++)
		if (buf[i] == '\0')
			parts[nparts++] = buf + i + 1;
	for (int i = 1; i < nparts && i <= NSECRETS; i++)
	{
		in->secrets[in->nsecrets].name = (char *) secret_names[i - 1];
		in->secrets[in->nsecrets++].value = (char *) parts[i];
	}
	if (nparts == 1 + NSECRETS + 1)
		in->token = parts[1 + NSECRETS];
	for (int p = 0; p < NPLACES; p++)
	{
		in->tmpl[p] = t != NULL ? t : buf;
		if (t != NULL && p < NPLACES - 1 && (t = strchr(t, 0x1E)) != NULL)
			*t++ = '\0';
		else
			t = NULL;
	}
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *buf = malloc(size + 1);
	Input		in;
	Args		a;
	char	   *copies[NPLACES];

	memcpy(buf, data, size);
	buf[size] = '\0';
	parse(buf, size, &in);
	memset(&a, 0, sizeof(a));
	a.in = &in;
	for (int p = 0; p < NPLACES; p++)
		copies[p] = pstrdup(in.tmpl[p]);
	a.cfg.url = copies[P_URL];
	a.header.name = "X-Key";
	a.header.value = copies[P_HEADER];
	a.cfg.nheaders = 1;
	a.cfg.headers = &a.header;
	a.param.name = "q";
	a.param.value = copies[P_PARAM];
	a.cfg.nparams = 1;
	a.cfg.params = &a.param;
	a.cfg.body = copies[P_BODY];
	if (!fuzz_try(run_begin, &a))
		fail("nango_fill_begin raised an ERROR", in.tmpl[P_URL], "");
	if (nango_fill_has_token_placeholder(a.fill) != has_token(&in))
		fail("token placeholder detection is wrong", in.tmpl[P_URL], "");
	/* the token, then another one from the same templates (after a 401) */
	fill_and_check(&a, in.token);
	fill_and_check(&a, in.token != NULL ? "second\ntoken" : "second-token");
	for (int p = 0; p < NPLACES; p++)
		if (strcmp(copies[p], in.tmpl[p]) != 0)
			fail("a template was changed", in.tmpl[p], copies[p]);
	fuzz_reset();
	free(buf);
	return 0;
}
