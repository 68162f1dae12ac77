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
typedef struct NangoSecrets
{
	int			n;
	char	  **values;
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

/* Adds a secret value (copied into the current memory context). */
extern void nango_secrets_add(NangoSecrets *secrets, const char *value);

#endif							/* NANGO_REDACT_H */
