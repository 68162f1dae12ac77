/*-------------------------------------------------------------------------
 *
 * http.c
 *	  HTTP requests of a job with libcurl.
 *
 *	  One curl easy handle per job, reused across pages so connections are
 *	  kept alive; it is freed by a reset callback of the job's memory context,
 *	  so an ERROR anywhere in the job frees it too.  curl callbacks never
 *	  ereport (a longjmp out of curl would corrupt it): the body is received
 *	  into a malloc'd buffer owned by the handle (reused, so memory does not
 *	  grow with pages), the size limit is checked as data arrives (after
 *	  decompression), and a pending cancel or termination ends the wait
 *	  for an answer; CHECK_FOR_INTERRUPTS runs once curl is out of the way.
 *
 *	  Transfers run on a curl multi handle, which keeps the connections.
 *	  That lets the job send the next page's request before it stores the
 *	  current page (nango_http_start): the API answers into the socket
 *	  while the database works, and nango_http_fetch of the same request
 *	  then completes that transfer as its first attempt.  The timeout of an
 *	  attempt counts from when the job starts waiting for its answer (not
 *	  from when it was sent), so a long store does not time the next page
 *	  out.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <curl/curl.h>
#include <math.h>
#include <time.h>

#include "common/pg_prng.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/memutils.h"
#include "utils/wait_event.h"

#include "credscope.h"
#include "http.h"
#include "nango.h"
#include "netguard.h"
#include "progress.h"
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

static bool curl_initialized = false;

/*
 * mbuf_append: appends to a malloc'd buffer, keeping it NUL-terminated.
 * Returns false when out of memory.
 */
static bool
mbuf_append(MBuf *b, const char *data, size_t len)
{
	if (b->len + len + 1 > b->cap)
	{
		size_t		ncap = b->cap ? b->cap : 8192;
		char	   *n;

		while (ncap < b->len + len + 1)
			ncap *= 2;
		n = realloc(b->data, ncap);
		if (n == NULL)
		{
			b->oom = true;
			return false;
		}
		b->data = n;
		b->cap = ncap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return true;
}

/* http_free: the memory context reset callback that frees curl resources. */
static void
http_free(void *arg)
{
	NangoHttp  *h = (NangoHttp *) arg;

	if (h->in_multi)
		curl_multi_remove_handle(h->multi, h->curl);
	h->in_multi = false;
	if (h->hdrs)
		curl_slist_free_all(h->hdrs);
	h->hdrs = NULL;
	if (h->curl)
		curl_easy_cleanup(h->curl);
	h->curl = NULL;
	if (h->multi && !h->shares_multi)
		curl_multi_cleanup(h->multi);
	h->multi = NULL;
	free(h->body.data);
	free(h->prev_body.data);
	free(h->link.data);
	free(h->pending_key);
	h->body.data = h->prev_body.data = h->link.data = h->pending_key = NULL;
	if (h->rl_requests > 0)
		nango_ratelimit_release();
}

NangoHttp *
nango_http_create(MemoryContext cxt, const NangoSecrets *secrets)
{
	NangoHttp  *h = MemoryContextAllocZero(cxt, sizeof(NangoHttp));

	if (!curl_initialized)
	{
		if (curl_global_init(CURL_GLOBAL_ALL) != CURLE_OK)
			ereport(ERROR,
					(errcode(ERRCODE_SYSTEM_ERROR),
					 errmsg("could not initialize libcurl")));
		curl_initialized = true;
	}
	h->curl = curl_easy_init();
	h->multi = curl_multi_init();
	if (h->curl == NULL || h->multi == NULL)
	{
		if (h->curl)
			curl_easy_cleanup(h->curl);
		if (h->multi)
			curl_multi_cleanup(h->multi);
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("could not create a libcurl handle")));
	}
	h->secrets = secrets;
	h->cb.func = http_free;
	h->cb.arg = h;
	MemoryContextRegisterResetCallback(cxt, &h->cb);
	return h;
}

