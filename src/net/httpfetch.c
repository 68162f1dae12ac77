/*-------------------------------------------------------------------------
 *
 * httpfetch.c
 *	  One fetch of a job's request, end to end (nango_http_fetch): attempts
 *	  with retries (Retry-After, capped; exponential backoff with jitter
 *	  otherwise), redirects followed one by one under the network guard and
 *	  the credential scope, and the ERRORs of a transport failure or an
 *	  unsuccessful status, with a redacted excerpt of the body.  Runs no SQL.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <curl/curl.h>
#include <math.h>
#include <time.h>

#include "common/pg_prng.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/datetime.h"

#include "credscope.h"
#include "http.h"
#include "http_int.h"
#include "nango.h"
#include "netguard.h"
#include "progress.h"
#include "ratelimit.h"

/*
 * retry_after_ms: the wait a Retry-After header asks for (seconds or an
 * HTTP date), or -1 when absent or unreadable.
 */
static long
retry_after_ms(const char *value)
{
	char	   *end;
	long		secs;
	time_t		when;

	if (value[0] == '\0')
		return -1;
	secs = strtol(value, &end, 10);
	if (end != value && *end == '\0')
		return secs < 0 ? 0 : secs * 1000;
	when = curl_getdate(value, NULL);
	if (when == (time_t) -1)
		return -1;
	secs = (long) (when - time(NULL));
	return secs < 0 ? 0 : secs * 1000;
}

/* backoff_ms: exponential backoff with jitter for retry number n (0-based). */
static long
backoff_ms(int n)
{
	long		base = 500L << (n < 6 ? n : 6);	/* 0.5s, 1s, 2s ... 32s */

	return base / 2 + (long) (pg_prng_double(&pg_global_prng_state) * (base / 2));
}

/* sleep_ms: waits on the latch so that a cancel or shutdown ends the wait. */
static void
sleep_ms(long ms)
{
	TimestampTz end = GetCurrentTimestamp() + ms * 1000;

	for (;;)
	{
		long		left = (long) ((end - GetCurrentTimestamp()) / 1000);

		if (left <= 0)
			break;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 left, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/* retryable_curl_error: transport failures worth another attempt. */
static bool
retryable_curl_error(CURLcode rc)
{
	switch (rc)
	{
		case CURLE_COULDNT_RESOLVE_HOST:
		case CURLE_COULDNT_CONNECT:
		case CURLE_OPERATION_TIMEDOUT:
		case CURLE_SEND_ERROR:
		case CURLE_RECV_ERROR:
		case CURLE_GOT_NOTHING:
		case CURLE_PARTIAL_FILE:
		case CURLE_HTTP2:
		case CURLE_HTTP2_STREAM:
		case CURLE_SSL_CONNECT_ERROR:
			return true;
		default:
			return false;
	}
}

/*
 * fail_transport: the ERROR for a request that got no usable response.
 */
static void
fail_transport(NangoHttp *h, const NangoRequest *req, CURLcode rc, int attempts)
{
	char	   *url = nango_redact_url(req->url, h->secrets);

	if (h->too_large || rc == CURLE_FILESIZE_EXCEEDED)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("response body of %s %s is larger than nango.max_response_size (%zu bytes)",
						req->method, url, h->max_size)));
	if (h->guard.refused[0] != '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("request %s %s refused by nango.allow_private_networks: %s",
						req->method, url, h->guard.refused),
				 errdetail("Requests to loopback, private, link-local and unique-local addresses are refused, "
						   "also after DNS resolution and redirects."),
				 errhint("A superuser can allow them with nango.allow_private_networks = on.")));
	if (rc == CURLE_OPERATION_TIMEDOUT)
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("request %s %s timed out after %d ms", req->method, url, req->timeout_ms),
				 errhint("Raise the sync's \"timeout\" or nango.http_timeout."),
				 attempts > 1 ? errdetail("Gave up after %d attempts.", attempts) : 0));
	/* class 08 only for what may pass (see fail_status): not a bad redirect, say */
	ereport(ERROR,
			(errcode(retryable_curl_error(rc) ? ERRCODE_CONNECTION_FAILURE : ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
			 errmsg("request %s %s failed: %s", req->method, url,
					nango_redact_text(h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc), h->secrets)),
			 attempts > 1 ? errdetail("Gave up after %d attempts.", attempts) : 0));
}

