/*-------------------------------------------------------------------------
 *
 * fuzz_redact.c
 *	  Fuzz target: secret redaction of URLs (redact.c), which sees URLs an
 *	  API sends (next URLs, Link headers) and echoed texts, and the secrets
 *	  of a JSON request body.  Input: a URL, or a JSON body.  Checks that
 *	  every secret found (URL password, values of secret-looking query
 *	  parameters or body keys) is gone from the redacted URL and from an
 *	  echoing text.
 *
 *	  Then the first line of the input, when it is a printable secret of 4
 *	  to 64 bytes, is written into the rest of the input in every form an
 *	  API echoes it in (JSON-escaped: \/ and \uXXXX of either case for each
 *	  character; percent-encoded in either case, + for a space; base64 of
 *	  the secret after a prefix of 0 to 2 bytes, as in a Basic header's
 *	  user:password, in both alphabets), and each form must be gone from
 *	  the redacted text.  For base64, the digits checked are those that
 *	  depend only on the secret, found independently of redact.c: the
 *	  digits that two encodings with opposite neighbouring bits agree on.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "lib/stringinfo.h"

#include "redact.h"
#include "shim.h"

/* the i-th secret of a set, kept ones first, then the URL ring */
#define SECRET(s, i) ((i) < (s)->n ? (s)->values[i] : (s)->url_values[(i) - (s)->n])

typedef struct Args
{
	const char *url;
	NangoSecrets secrets;
	char	   *redacted;
	char	   *echo;
} Args;

static void
run(void *p)
{
	Args	   *a = p;

	nango_secrets_add_url(&a->secrets, a->url, (a->url[0] & 1) != 0);
	nango_secrets_add_json(&a->secrets, a->url);
	a->redacted = nango_redact_url(a->url, &a->secrets);
	a->echo = nango_redact_text(psprintf("error: %s (%s)", a->url, a->url), &a->secrets);
	(void) nango_redact_url(a->url, NULL);
}

/*
 * A secret made of REDACTED's own letters may reappear where REDACTED was
 * written; such inputs are not checked.
 */
static bool
checkable(const char *s)
{
	return strpbrk(s, "REDACT") == NULL;
}

/* ---- echoed forms, built independently of redact.c ---- */

typedef struct EchoArgs
{
	const char *secret;
	const char *text;
	char	   *out;
} EchoArgs;

static void
run_echo(void *p)
{
	EchoArgs   *a = p;
	NangoSecrets secrets;

	memset(&secrets, 0, sizeof(secrets));
	nango_secrets_add(&secrets, a->secret);
	a->out = nango_redact_text(a->text, &secrets);
}

/* json_form: variant 0: '/' as \/ only; 1: every byte \u00xx; 2: \u00XX */
static void
json_form(const char *s, int variant, StringInfo out)
{
	for (; *s; s++)
	{
		if (variant == 0)
		{
			if (*s == '/')
				appendStringInfoString(out, "\\/");
			else if (*s == '"' || *s == '\\')
				appendStringInfo(out, "\\%c", *s);
			else
				appendStringInfoChar(out, *s);
		}
		else
			appendStringInfo(out, variant == 1 ? "\\u%04x" : "\\u%04X", (unsigned char) *s);
	}
}

/* pct_form: every non-alphanumeric byte %xx (upper or lower), ' ' as '+' */
static void
pct_form(const char *s, bool upper, StringInfo out)
{
	for (; *s; s++)
	{
		if (isalnum((unsigned char) *s))
			appendStringInfoChar(out, *s);
		else if (*s == ' ')
			appendStringInfoChar(out, '+');
		else
			appendStringInfo(out, upper ? "%%%02X" : "%%%02x", (unsigned char) *s);
	}
}

/* b64: standard base64 (url: URL-safe, unpadded) of len bytes */
static char *
b64(const unsigned char *in, int len, bool url)
{
	const char *std = url ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
		: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	StringInfoData out;

	initStringInfo(&out);
	for (int i = 0; i < len; i += 3)
	{
		uint32		v = in[i] << 16 | (i + 1 < len ? in[i + 1] << 8 : 0) | (i + 2 < len ? in[i + 2] : 0);

		appendStringInfoChar(&out, std[(v >> 18) & 63]);
		appendStringInfoChar(&out, std[(v >> 12) & 63]);
		if (i + 1 < len)
			appendStringInfoChar(&out, std[(v >> 6) & 63]);
		else if (!url)
			appendStringInfoChar(&out, '=');
		if (i + 2 < len)
			appendStringInfoChar(&out, std[v & 63]);
		else if (!url)
			appendStringInfoChar(&out, '=');
	}
	return out.data;
}

