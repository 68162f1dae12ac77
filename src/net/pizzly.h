/*-------------------------------------------------------------------------
 *
 * pizzly.h
 *	  OAuth access tokens from Pizzly (Nango's auth server), docs/config.md
 *	  (Auth): fetched before a job, injected into its requests, fetched
 *	  again once when the API answers 401.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NANGO_PIZZLY_H
#define NANGO_PIZZLY_H

#include "postgres.h"

#include "config.h"
#include "placeholder.h"
#include "redact.h"

typedef struct NangoPizzly NangoPizzly;

/*
 * nango_pizzly_begin: for a config with pizzly_connection_id, fetches the
 * token and writes it into cfg through fill, the templates of cfg (the
 * URL, header, query parameter and body placeholders, or an
 * "Authorization: Bearer" header).  The token, the
 * Basic credentials and nango.pizzly_secret_key are added to secrets.
 * Allocations live in cxt (the job's context).  Every failure is an ERROR
 * naming Pizzly.  cfg is only the job's in-memory copy: the stored config
 * never sees a token.
 */
extern NangoPizzly *nango_pizzly_begin(NangoConfig *cfg, NangoFill *fill,
									   NangoSecrets *secrets, MemoryContext cxt);

/*
 * nango_pizzly_refresh: fetches the token again (after a 401 from the API)
 * and rewrites cfg with it.
 */
extern void nango_pizzly_refresh(NangoPizzly *pz);

/*
 * nango_pizzly_token_from_json: the credentials.access_token string of a
 * Pizzly connection response (palloc'd), or NULL when there is none.
 * Exposed for the fuzz target.
 */
extern char *nango_pizzly_token_from_json(const char *body, size_t len);

#endif							/* NANGO_PIZZLY_H */