/*
 * fail_status: the ERROR for an HTTP status nango does not accept.  Its
 * SQLSTATE says whether the failure may pass by itself, which decides
 * whether the worker retries the job (job.c, failure_retryable): 5xx, 429
 * and 408 are class 08 (connection exception), like a timeout; every other
 * status (404, a 401 that a fresh token did not cure, ...) is 38000.
 */
static void
fail_status(NangoHttp *h, const NangoRequest *req, int attempts)
{
	char	   *url = nango_redact_url(req->url, h->secrets);
	char	   *excerpt = nango_http_body_excerpt(h, 300);
	long		s = h->last_status;
	bool		transient = (s >= 500 || s == 429 || s == 408);

	ereport(ERROR,
			(errcode(transient ? ERRCODE_CONNECTION_EXCEPTION : ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
			 errmsg("HTTP %ld from %s %s", h->last_status, req->method, url),
			 excerpt ? errdetail("Response body: %s", excerpt) : 0,
			 attempts > 1 ? errhint("Gave up after %d attempts.", attempts) : 0));
}

/*
 * fail_not_modified: the ERROR for a 304 Not Modified to a request that
 * asked for no such answer (no If-None-Match, no If-Modified-Since): there
 * is no page to go on from.
 */
static void
fail_not_modified(NangoHttp *h, const NangoRequest *req)
{
	ereport(ERROR,
			(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
			 errmsg("HTTP 304 Not Modified from %s %s, which was not a conditional request",
					req->method, nango_redact_url(req->url, h->secrets)),
			 errdetail("The request carried no If-None-Match or If-Modified-Since header, so the response has no page to read."),
			 errhint("Check the API and the sync's headers.")));
}

/*
 * retry_wait: the wait before the next attempt: what Retry-After asks for,
 * at most NANGO_RETRY_AFTER_CAP_S (an API asking for longer gets the next
 * attempt after the cap, which counts toward "retries" like any other),
 * else exponential backoff.
 */
static long
retry_wait(NangoHttp *h, int retry)
{
	long		ra = retry_after_ms(h->retry_after);

	if (ra > NANGO_RETRY_AFTER_CAP_S * 1000L)
		return NANGO_RETRY_AFTER_CAP_S * 1000L;
	if (ra >= 0)
		return ra;
	return backoff_ms(retry);
}

/* Redirects followed by one fetch; the next one fails. */
#define NANGO_MAX_REDIRECTS 5

/*
 * redirect_target: after a 301, 302, 303, 307 or 308 with a Location, the
 * request of the next hop (its URL palloc'd); false for any other answer.
 * As browsers and curl do, 303 turns any method into GET, and 301 and 302
 * turn POST into GET; the body then stays behind.
 */
static bool
redirect_target(NangoHttp *h, const NangoRequest *cur, NangoRequest *next)
{
	long		s = h->last_status;
	char	   *loc = NULL;

	if (s != 301 && s != 302 && s != 303 && s != 307 && s != 308)
		return false;
	if (curl_easy_getinfo(h->curl, CURLINFO_REDIRECT_URL, &loc) != CURLE_OK || loc == NULL)
		return false;
	*next = *cur;
	next->url = pstrdup(loc);
	if (s == 303 || ((s == 301 || s == 302) && strcmp(cur->method, "POST") == 0))
	{
		next->method = "GET";
		next->body = NULL;
	}
	return true;
}

/*
 * attempt_following: one attempt of req, following redirects (at most
 * NANGO_MAX_REDIRECTS), each hop judged by its own origin (scoped_request:
 * another origin gets no credentials; a refused hop is an ERROR).  The
 * first hop may complete a transfer nango_http_start began (take).
 */
static CURLcode
attempt_following(NangoHttp *h, const NangoRequest *req, bool take)
{
	NangoRequest cur = *req;
	NangoRequest sent;
	CURLcode	rc = CURLE_OK;
	int			hops = 0;

	for (;;)
	{
		NangoRequest next;
		NangoCredVerdict v;

		v = http_scoped_request(h, &cur, req->url, &sent);
		if (!take || !http_take_pending(h, &sent, &rc))
		{
			(void) http_rate_acquire(h, &sent, v == NANGO_CRED_SEND, true);
			rc = http_perform_once(h, &sent);
		}
		take = false;
		if (rc == CURLE_OK)
			http_rate_note(h);
		if (rc != CURLE_OK || !redirect_target(h, &cur, &next))
			return rc;
		if (++hops > NANGO_MAX_REDIRECTS)
		{
			snprintf(h->errbuf, sizeof(h->errbuf), "Maximum (%d) redirects followed",
					 NANGO_MAX_REDIRECTS);
			return CURLE_TOO_MANY_REDIRECTS;
		}
		cur = next;
	}
}

void
nango_http_fetch(NangoHttp *h, const NangoRequest *req, NangoResponse *resp)
{
	int			attempt = 0;

	h->max_size = (size_t) nango_max_response_size_kb * 1024;
	for (;;)
	{
		CURLcode	rc = CURLE_OK;
		bool		retry;
		long		wait;

		rc = attempt_following(h, req, attempt == 0);

		attempt++;
		if (h->body.oom)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory while receiving a response")));
		if (rc == CURLE_OK)
		{
			long		s = h->last_status;

			if ((s >= 200 && s < 300) || (s == 401 && req->return_401) ||
				((s == 404 || s == 410) && req->return_gone))
				break;
			if (s == 304)
			{
				if (req->if_none_match != NULL || req->if_modified_since != NULL)
					break;
				fail_not_modified(h, req);
			}
			retry = (s == 429 || s >= 500);
			if (!retry || attempt > req->retries)
				fail_status(h, req, attempt);
		}
		else if (rc == CURLE_ABORTED_BY_CALLBACK && attempt <= req->retries + 10)
		{
			/* a cancel that CHECK_FOR_INTERRUPTS did not act on: send again */
			continue;
		}
		else
		{
			if (!retryable_curl_error(rc) || h->guard.refused[0] != '\0' ||
				attempt > req->retries)
				fail_transport(h, req, rc, attempt);
		}
		wait = retry_wait(h, attempt - 1);
		nango_log(NANGO_LOG_INFO, LOG, "nango: %s %s: %s, retrying in %ld ms (attempt %d of %d)",
				  req->method, nango_redact_url(req->url, h->secrets),
				  rc == CURLE_OK ? psprintf("HTTP %ld", h->last_status) : curl_easy_strerror(rc),
				  wait, attempt + 1, req->retries + 1);
		nango_progress_wait(NANGO_WAITING_RETRY);
		sleep_ms(wait);
		nango_progress_wait(NANGO_WAITING_NONE);
	}
	resp->status = h->last_status;
	resp->body = h->body.data;
	resp->body_len = h->body.len;
	resp->link = h->link.len > 0 ? h->link.data : NULL;
	resp->attempts = attempt;
	resp->etag = h->etag[0] ? h->etag : NULL;
	resp->last_modified = h->last_modified[0] ? h->last_modified : NULL;
	{
		char	   *eff = NULL;

		curl_easy_getinfo(h->curl, CURLINFO_EFFECTIVE_URL, &eff);
		resp->effective_url = eff ? eff : req->url;
	}
}

char *
nango_url_resolve(const char *base, const char *ref)
{
	CURLU	   *u = curl_url();
	char	   *out = NULL;
	char	   *result = NULL;

	if (u == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	if (curl_url_set(u, CURLUPART_URL, base, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
		curl_url_set(u, CURLUPART_URL, ref, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
		curl_url_get(u, CURLUPART_URL, &out, 0) == CURLUE_OK)
	{
		result = pstrdup(out);
		curl_free(out);
	}
	curl_url_cleanup(u);
	return result;
}