/*
 * b64_core: the digits of base64(prefix + secret + one byte) that depend
 * only on the secret: where the encodings with neighbours of all-zero and
 * all-one bits agree.  The longest such run is returned, with the encoding
 * of the zero-neighbour variant in *encoded.
 */
static char *
b64_core(const char *secret, int plen, bool url, char **encoded)
{
	int			slen = strlen(secret);
	unsigned char *x = palloc(plen + slen + 1);
	unsigned char *y = palloc(plen + slen + 1);
	char	   *ex;
	char	   *ey;
	int			best = 0;
	int			best_at = 0;
	int			run = 0;

	memset(x, 0, plen);
	memset(y, 0xFF, plen);
	memcpy(x + plen, secret, slen);
	memcpy(y + plen, secret, slen);
	x[plen + slen] = 0;
	y[plen + slen] = 0xFF;
	ex = b64(x, plen + slen + 1, url);
	ey = b64(y, plen + slen + 1, url);
	for (int i = 0; ex[i] && ey[i]; i++)
	{
		run = (ex[i] == ey[i]) ? run + 1 : 0;
		if (run > best)
			best = run, best_at = i - run + 1;
	}
	*encoded = ex;
	return pnstrdup(ex + best_at, best);
}

/* check_form: form written into the text must not survive redaction */
static void
check_form(const char *secret, const char *text, const char *form, const char *must_go)
{
	EchoArgs	a;

	a.secret = secret;
	/* inside quotes, as an API writes it in JSON */
	a.text = psprintf("%s\"%s\"%s", text, form, text);
	a.out = NULL;
	if (fuzz_try(run_echo, &a) && strstr(a.out, must_go) != NULL && strstr(text, must_go) == NULL)
	{
		fprintf(stderr, "echoed form \"%s\" of secret \"%s\" survived: %s\n", form, secret, a.out);
		abort();
	}
}

/* check_echo: every echoed form of secret, in text */
static void
check_echo(const char *secret, const char *text)
{
	StringInfoData f;

	for (int v = 0; v < 3; v++)
	{
		initStringInfo(&f);
		json_form(secret, v, &f);
		check_form(secret, text, f.data, f.data);
	}
	for (int up = 0; up < 2; up++)
	{
		initStringInfo(&f);
		pct_form(secret, up, &f);
		check_form(secret, text, f.data, f.data);
	}
	for (int url = 0; url < 2; url++)
		for (int plen = 0; plen < 3; plen++)
		{
			char	   *encoded;
			char	   *core = b64_core(secret, plen, url, &encoded);

			/* short cores are not searched for (they would match too much) */
			if (strlen(core) >= 8)
			{
				check_form(secret, text, encoded, core);
				/* JSON writers escape its '/' */
				initStringInfo(&f);
				json_form(encoded, 0, &f);
				check_form(secret, text, f.data, core);
			}
		}
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *buf = malloc(size + 1);
	Args		a;
	int			i;

	memcpy(buf, data, size);
	buf[size] = '\0';
	memset(&a, 0, sizeof(a));
	a.url = buf;
	if (fuzz_try(run, &a))
	{
		bool		all = true;

		int			n = a.secrets.n + a.secrets.nurl;

		for (i = 0; i < n; i++)
			all = all && checkable(SECRET(&a.secrets, i));
		for (i = 0; all && i < n; i++)
		{
			if (strstr(a.redacted, SECRET(&a.secrets, i)) != NULL ||
				strstr(a.echo, SECRET(&a.secrets, i)) != NULL)
			{
				fprintf(stderr, "secret \"%s\" survived redaction: %s\n",
						SECRET(&a.secrets, i), a.redacted);
				abort();
			}
		}
	}
	fuzz_reset();

	/* echoed forms of the first line, written into the rest */
	{
		char	   *nl = strchr(buf, '\n');
		size_t		slen = nl ? (size_t) (nl - buf) : 0;
		bool		ok = slen >= 4 && slen <= 64;

		for (size_t k = 0; ok && k < slen; k++)
			ok = buf[k] >= 0x20 && buf[k] < 0x7F;
		if (ok)
		{
			*nl = '\0';
			if (checkable(buf) && strpbrk(buf, "\\%+") == NULL)
				check_echo(buf, nl + 1);
		}
		fuzz_reset();
	}
	free(buf);
	return 0;
}
