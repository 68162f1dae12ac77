/*-------------------------------------------------------------------------
 *
 * placeholder.h
 *	  The one code path that writes credentials into a job's requests:
 *	  ${secret:name} (docs/security.md) and ${pizzlyAccessToken} /
 *	  ${nangoAccessToken} (docs/config.md, Auth) in the URL, header values,
 *	  query parameter values and body of a sync's config.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NANGO_PLACEHOLDER_H
#define NANGO_PLACEHOLDER_H

#include "postgres.h"

#include "nodes/pg_list.h"
#include "utils/jsonb.h"

#include "config.h"
#include "redact.h"

/* The two placeholders a config may use instead of the Bearer header. */
#define NANGO_PIZZLY_PLACEHOLDER "${pizzlyAccessToken}"
#define NANGO_NANGO_PLACEHOLDER "${nangoAccessToken}"

/* A secret placeholder is "${secret:" name "}". */
#define NANGO_SECRET_PREFIX "${secret:"

/* One secret of the sync's owner, as the job substitutes it. */
typedef struct NangoSecretValue
{
	char	   *name;
	char	   *value;
} NangoSecretValue;

typedef struct NangoFill NangoFill;

/*
 * nango_fill_begin: keeps cfg's URL, header values, query parameter values
 * and body as templates (cfg gets arrays of its own, rewritten by
 * nango_fill_apply).  secrets (nsecrets of them) are the values of the
 * ${secret:name} placeholders; every form in which a value is sent is
 * added to redact.  Allocations live in cxt.
 */
extern NangoFill *nango_fill_begin(NangoConfig *cfg, int nsecrets, const NangoSecretValue *secrets,
								   NangoSecrets *redact, MemoryContext cxt);

/*
 * nango_fill_apply: rewrites cfg from the templates in one pass: each
 * ${secret:name} by its value and, when token is not NULL, each token
 * placeholder by token.  A value goes in the form its place needs:
 * URL-encoded in the URL, JSON-escaped in the body, as it is in header
 * and query parameter values (the request builder encodes the latter).
 * Other ${...} text is left as written.
 */
extern void nango_fill_apply(NangoFill *f, const char *token);

/*
 * nango_secrets_add_forms: adds value to redact as written, URL-encoded,
 * JSON-escaped once and twice (the forms in which an API may echo it back,
 * e.g. an error page quoting the JSON body it received).
 */
extern void nango_secrets_add_forms(NangoSecrets *redact, const char *value);

/* Whether the templates contain a token placeholder (no Bearer header then). */
extern bool nango_fill_has_token_placeholder(const NangoFill *f);

/*
 * nango_secret_refs: the secret names (palloc'd strings) that cfg's URL,
 * header values, query parameter values and body reference, each once, in
 * the order first seen.  A malformed ${secret:...} is an ERROR (22023)
 * naming the config key.
 */
extern List *nango_secret_refs(const NangoConfig *cfg);

/* Whether name is a valid secret name: [A-Za-z_][A-Za-z0-9_]*, <= 63 bytes. */
extern bool nango_secret_name_valid(const char *name, int len);

/*
 * nango_parent_fill: a child sync's request config for one parent record
 * (docs/config.md): a copy of cfg (the job's config, its credentials
 * already written) whose URL, header values, query parameter values and
 * body have each ${parent.<dot path>} replaced by the record's value at
 * that path.  In the URL's path a value is percent-encoded except for
 * '/' (a segment of only dots is encoded too, so it cannot climb the
 * path); after the URL's '?' it is encoded as a query value; in query
 * parameter and header values it is put as it is (the request builder
 * encodes the former); in the JSON body a placeholder that is a whole
 * JSON string becomes the value itself (a number stays a number), one
 * inside a longer string is JSON-escaped there.  Values are scanned once:
 * a value holding "${" is not read as a placeholder.  Returns NULL when
 * the record has no usable value (a scalar other than null; in a header,
 * one without line breaks) at some path, which *missing then names.
 * Allocations in the current memory context.
 */
extern NangoConfig *nango_parent_fill(const NangoConfig *cfg, Jsonb *record, char **missing);

/*
 * nango_parent_fill_into: as nango_parent_fill, writing the result's URL,
 * headers, query parameters and body into out (a copy of cfg made
 * earlier), so that a pager holding out sees them; false (out unchanged)
 * when a value is missing.
 */
extern bool nango_parent_fill_into(const NangoConfig *cfg, Jsonb *record, NangoConfig *out,
								   char **missing);

#endif							/* NANGO_PLACEHOLDER_H */