/* write_cb: receives body data (decompressed), enforcing the size limit. */
static size_t
write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	NangoHttp  *h = (NangoHttp *) userdata;
	size_t		n = size * nmemb;

	if (h->body.len + n > h->max_size)
	{
		h->too_large = true;
		return 0;
	}
	if (!mbuf_append(&h->body, ptr, n))
		return 0;
	return n;
}

/*
 * keep_header: when the header line (n bytes) is name (lower case, with its
 * colon), copies its trimmed value into buf (cut to size) and returns true.
 */
static bool
keep_header(const char *line, size_t n, const char *name, char *buf, size_t size)
{
	size_t		nlen = strlen(name);
	const char *v;
	size_t		vlen;

	if (n <= nlen || pg_strncasecmp(line, name, nlen) != 0)
		return false;
	v = line + nlen;
	vlen = n - nlen;
	while (vlen > 0 && (*v == ' ' || *v == '\t'))
		v++, vlen--;
	while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
		vlen--;
	if (vlen >= size)
		vlen = size - 1;
	memcpy(buf, v, vlen);
	buf[vlen] = '\0';
	return true;
}

/*
 * header_cb: keeps the Link, Retry-After and rate-limit headers of the final response
 * (a new status line, e.g. after a redirect, starts over).
 */
static size_t
header_cb(char *buffer, size_t size, size_t nitems, void *userdata)
{
	NangoHttp  *h = (NangoHttp *) userdata;
	size_t		n = size * nitems;
	size_t		vlen;
	const char *v;

	if (n >= 5 && strncmp(buffer, "HTTP/", 5) == 0)
	{
		h->link.len = 0;
		if (h->link.data)
			h->link.data[0] = '\0';
		h->retry_after[0] = '\0';
		h->rl_remaining[0] = h->rl_reset[0] = '\0';
		h->rl_x_remaining[0] = h->rl_x_reset[0] = '\0';
		return n;
	}
	if (keep_header(buffer, n, "x-ratelimit-remaining:", h->rl_x_remaining, sizeof(h->rl_x_remaining)) ||
		keep_header(buffer, n, "x-ratelimit-reset:", h->rl_x_reset, sizeof(h->rl_x_reset)) ||
		keep_header(buffer, n, "ratelimit-remaining:", h->rl_remaining, sizeof(h->rl_remaining)) ||
		keep_header(buffer, n, "ratelimit-reset:", h->rl_reset, sizeof(h->rl_reset)))
		return n;
	if (n > 5 && pg_strncasecmp(buffer, "link:", 5) == 0)
	{
		v = buffer + 5;
		vlen = n - 5;
		while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n'))
			vlen--;
		if (h->link.len > 0)
			mbuf_append(&h->link, ", ", 2);
		mbuf_append(&h->link, v, vlen);
	}
	else if (n > 12 && pg_strncasecmp(buffer, "retry-after:", 12) == 0)
	{
		v = buffer + 12;
		vlen = n - 12;
		while (vlen > 0 && (*v == ' ' || *v == '\t'))
			v++, vlen--;
		while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
			vlen--;
		if (vlen >= sizeof(h->retry_after))
			vlen = sizeof(h->retry_after) - 1;
		memcpy(h->retry_after, v, vlen);
		h->retry_after[vlen] = '\0';
	}
	return n;
}

/* has_header: does the request carry a header of that name already? */
static bool
has_header(const NangoRequest *req, const char *name)
{
	int			i;

	for (i = 0; i < req->nheaders; i++)
		if (pg_strcasecmp(req->headers[i].name, name) == 0)
			return true;
	return false;
}

/*
 * setup_request: sets every option of one attempt on the (reset) handle:
 * method, body, headers, limits, redirects, protocols, callbacks.
 */
