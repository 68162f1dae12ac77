/*-------------------------------------------------------------------------
 *
 * ratelimit.h
 *	  Rate limits shared by every job that sends the same credentials to
 *	  the same host (docs/config.md): the smallest `rate_limit` among the
 *	  running jobs, and a budget an API announced as spent
 *	  (X-RateLimit-Remaining: 0 / RateLimit-Remaining: 0) until its reset.
 *
 *	  With shared_preload_libraries the table lives in shared memory (all
 *	  backends, workers and databases); without, each backend keeps its
 *	  own.  Credentials are never stored: a budget is known by a SHA-256
 *	  digest of the host and the credentials sent to it.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NANGO_RATELIMIT_H
#define NANGO_RATELIMIT_H

#include "postgres.h"

#include "config.h"

/* What identifies a budget: a digest of (host, credentials). */
typedef struct NangoRateKey
{
	uint8		digest[16];
	bool		valid;
} NangoRateKey;

/* The shmem request and startup hooks (from _PG_init when preloaded). */
extern void nango_ratelimit_install_hooks(void);

/*
 * nango_ratelimit_key: the budget of a request to url's host carrying
 * headers (only credential-looking ones count: Authorization, Cookie,
 * X-Api-Key, ...) and the other credentials extra (may be NULL).
 */
extern NangoRateKey nango_ratelimit_key(const char *url, int nheaders, const NangoPair *headers,
										const char *extra);

/*
 * nango_ratelimit_acquire: takes one request from key's budget for a job
 * whose own limit is requests per per_ms (0: none of its own).  With wait,
 * waits (interruptibly, shown as waiting_for rate_limit) until the budget
 * allows it and returns true; an announced reset further away than
 * nango.max_rate_limit_wait is an ERROR naming what (the request, redacted).
 * Without wait, returns false at once when the request would have to wait.
 */
extern bool nango_ratelimit_acquire(const NangoRateKey *key, int requests, int64 per_ms,
									bool wait, const char *what);

/*
 * nango_ratelimit_note: a response to a request of key said the budget is
 * spent until reset_ms from now: every request of key waits until then.
 */
extern void nango_ratelimit_note(const NangoRateKey *key, int64 reset_ms);

/* nango_ratelimit_release: this process's jobs no longer count for any budget. */
extern void nango_ratelimit_release(void);

#endif							/* NANGO_RATELIMIT_H */
