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
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

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
	free(buf);
	return 0;
}