static void
setup_request(NangoHttp *h, const NangoRequest *req)
{
	CURL	   *c = h->curl;
	int			i;

	curl_easy_reset(c);
	/* the handle's owner, for the transfers of a shared multi handle (drive) */
	curl_easy_setopt(c, CURLOPT_PRIVATE, (void *) h);
	if (h->hdrs)
		curl_slist_free_all(h->hdrs);
	h->hdrs = NULL;

	curl_easy_setopt(c, CURLOPT_URL, req->url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
	curl_easy_setopt(c, CURLOPT_USERAGENT, NANGO_USER_AGENT);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	/*
	 * Redirects are followed by nango_http_fetch, one request per hop, so
	 * that each hop is judged by its own origin (credscope.c): curl itself
	 * would send custom headers such as X-Api-Key to any host.
	 */
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	/*
	 * No CURLOPT_TIMEOUT_MS: curl counts it from the start of the transfer,
	 * and a transfer started by nango_http_start waits for the job before
	 * anyone reads it.  finish_attempt applies req->timeout_ms from the
	 * moment the job waits for the answer.
	 */
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, h);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, h);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) h->max_size);
	if (!req->trusted)
	{
		nango_guard_install(c, &h->guard);
		/*
		 * No proxy from the server's environment (http_proxy, ...): through
		 * a proxy the guard would only see the proxy's address.
		 */
		curl_easy_setopt(c, CURLOPT_PROXY, "");
	}

	if (strcmp(req->method, "GET") == 0)
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	else if (strcmp(req->method, "POST") == 0)
		curl_easy_setopt(c, CURLOPT_POST, 1L);
	else
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
	if (req->body != NULL && strcmp(req->method, "GET") != 0)
	{
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) strlen(req->body));
		/* copied: a started transfer outlives the caller's page memory */
		curl_easy_setopt(c, CURLOPT_COPYPOSTFIELDS, req->body);
		if (!has_header(req, "Content-Type"))
			h->hdrs = curl_slist_append(h->hdrs, "Content-Type: application/json");
	}
	else if (strcmp(req->method, "POST") == 0)
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
	if (!has_header(req, "Accept"))
		h->hdrs = curl_slist_append(h->hdrs, "Accept: application/json");
	/* no "Expect: 100-continue" round trip for bodies */
	h->hdrs = curl_slist_append(h->hdrs, "Expect:");
	for (i = 0; i < req->nheaders; i++)
	{
		char	   *line;

		/* "Name;" is curl's way to send a header with an empty value */
		if (req->headers[i].value[0] == '\0')
			line = psprintf("%s;", req->headers[i].name);
		else
			line = psprintf("%s: %s", req->headers[i].name, req->headers[i].value);
		h->hdrs = curl_slist_append(h->hdrs, line);
		pfree(line);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h->hdrs);
}

/*
 * begin_attempt: sets up one attempt of req and adds it to the multi
 * handle; nothing is sent until the multi handle is driven.
 */
static void
begin_attempt(NangoHttp *h, const NangoRequest *req)
{
	setup_request(h, req);
	h->body.len = 0;
	if (h->body.data)
		h->body.data[0] = '\0';
	h->body.oom = false;
	h->link.len = 0;
	if (h->link.data)
		h->link.data[0] = '\0';
	h->retry_after[0] = '\0';
	h->rl_remaining[0] = h->rl_reset[0] = '\0';
	h->rl_x_remaining[0] = h->rl_x_reset[0] = '\0';
	h->errbuf[0] = '\0';
	h->too_large = false;
	h->guard.refused[0] = '\0';
	h->last_status = 0;
	h->done = false;
	h->timeout_ms = req->timeout_ms;
	if (curl_multi_add_handle(h->multi, h->curl) != CURLM_OK)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("could not start a libcurl transfer")));
	h->in_multi = true;
}

/*
 * drive: runs the multi handle's transfers as far as they go without
 * waiting; sets done (and done_rc) on each handle whose attempt has ended,
 * h's or, on a shared multi handle, another's.  Returns how many ended.
 */
