/*-------------------------------------------------------------------------
 *
 * redact.h
 *	  Secret redaction for everything nango writes where users or logs can
 *	  see it: request URLs, error messages, response excerpts.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NANGO_REDACT_H
#define NANGO_REDACT_H

#include "postgres.h"

#define NANGO_REDACTED "REDACTED"

/*
 * A set of secret values (header values, tokens) that must never appear in
 * clear text.  Built once per job.
 */
#define NANGO_URL_SECRETS 16

typedef struct NangoSecrets
{
	int			n;
	char	  **values;
	/*
	 * Secrets of the URLs requested lately (nango_secrets_add_url): a ring,
	 * so that memory and redaction time do not grow with the pages of a job
	 * whose next URLs each carry a new signature.
	 */
	int			nurl;
	int			url_next;
	char	   *url_values[NANGO_URL_SECRETS];
} NangoSecrets;

/* true when a query parameter or key name looks like it carries a secret */
extern bool nango_secret_name(const char *name, int len);

/*
 * nango_redact_url: a palloc'd copy of url whose user-info password and
 * values of secret-looking query parameters are replaced by REDACTED, and
 * where every known secret value is replaced too (secrets may be NULL).
 */
extern char *nango_redact_url(const char *url, const NangoSecrets *secrets);

/*
 * nango_redact_text: a palloc'd copy of text where every known secret value
 * is replaced by REDACTED.  Returns NULL for NULL.
 */
extern char *nango_redact_text(const char *text, const NangoSecrets *secrets);

/* The length of the longest secret (0 when there is none). */
extern int	nango_secrets_maxlen(const NangoSecrets *secrets);

/* Adds a secret value (copied into the current memory context). */
extern void nango_secrets_add(NangoSecrets *secrets, const char *value);

/*
 * nango_secrets_add_url: adds the secrets a URL carries (the user-info
 * password and the values of secret-looking query parameters, as written
 * and percent-decoded), so that an API echoing them is redacted too.
 * With keep they stay for the whole job (the configured URL); otherwise
 * they join the ring of the latest URLs' secrets (URLs of later pages).
 */
extern void nango_secrets_add_url(NangoSecrets *secrets, const char *url, bool keep);

/*
 * nango_secrets_add_json: adds the string (and number) values of
 * secret-looking keys at any depth of a JSON text (a request body such as
 * {"client_secret": "..."}), so that an API echoing them is redacted too.
 */
extern void nango_secrets_add_json(NangoSecrets *secrets, const char *json);

#endif							/* NANGO_REDACT_H */
