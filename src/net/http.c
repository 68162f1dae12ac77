/*-------------------------------------------------------------------------
 *
 * http.c
 *	  HTTP requests of a job with libcurl: the handle and its transfers.
 *	  One fetch with its retries and redirects is in httpfetch.c; the
 *	  credential scope and the rate limits of each request in httpscope.c.
 *	  The HTTP layer runs no SQL.
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

#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/datetime.h"

#include "credscope.h"
#include "http.h"
#include "http_int.h"
#include "nango.h"
#include "netguard.h"
#include "progress.h"
#include "ratelimit.h"

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
 * forget_headers: drops what was kept of the last response's headers
 * (Link, Retry-After, rate-limit headers), before a new response.
 */
static void
forget_headers(NangoHttp *h)
{
	h->link.len = 0;
	if (h->link.data)
		h->link.data[0] = '\0';
	h->retry_after[0] = '\0';
	h->etag[0] = h->last_modified[0] = '\0';
	h->rl_remaining[0] = h->rl_reset[0] = '\0';
	h->rl_x_remaining[0] = h->rl_x_reset[0] = '\0';
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
		forget_headers(h);
		return n;
	}
	if (keep_header(buffer, n, "x-ratelimit-remaining:", h->rl_x_remaining, sizeof(h->rl_x_remaining)) ||
		keep_header(buffer, n, "x-ratelimit-reset:", h->rl_x_reset, sizeof(h->rl_x_reset)) ||
		keep_header(buffer, n, "ratelimit-remaining:", h->rl_remaining, sizeof(h->rl_remaining)) ||
		keep_header(buffer, n, "ratelimit-reset:", h->rl_reset, sizeof(h->rl_reset)))
		return n;
	/* a validator cut to the buffer would never match: none is kept then */
	if (keep_header(buffer, n, "etag:", h->etag, sizeof(h->etag)))
	{
		if (strlen(h->etag) >= sizeof(h->etag) - 1)
			h->etag[0] = '\0';
		return n;
	}
	if (keep_header(buffer, n, "last-modified:", h->last_modified, sizeof(h->last_modified)))
	{
		if (strlen(h->last_modified) >= sizeof(h->last_modified) - 1)
			h->last_modified[0] = '\0';
		return n;
	}
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
 * add_validators: the If-None-Match and If-Modified-Since headers of a
 * conditional request (docs/config.md#skip_unchanged_pages).  A value with
 * a line break is not sent (it would add a header line of its own).
 */
static void
add_validators(NangoHttp *h, const NangoRequest *req)
{
	char	   *line;

	if (req->if_none_match != NULL && strpbrk(req->if_none_match, "\r\n") == NULL)
	{
		line = psprintf("If-None-Match: %s", req->if_none_match);
		h->hdrs = curl_slist_append(h->hdrs, line);
		pfree(line);
	}
	if (req->if_modified_since != NULL && strpbrk(req->if_modified_since, "\r\n") == NULL)
	{
		line = psprintf("If-Modified-Since: %s", req->if_modified_since);
		h->hdrs = curl_slist_append(h->hdrs, line);
		pfree(line);
	}
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
	add_validators(h, req);
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
	forget_headers(h);
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
CURLcode
http_perform_once(NangoHttp *h, const NangoRequest *req)
{
	begin_attempt(h, req);
	return finish_attempt(h);
}

/* request_key: what identifies a request for nango_http_start (malloc'd). */
static char *
request_key(const NangoRequest *req)
{
	const char *inm = req->if_none_match ? req->if_none_match : "";
	const char *ims = req->if_modified_since ? req->if_modified_since : "";
	size_t		n = strlen(req->method) + strlen(req->url) + (req->body ? strlen(req->body) : 0) +
		strlen(inm) + strlen(ims) + 8;
	char	   *k = malloc(n);

	/* validators are part of it: a conditional request is another request */
	if (k != NULL)
		snprintf(k, n, "%s %s%c%s\n%c%s\n%c%s", req->method, req->url, req->body ? 'B' : '-',
				 req->body ? req->body : "", req->if_none_match ? 'E' : '-', inm,
				 req->if_modified_since ? 'M' : '-', ims);
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
	v = http_scope_request(h, req, req->url, &scoped);
	if (v == NANGO_CRED_REFUSE)
		return;
	/* a request the rate limit holds back is sent by its fetch, after the wait */
	if (!http_rate_acquire(h, &scoped, v == NANGO_CRED_SEND, false))
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
 * http_take_pending: when a started transfer is req's, completes it and
 * returns true with *rc set; otherwise drops it.  The started transfer is
 * the first attempt: its timeout counts from now (finish_attempt), so time
 * the job spent storing the previous page neither times it out nor makes
 * it be sent twice.
 */
bool
http_take_pending(NangoHttp *h, const NangoRequest *req, CURLcode *rc)
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
