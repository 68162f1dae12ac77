/*-------------------------------------------------------------------------
 *
 * http.h
 *	  HTTP requests of a job with libcurl (docs/sync-modes.md): one handle per
 *	  job reused across pages, redirects, gzip, size limit, timeouts,
 *	  cancellation, retries with backoff and Retry-After.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NANGO_HTTP_H
#define NANGO_HTTP_H

#include "postgres.h"

#include "config.h"
#include "redact.h"

typedef struct NangoHttp NangoHttp;

/* One request to send. */
typedef struct NangoRequest
{
	const char *method;			/* GET, POST, PUT, PATCH, DELETE */
	const char *url;			/* full URL, query included */
	int			nheaders;
	const NangoPair *headers;
	const char *body;			/* JSON text or NULL */
	int			timeout_ms;		/* total per attempt */
	int			retries;		/* retries after the first attempt */
	bool		return_401;		/* give a 401 back to the caller instead of failing */
	bool		return_gone;	/* give a 404 or 410 back to the caller instead of failing */
	bool		trusted;		/* a superuser-configured server (Pizzly): the
								 * network guard does not apply */
	/*
	 * Validators of a conditional request (docs/config.md): sent as
	 * If-None-Match and If-Modified-Since when not NULL; a 304 Not
	 * Modified is then an answer (status 304, empty body), and an ERROR
	 * for a request without them.
	 */
	const char *if_none_match;
	const char *if_modified_since;
} NangoRequest;

/* The outcome of a request (valid until the next request on the handle). */
typedef struct NangoResponse
{
	long		status;			/* HTTP status of the final response */
	const char *body;			/* NUL-terminated body (decompressed) */
	size_t		body_len;
	const char *link;			/* Link header(s) joined with ", ", or NULL */
	const char *effective_url;	/* URL after redirects */
	int			attempts;		/* requests made, retries included */
	const char *etag;			/* ETag header, or NULL */
	const char *last_modified;	/* Last-Modified header, or NULL */
} NangoResponse;

/*
 * nango_http_create: a handle whose curl resources are freed when cxt is
 * reset or deleted (including on ERROR).  secrets are used to redact error
 * messages.
 */
extern NangoHttp *nango_http_create(MemoryContext cxt, const NangoSecrets *secrets);

/*
 * nango_http_fetch: sends the request, retrying connection errors,
 * timeouts, 5xx and 429 with exponential backoff and jitter (honouring
 * Retry-After up to NANGO_RETRY_AFTER_CAP_S).  A 2xx response (or a 401
 * when return_401) is returned; every other outcome is an ERROR naming the
 * status, the redacted URL and a body excerpt.
 */
extern void nango_http_fetch(NangoHttp *h, const NangoRequest *req, NangoResponse *resp);

/*
 * nango_http_start: sends req without waiting for the answer, so the API
 * works while the caller does; a later nango_http_fetch of the same request
 * (method, URL, body) completes it as its first attempt (its timeout
 * counting from then), and any other request drops it.  The response the
 * caller last fetched stays valid for nango_http_body_excerpt and
 * nango_http_last_status, but its body, Link header and URL in the
 * NangoResponse must no longer be used.
 */
extern void nango_http_start(NangoHttp *h, const NangoRequest *req);

/*
 * nango_http_set_scope: the credential scope of the handle's requests
 * (credscope.c): the caller's headers go only to the origin of origin_url
 * and to hosts; every other request (a next URL, a Link, each redirect
 * hop) is sent without them, and a move from https to http that would
 * carry them is an ERROR.  A handle without a scope judges each fetch's
 * redirects against the URL that fetch asked for.
 */
extern void nango_http_set_scope(NangoHttp *h, const char *origin_url, char *const *hosts,
								 int nhosts);

/*
 * nango_http_set_rate_limit: the sync's rate_limit (requests per per_ms;
 * 0 requests: none of its own) for every request of the handle, and extra,
 * the sync's credentials other than headers (query values, say), which
 * make the budget's key with the host and the credential headers
 * (ratelimit.c).  Budgets announced by APIs apply with or without it.
 */
extern void nango_http_set_rate_limit(NangoHttp *h, int requests, int64 per_ms,
									  const char *extra);

/*
 * nango_http_create_sharing: a handle (freed with cxt, like
 * nango_http_create's) whose transfers run on with's multi handle, with
 * with's connections, credential scope and rate limit: one multi handle
 * drives the transfers of all such handles (a child sync's request
 * chains).  with must outlive it: create it in a child context of with's,
 * or later in the same context.
 */
extern NangoHttp *nango_http_create_sharing(MemoryContext cxt, const NangoSecrets *secrets,
											NangoHttp *with);

/*
 * nango_http_started: a transfer nango_http_start sent is waiting for its
 * nango_http_fetch (false when none, or when the rate limit held it back).
 */
extern bool nango_http_started(NangoHttp *h);

/*
 * nango_http_answered: nango_http_fetch of the started request would not
 * wait for the network (its first attempt has ended, or none was started).
 * It does not drive the transfers: nango_http_wait does.
 */
extern bool nango_http_answered(NangoHttp *h);

/*
 * nango_http_wait: drives the transfers of h's multi handle (every handle
 * sharing it), waiting at most max_ms for one of them to make progress
 * when none has just ended.
 */
extern void nango_http_wait(NangoHttp *h, int max_ms);

/* How many requests of the handle went to another origin without the headers. */
extern int64 nango_http_withheld_count(NangoHttp *h);

/* Longest wait for a Retry-After; a longer one waits this long, then retries. */
#define NANGO_RETRY_AFTER_CAP_S 60

/* What the last request did, for a failed job's error_detail. */
extern long nango_http_last_status(NangoHttp *h);
extern char *nango_http_body_excerpt(NangoHttp *h, int maxlen);

/*
 * nango_url_resolve: resolves ref (absolute, relative, or query-only)
 * against base; returns a palloc'd absolute URL or NULL if invalid.
 */
extern char *nango_url_resolve(const char *base, const char *ref);

#endif							/* NANGO_HTTP_H */