static int
drive(NangoHttp *h)
{
	int			running;
	int			queued;
	int			ended = 0;
	CURLMsg    *m;

	if (curl_multi_perform(h->multi, &running) != CURLM_OK)
	{
		h->done = true;
		h->done_rc = CURLE_OUT_OF_MEMORY;
		return 1;
	}
	while ((m = curl_multi_info_read(h->multi, &queued)) != NULL)
		if (m->msg == CURLMSG_DONE)
		{
			NangoHttp  *owner = NULL;

			if (curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **) &owner) != CURLE_OK ||
				owner == NULL)
				continue;
			owner->done = true;
			owner->done_rc = m->data.result;
			ended++;
		}
	return ended;
}

/*
 * finish_attempt: drives the added attempt to its end (it may have ended
 * already), waiting on its sockets for at most the request's timeout from
 * now (CURLE_OPERATION_TIMEDOUT after that); a pending cancel or
 * termination aborts it.  Interrupts are serviced (CHECK_FOR_INTERRUPTS)
 * once curl is out of the way.
 */
static CURLcode
finish_attempt(NangoHttp *h)
{
	CURLcode	rc;
	TimestampTz deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), h->timeout_ms);

	pgstat_report_wait_start(PG_WAIT_EXTENSION);
	nango_progress_wait(NANGO_WAITING_API);
	for (;;)
	{
		long		left;

		if (!h->done)
			drive(h);
		if (h->done)
		{
			rc = h->done_rc;
			break;
		}
		if (QueryCancelPending || ProcDiePending)
		{
			rc = CURLE_ABORTED_BY_CALLBACK;
			break;
		}
		left = (long) ((deadline - GetCurrentTimestamp()) / 1000);
		if (left <= 0)
		{
			rc = CURLE_OPERATION_TIMEDOUT;
			break;
		}
		(void) curl_multi_poll(h->multi, NULL, 0, left < 100 ? (int) left : 100, NULL);
	}
	pgstat_report_wait_end();
	nango_progress_wait(NANGO_WAITING_NONE);
	curl_multi_remove_handle(h->multi, h->curl);
	h->in_multi = false;
	CHECK_FOR_INTERRUPTS();
	if (rc == CURLE_OK)
		curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &h->last_status);
	if (h->body.data == NULL)
		mbuf_append(&h->body, "", 0);
	return rc;
}

/* perform_once: one attempt, start to end. */
static CURLcode
perform_once(NangoHttp *h, const NangoRequest *req)
{
	begin_attempt(h, req);
	return finish_attempt(h);
}

/* request_key: what identifies a request for nango_http_start (malloc'd). */
static char *
request_key(const NangoRequest *req)
{
	size_t		n = strlen(req->method) + strlen(req->url) + (req->body ? strlen(req->body) : 0) + 4;
	char	   *k = malloc(n);

	if (k != NULL)
		snprintf(k, n, "%s %s%c%s", req->method, req->url, req->body ? 'B' : '-',
				 req->body ? req->body : "");
	return k;
}

/*
 * abandon_pending: drops a started transfer nobody asked for, keeping the
 * last completed response as the one shown.
 */
static void
abandon_pending(NangoHttp *h)
{
	MBuf		t;

	if (!h->pending)
		return;
	if (h->in_multi)
		curl_multi_remove_handle(h->multi, h->curl);
	h->in_multi = false;
	t = h->body;
	h->body = h->prev_body;
	h->prev_body = t;
	h->last_status = h->prev_status;
	h->pending = false;
	free(h->pending_key);
	h->pending_key = NULL;
}

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
 * scope_request: judges req by its own origin against the handle's scope
 * (or origin_url, the URL the caller asked for, when the handle has none).
 * Returns NANGO_CRED_SEND with *out = *req, NANGO_CRED_WITHHOLD with *out a
 * copy of req without the caller's headers, or NANGO_CRED_REFUSE (a move
 * from https to http that would carry the credentials, or a body holding
 * a secret that would leave the origin).
 */
