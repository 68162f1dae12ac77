/*-------------------------------------------------------------------------
 *
 * http_int.h
 *	  What the files of the HTTP client share (http.c, httpfetch.c,
 *	  httpscope.c): the handle's layout and the steps one file calls in
 *	  another.  Not for other modules, which use http.h.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NANGO_HTTP_INT_H
#define NANGO_HTTP_INT_H

#include "postgres.h"

#include <curl/curl.h>

#include "credscope.h"
#include "http.h"
#include "netguard.h"
#include "ratelimit.h"

/* A growable malloc'd buffer; curl callbacks may not palloc. */
typedef struct MBuf
{
	char	   *data;
	size_t		len;
	size_t		cap;
	bool		oom;
} MBuf;

struct NangoHttp
{
	CURL	   *curl;
	CURLM	   *multi;
	bool		shares_multi;	/* multi belongs to another handle */
	bool		in_multi;		/* curl is added to multi */
	bool		done;			/* the added attempt has ended, with done_rc */
	CURLcode	done_rc;
	int			timeout_ms;		/* of the added attempt */
	struct curl_slist *hdrs;
	MBuf		body;
	MBuf		prev_body;		/* the completed response's body while a
								 * started transfer is pending */
	long		prev_status;
	bool		pending;		/* a transfer started by nango_http_start */
	char	   *pending_key;	/* its method, URL and body (malloc'd) */
	MBuf		link;
	char		retry_after[128];
	char		etag[512];		/* validators of the response ("" when none, */
	char		last_modified[128]; /* or too long to keep whole) */
	size_t		max_size;
	bool		too_large;
	long		last_status;
	NangoGuard	guard;
	char		errbuf[CURL_ERROR_SIZE];
	const NangoSecrets *secrets;
	MemoryContextCallback cb;

	/* credential scope (nango_http_set_scope); without it, each fetch's URL */
	char	   *scope_url;
	char	  **scope_hosts;
	int			scope_nhosts;
	int64		withheld;		/* requests sent without the credentials */

	/* rate limits (ratelimit.c; nango_http_set_rate_limit) */
	int			rl_requests;	/* the sync's own rate_limit, 0: none */
	int64		rl_per_ms;
	char	   *rl_extra;		/* other credentials for the budget's key */
	NangoRateKey rl_key;		/* the budget of the request sent last */
	char		rl_remaining[32];	/* RateLimit-Remaining / -Reset */
	char		rl_reset[32];
	char		rl_x_remaining[32];	/* X-RateLimit-Remaining / -Reset */
	char		rl_x_reset[32];
};

/* http.c: one attempt of req, or the transfer nango_http_start began for it. */
extern CURLcode http_perform_once(NangoHttp *h, const NangoRequest *req);
extern bool http_take_pending(NangoHttp *h, const NangoRequest *req, CURLcode *rc);

/* httpscope.c: the credential scope and the rate limits of a request. */
extern NangoCredVerdict http_scope_request(NangoHttp *h, const NangoRequest *req,
										   const char *origin_url, NangoRequest *out);
extern NangoCredVerdict http_scoped_request(NangoHttp *h, const NangoRequest *req,
											const char *origin_url, NangoRequest *out);
extern bool http_rate_acquire(NangoHttp *h, const NangoRequest *req, bool creds, bool wait);
extern void http_rate_note(NangoHttp *h);

#endif							/* NANGO_HTTP_INT_H */
