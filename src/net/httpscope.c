/*-------------------------------------------------------------------------
 *
 * httpscope.c
 *	  What each HTTP request of a job may carry and when it may go: the
 *	  credential scope (credscope.c decides; here a withheld request is
 *	  counted and a refused one is an ERROR) and the rate limits
 *	  (ratelimit.c: the sync's own rate_limit and the budgets an API
 *	  announces in its RateLimit headers).  Runs no SQL.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <curl/curl.h>
#include <math.h>
#include <time.h>

#include "miscadmin.h"
#include "pgstat.h"
#include "utils/datetime.h"
#include "utils/memutils.h"

#include "credscope.h"
#include "http.h"
#include "http_int.h"
#include "nango.h"
#include "netguard.h"
#include "progress.h"
#include "ratelimit.h"

/*
 * nango_http_set_scope: see http.h.
 */
void
nango_http_set_scope(NangoHttp *h, const char *origin_url, char *const *hosts, int nhosts)
{
	MemoryContext cxt = GetMemoryChunkContext(h);

	h->scope_url = MemoryContextStrdup(cxt, origin_url);
	h->scope_nhosts = nhosts;
	h->scope_hosts = MemoryContextAlloc(cxt, sizeof(char *) * (nhosts + 1));
	for (int i = 0; i < nhosts; i++)
		h->scope_hosts[i] = MemoryContextStrdup(cxt, hosts[i]);
}

int64
nango_http_withheld_count(NangoHttp *h)
{
	return h == NULL ? 0 : h->withheld;
}

/*
 * body_carries_secret: does a request body hold one of the job's
 * secrets (a token placed by a placeholder, a client_secret, ...)?
 */
static bool
body_carries_secret(const NangoHttp *h, const char *body)
{
	if (body == NULL || h->secrets == NULL)
		return false;
	for (int i = 0; i < h->secrets->n; i++)
		if (strstr(body, h->secrets->values[i]) != NULL)
			return true;
	return false;
}

/*
 * http_scope_request: judges req by its own origin against the handle's scope
 * (or origin_url, the URL the caller asked for, when the handle has none).
 * Returns NANGO_CRED_SEND with *out = *req, NANGO_CRED_WITHHOLD with *out a
 * copy of req without the caller's headers, or NANGO_CRED_REFUSE (a move
 * from https to http that would carry the credentials, or a body holding
 * a secret that would leave the origin).
 */
NangoCredVerdict
http_scope_request(NangoHttp *h, const NangoRequest *req, const char *origin_url, NangoRequest *out)
{
	NangoCredVerdict v;

	*out = *req;
	v = nango_cred_verdict(h->scope_url ? h->scope_url : origin_url,
						   h->scope_hosts, h->scope_nhosts, req->url);
	if (v == NANGO_CRED_WITHHOLD)
	{
		if (body_carries_secret(h, req->body))
			return NANGO_CRED_REFUSE;
		out->nheaders = 0;
		out->headers = NULL;
	}
	return v;
}

/*
 * refuse_request: the ERROR for a request that would carry credentials
 * where they must not go.
 */
static void
pg_attribute_noreturn()
refuse_request(NangoHttp *h, const NangoRequest *req, const char *origin_url)
{
	char	   *url = nango_redact_url(req->url, h->secrets);

	if (nango_cred_verdict(h->scope_url ? h->scope_url : origin_url,
						   h->scope_hosts, h->scope_nhosts, req->url) == NANGO_CRED_REFUSE)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("refused to send the sync's credentials over plain http: %s %s", req->method, url),
				 errdetail("The sync's URL is https; a next URL, Link or redirect moved to http on a host that receives the credentials."),
				 errhint("Fix the API's URLs to stay on https, or use an http URL for the sync if the API has no https.")));
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("refused to send the sync's request body to another origin: %s %s", req->method, url),
			 errdetail("The body holds a credential, which goes only to the origin of the sync's URL and to its credential_hosts."),
			 errhint("Add the host to the sync's \"credential_hosts\" if it may receive the credentials.")));
}

/*
 * http_scoped_request: scope_request, counting requests sent without the
 * credentials; a refused one is an ERROR.  Returns the verdict.
 */
NangoCredVerdict
http_scoped_request(NangoHttp *h, const NangoRequest *req, const char *origin_url, NangoRequest *out)
{
	NangoCredVerdict v = http_scope_request(h, req, origin_url, out);

	if (v == NANGO_CRED_REFUSE)
		refuse_request(h, req, origin_url);
	if (v == NANGO_CRED_WITHHOLD && req->nheaders > 0)
	{
		h->withheld++;
		nango_log(NANGO_LOG_DEBUG, LOG, "nango: %s %s: another origin, sent without the sync's credentials",
				  req->method, nango_redact_url(req->url, h->secrets));
	}
	return v;
}

/*
 * nango_http_set_rate_limit: see http.h.
 */
void
nango_http_set_rate_limit(NangoHttp *h, int requests, int64 per_ms, const char *extra)
{
	h->rl_requests = requests;
	h->rl_per_ms = per_ms;
	h->rl_extra = extra ? MemoryContextStrdup(GetMemoryChunkContext(h), extra) : NULL;
}

/*
 * http_rate_acquire: takes req's request from its budget (ratelimit.c), keyed
 * by its host and the credentials it carries (creds: the sync's
 * credentials go with it).  A trusted server (Pizzly) has no budget.
 * Returns false when !wait and the request would have to wait.
 */
bool
http_rate_acquire(NangoHttp *h, const NangoRequest *req, bool creds, bool wait)
{
	memset(&h->rl_key, 0, sizeof(h->rl_key));
	if (req->trusted)
		return true;
	h->rl_key = nango_ratelimit_key(req->url, req->nheaders, req->headers,
									creds ? h->rl_extra : NULL);
	return nango_ratelimit_acquire(&h->rl_key, h->rl_requests, h->rl_per_ms, wait,
								   psprintf("%s %s", req->method, nango_redact_url(req->url, h->secrets)));
}

/*
 * reset_ms: milliseconds until a rate limit's reset: value is seconds, or
 * (epoch) a Unix time when it is larger than any sensible wait.
 */
static int64
reset_ms(const char *value, bool epoch)
{
	char	   *end;
	double		v = strtod(value, &end);

	if (end == value || !isfinite(v))
		return -1;
	while (*end == ' ')
		end++;
	if (*end != '\0')
		return -1;
	if (epoch && v > 1000000000.0)
		v -= (double) GetCurrentTimestamp() / USECS_PER_SEC +
			(double) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY;
	return v <= 0 ? -1 : (int64) ceil(v * 1000.0);
}

/*
 * http_rate_note: after a response, an announced spent budget
 * (X-RateLimit-Remaining: 0 with X-RateLimit-Reset in Unix time or
 * seconds, or RateLimit-Remaining: 0 with RateLimit-Reset in seconds)
 * makes every request of the budget wait until the reset.
 */
void
http_rate_note(NangoHttp *h)
{
	int64		ms = -1;

	if (strcmp(h->rl_x_remaining, "0") == 0 && h->rl_x_reset[0] != '\0')
		ms = reset_ms(h->rl_x_reset, true);
	else if (strcmp(h->rl_remaining, "0") == 0 && h->rl_reset[0] != '\0')
		ms = reset_ms(h->rl_reset, false);
	if (ms > 0)
	{
		nango_log(NANGO_LOG_INFO, LOG, "nango: the API's rate limit is spent; requests wait %lld ms for its reset",
				  (long long) ms);
		nango_ratelimit_note(&h->rl_key, ms);
	}
}