static NangoCredVerdict
scope_request(NangoHttp *h, const NangoRequest *req, const char *origin_url, NangoRequest *out)
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
 * scoped_request: scope_request, counting requests sent without the
 * credentials; a refused one is an ERROR.  Returns the verdict.
 */
static NangoCredVerdict
scoped_request(NangoHttp *h, const NangoRequest *req, const char *origin_url, NangoRequest *out)
{
	NangoCredVerdict v = scope_request(h, req, origin_url, out);

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
 * rate_acquire: takes req's request from its budget (ratelimit.c), keyed
 * by its host and the credentials it carries (creds: the sync's
 * credentials go with it).  A trusted server (Pizzly) has no budget.
 * Returns false when !wait and the request would have to wait.
 */
static bool
rate_acquire(NangoHttp *h, const NangoRequest *req, bool creds, bool wait)
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
 * rate_note: after a response, an announced spent budget
 * (X-RateLimit-Remaining: 0 with X-RateLimit-Reset in Unix time or
 * seconds, or RateLimit-Remaining: 0 with RateLimit-Reset in seconds)
 * makes every request of the budget wait until the reset.
 */
static void
rate_note(NangoHttp *h)
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

/*
 * nango_http_start: see http.h.  The completed response's body stays
 * what nango_http_body_excerpt shows until the started one is fetched.
 */
void
nango_http_start(NangoHttp *h, const NangoRequest *req)
{
	MBuf		t;
	NangoRequest scoped;
	NangoCredVerdict v;

	abandon_pending(h);
	/* a refused request is not started: its fetch raises the ERROR */
	v = scope_request(h, req, req->url, &scoped);
	if (v == NANGO_CRED_REFUSE)
		return;
	/* a request the rate limit holds back is sent by its fetch, after the wait */
	if (!rate_acquire(h, &scoped, v == NANGO_CRED_SEND, false))
		return;
	h->pending_key = request_key(req);
	if (h->pending_key == NULL)
		return;
	t = h->prev_body;
	h->prev_body = h->body;
	h->body = t;
	h->prev_status = h->last_status;
	h->pending = true;
	h->max_size = (size_t) nango_max_response_size_kb * 1024;
	begin_attempt(h, &scoped);
	drive(h);
}

/*
 * take_pending: when a started transfer is req's, completes it and
 * returns true with *rc set; otherwise drops it.  The started transfer is
 * the first attempt: its timeout counts from now (finish_attempt), so time
 * the job spent storing the previous page neither times it out nor makes
 * it be sent twice.
 */
static bool
take_pending(NangoHttp *h, const NangoRequest *req, CURLcode *rc)
{
	char	   *key;
	bool		same;

	if (!h->pending)
		return false;
	key = request_key(req);
	same = key != NULL && strcmp(key, h->pending_key) == 0;
	free(key);
	if (!same)
	{
		abandon_pending(h);
		return false;
	}
	h->pending = false;
	free(h->pending_key);
	h->pending_key = NULL;
	*rc = finish_attempt(h);
	return true;
}

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
 * excerpt of the last body, secrets redacted, at most maxlen bytes.  The
 * body is redacted before it is cut, with a margin of the longest secret,
 * so that a secret straddling the cut cannot leave its first bytes behind.
 */
char *
nango_http_body_excerpt(NangoHttp *h, int maxlen)
{
	char	   *s;
	int			len;
	int			margin = 0;
	int			copied;
	int			i;
	MBuf	   *b;

	if (h == NULL)
		return NULL;
	b = h->pending ? &h->prev_body : &h->body;
	if (b->data == NULL || b->len == 0)
		return NULL;
	/* an echoed form is at most 6 times as long (\uXXXX for each byte) */
	margin = 6 * nango_secrets_maxlen(h->secrets);
	len = b->len < (size_t) (maxlen + margin) ? (int) b->len : maxlen + margin;
	/* cut the window at a character boundary */
	while (len > 0 && (size_t) len < b->len &&
		   (((unsigned char) b->data[len]) & 0xC0) == 0x80)
		len--;
	copied = len;
	s = palloc(len + 1);
	memcpy(s, b->data, len);
	s[len] = '\0';
	if (!pg_verify_mbstr(PG_UTF8, s, len, true))
	{
		/* not UTF-8 (or NUL bytes): keep ASCII only */
		for (i = 0; i < len; i++)
			if (s[i] == '\0' || IS_HIGHBIT_SET(s[i]))
				s[i] = '?';
	}
	s = nango_redact_text(s, h->secrets);
	len = strlen(s);
	if (len > maxlen)
	{
		len = maxlen;
		/* cut at a character boundary */
		while (len > 0 && (((unsigned char) s[len]) & 0xC0) == 0x80)
			len--;
		s[len] = '\0';
		s = psprintf("%s...", s);
	}
	else if (b->len > (size_t) copied)
		s = psprintf("%s...", s);
	if (GetDatabaseEncoding() != PG_UTF8)
		s = pg_any_to_server(s, strlen(s), PG_UTF8);
	return s;
}

long
nango_http_last_status(NangoHttp *h)
{
	return h == NULL ? 0 : h->pending ? h->prev_status : h->last_status;
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

		v = scoped_request(h, &cur, req->url, &sent);
		if (!take || !take_pending(h, &sent, &rc))
		{
			(void) rate_acquire(h, &sent, v == NANGO_CRED_SEND, true);
			rc = perform_once(h, &sent);
		}
		take = false;
		if (rc == CURLE_OK)
			rate_note(h);
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
	{
		char	   *eff = NULL;

		curl_easy_getinfo(h->curl, CURLINFO_EFFECTIVE_URL, &eff);
		resp->effective_url = eff ? eff : req->url;
	}
}

char *
nango_url_escape(NangoHttp *h, const char *s)
{
	char	   *e = curl_easy_escape(h ? h->curl : NULL, s, (int) strlen(s));
	char	   *r;

	if (e == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	r = pstrdup(e);
	curl_free(e);
	return r;
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

/* ---------------------------------------------------------------------
 * Handles sharing one multi handle (the request chains of a child sync)
 * ---------------------------------------------------------------------
 */

/*
 * nango_http_create_sharing: see http.h.  The new handle drops its own
 * multi handle for with's, and copies with's credential scope and rate
 * limit (the strings stay with's: with outlives the new handle).
 */
NangoHttp *
nango_http_create_sharing(MemoryContext cxt, const NangoSecrets *secrets, NangoHttp *with)
{
	NangoHttp  *h = nango_http_create(cxt, secrets);

	curl_multi_cleanup(h->multi);
	h->multi = with->multi;
	h->shares_multi = true;
	h->scope_url = with->scope_url;
	h->scope_hosts = with->scope_hosts;
	h->scope_nhosts = with->scope_nhosts;
	h->rl_requests = with->rl_requests;
	h->rl_per_ms = with->rl_per_ms;
	h->rl_extra = with->rl_extra;
	return h;
}

/* nango_http_started: see http.h. */
bool
nango_http_started(NangoHttp *h)
{
	return h->pending;
}

/* nango_http_answered: see http.h. */
bool
nango_http_answered(NangoHttp *h)
{
	return !h->pending || h->done;
}

/*
 * nango_http_wait: see http.h.  The wait shows as waiting for the API;
 * interrupts are serviced once curl is out of the way.
 */
void
nango_http_wait(NangoHttp *h, int max_ms)
{
	if (drive(h) > 0)
		return;
	pgstat_report_wait_start(PG_WAIT_EXTENSION);
	nango_progress_wait(NANGO_WAITING_API);
	(void) curl_multi_poll(h->multi, NULL, 0, max_ms, NULL);
	(void) drive(h);
	pgstat_report_wait_end();
	nango_progress_wait(NANGO_WAITING_NONE);
	CHECK_FOR_INTERRUPTS();
}
