/*-------------------------------------------------------------------------
 *
 * ratelimit.c
 *	  Budgets of requests shared by the jobs that send the same credentials
 *	  to the same host (docs/config.md).
 *
 *	  A budget is a slot of a small table, found by a digest of (host,
 *	  credentials).  It holds the send times of its latest requests (a ring
 *	  of RL_LOG), the rate limits of the jobs using it now (the smallest
 *	  applies to every request of the slot) and the time until which an API
 *	  said the budget is spent.
 *
 *	  A limit of N requests per P is enforced exactly with a bounded log:
 *	  with m = ceil(N / RL_LOG) windows, at most K = N / m requests go out
 *	  in any window of P / m, so any window of P holds at most m * K <= N
 *	  (for N <= RL_LOG, simply N in any window of P).  A request may go
 *	  when the K-th latest send is at least P / m old.
 *
 *	  With shared_preload_libraries the table is in shared memory under an
 *	  LWLock (nothing that can fail runs while it is held); without,
 *	  each backend has its own table, so limits hold per backend only.
 *	  When the shared table is full, a job falls back to its own table.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <curl/curl.h>

#include "common/cryptohash.h"
#include "common/sha2.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/latch.h"
#include "storage/shmem.h"
#include "utils/formatting.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "nango.h"
#include "progress.h"
#include "ratelimit.h"
#include "redact.h"

#define RL_LOG 64				/* send times kept per budget */
#define RL_USERS 16				/* jobs with a limit of their own per budget */
#define RL_SHARED_SLOTS 128
#define RL_LOCAL_SLOTS 16

typedef struct RateUser
{
	int			pid;			/* 0: free */
	int			requests;
	int64		per_us;
} RateUser;

typedef struct RateSlot
{
	uint8		digest[16];
	bool		used;
	TimestampTz blocked_until;	/* an announced reset, or 0 */
	TimestampTz last_send;
	int			log_next;		/* next ring position */
	int			log_n;			/* entries in the ring */
	TimestampTz log[RL_LOG];
	RateUser	users[RL_USERS];
} RateSlot;

typedef struct RateTable
{
	LWLock	   *lock;			/* NULL in a backend's own table */
	int			nslots;
	RateSlot	slots[FLEXIBLE_ARRAY_MEMBER];
} RateTable;

static RateTable *shared_table = NULL;
static RateTable *local_table = NULL;
static bool exit_registered = false;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* table_size: bytes of a table of n slots. */
static Size
table_size(int n)
{
	return add_size(offsetof(RateTable, slots), mul_size(n, sizeof(RateSlot)));
}

/* ratelimit_shmem_request: reserves the shared table. */
static void
ratelimit_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(table_size(RL_SHARED_SLOTS));
	RequestNamedLWLockTranche("nango rate limits", 1);
}

/* ratelimit_shmem_startup: creates or attaches to the shared table. */
static void
ratelimit_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared_table = ShmemInitStruct("nango rate limits", table_size(RL_SHARED_SLOTS), &found);
	if (!found)
	{
		memset(shared_table, 0, table_size(RL_SHARED_SLOTS));
		shared_table->lock = &(GetNamedLWLockTranche("nango rate limits"))->lock;
		shared_table->nslots = RL_SHARED_SLOTS;
	}
	LWLockRelease(AddinShmemInitLock);
}

void
nango_ratelimit_install_hooks(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = ratelimit_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = ratelimit_shmem_startup;
}

/* my_local_table: this backend's own table (created on first use). */
static RateTable *
my_local_table(void)
{
	if (local_table == NULL)
	{
		local_table = MemoryContextAllocZero(TopMemoryContext, table_size(RL_LOCAL_SLOTS));
		local_table->nslots = RL_LOCAL_SLOTS;
	}
	return local_table;
}

/* lock / unlock: the LWLock of the shared table; the local one has none. */
static void
lock(RateTable *t)
{
	if (t->lock != NULL)
		LWLockAcquire(t->lock, LW_EXCLUSIVE);
}

static void
unlock(RateTable *t)
{
	if (t->lock != NULL)
		LWLockRelease(t->lock);
}

/* cmp_str: qsort comparator of C strings. */
static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* credential_header: does a header of this name carry credentials? */
static bool
credential_header(const char *name)
{
	return pg_strcasecmp(name, "Authorization") == 0 ||
		pg_strcasecmp(name, "Proxy-Authorization") == 0 ||
		pg_strcasecmp(name, "Cookie") == 0 ||
		nango_secret_name(name, strlen(name));
}

/*
 * nango_ratelimit_key: SHA-256 of the lower-cased host of url, the sorted
 * credential headers and extra (the sync's other credentials, or NULL);
 * only the digest's first 16 bytes are kept.  Cursors and signatures of
 * next URLs do not count: they change with every page.
 */
NangoRateKey
nango_ratelimit_key(const char *url, int nheaders, const NangoPair *headers, const char *extra)
{
	NangoRateKey key;
	CURLU	   *u = curl_url();
	char	   *host = NULL;
	char	  **parts;
	int			nparts = 0;
	pg_cryptohash_ctx *ctx;
	uint8		digest[PG_SHA256_DIGEST_LENGTH];

	memset(&key, 0, sizeof(key));
	if (u == NULL)
		return key;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
		curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
	{
		curl_url_cleanup(u);
		return key;
	}
	parts = palloc(sizeof(char *) * (nheaders + 2));
	parts[nparts++] = psprintf("host:%s", asc_tolower(host, strlen(host)));
	curl_free(host);
	curl_url_cleanup(u);
	for (int i = 0; i < nheaders; i++)
		if (credential_header(headers[i].name))
			parts[nparts++] = psprintf("h:%s=%s", asc_tolower(headers[i].name, strlen(headers[i].name)),
									   headers[i].value);
	if (extra != NULL)
		parts[nparts++] = psprintf("x:%s", extra);
	qsort(parts, nparts, sizeof(char *), cmp_str);

	ctx = pg_cryptohash_create(PG_SHA256);
	if (ctx == NULL || pg_cryptohash_init(ctx) < 0)
		elog(ERROR, "could not compute a SHA-256 digest");
	for (int i = 0; i < nparts; i++)
		if (pg_cryptohash_update(ctx, (const uint8 *) parts[i], strlen(parts[i]) + 1) < 0)
			elog(ERROR, "could not compute a SHA-256 digest");
	if (pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
		elog(ERROR, "could not compute a SHA-256 digest");
	pg_cryptohash_free(ctx);
	for (int i = 0; i < nparts; i++)
		pfree(parts[i]);
	pfree(parts);
	memcpy(key.digest, digest, sizeof(key.digest));
	key.valid = true;
	return key;
}

/*
 * find_slot: the slot of key in t (locked), taking a free or idle one when
 * key has none; NULL when every slot is busy.  An idle slot has no job
 * with a limit, no reset to wait for and no send in the last hour.
 */
static RateSlot *
find_slot(RateTable *t, const NangoRateKey *key, TimestampTz now)
{
	RateSlot   *victim = NULL;

	for (int i = 0; i < t->nslots; i++)
	{
		RateSlot   *s = &t->slots[i];
		bool		idle = true;

		if (s->used && memcmp(s->digest, key->digest, sizeof(key->digest)) == 0)
			return s;
		if (s->used)
		{
			for (int j = 0; j < RL_USERS; j++)
				if (s->users[j].pid != 0)
					idle = false;
			if (s->blocked_until > now || s->last_send > now - USECS_PER_HOUR)
				idle = false;
		}
		if (idle && (victim == NULL || (victim->used && !s->used) ||
					 (victim->used && s->last_send < victim->last_send)))
			victim = s;
	}
	if (victim != NULL)
	{
		memset(victim, 0, sizeof(RateSlot));
		memcpy(victim->digest, key->digest, sizeof(key->digest));
		victim->used = true;
	}
	return victim;
}

/* set_user: records this process's own limit in the slot (replacing it). */
static void
set_user(RateSlot *s, int requests, int64 per_us)
{
	RateUser   *free_user = NULL;

	for (int j = 0; j < RL_USERS; j++)
	{
		if (s->users[j].pid == MyProcPid)
		{
			s->users[j].requests = requests;
			s->users[j].per_us = per_us;
			return;
		}
		if (s->users[j].pid == 0 && free_user == NULL)
			free_user = &s->users[j];
	}
	if (free_user != NULL)
	{
		free_user->pid = MyProcPid;
		free_user->requests = requests;
		free_user->per_us = per_us;
	}
}

/*
 * slot_wait_us: how long a request of the slot must wait now under the
 * smallest limit of its users (and requests per per_us of the caller):
 * 0 when it may go.
 */
static int64
slot_wait_us(RateSlot *s, int requests, int64 per_us, TimestampTz now)
{
	int64		m;
	int64		k;
	int64		window;
	TimestampTz kth;

	for (int j = 0; j < RL_USERS; j++)
	{
		RateUser   *u = &s->users[j];

		/* smaller rate: requests / per, compared without division */
		if (u->pid != 0 &&
			(requests == 0 || (double) u->requests * per_us < (double) requests * u->per_us))
		{
			requests = u->requests;
			per_us = u->per_us;
		}
	}
	if (requests <= 0)
		return 0;
	m = (requests + RL_LOG - 1) / RL_LOG;
	k = requests / m;
	window = per_us / m;
	if (s->log_n < k)
		return 0;
	kth = s->log[(s->log_next - k + RL_LOG) % RL_LOG];
	return kth + window <= now ? 0 : kth + window - now;
}

/*
 * try_acquire: one attempt at taking a request from key's budget.
 * Returns 0 (the send is recorded) or how long to wait; *announced tells
 * whether the wait is an API's announced reset.
 */
static int64
try_acquire(const NangoRateKey *key, int requests, int64 per_us, bool *announced)
{
	TimestampTz now = GetCurrentTimestamp();
	RateTable  *t = shared_table ? shared_table : my_local_table();
	RateSlot   *s;
	int64		wait;

	lock(t);
	s = find_slot(t, key, now);
	if (s == NULL && t == shared_table)
	{
		unlock(t);
		t = my_local_table();
		s = find_slot(t, key, now);
	}
	if (s == NULL)
	{
		unlock(t);
		return 0;				/* every local slot busy too: no limit */
	}
	if (requests > 0)
		set_user(s, requests, per_us);
	*announced = s->blocked_until > now;
	wait = *announced ? s->blocked_until - now : slot_wait_us(s, requests, per_us, now);
	if (wait == 0)
	{
		s->log[s->log_next] = now;
		s->log_next = (s->log_next + 1) % RL_LOG;
		if (s->log_n < RL_LOG)
			s->log_n++;
		s->last_send = now;
	}
	unlock(t);
	return wait;
}

/* ratelimit_exit: before_shmem_exit callback: an exiting process counts no more. */
static void
ratelimit_exit(int code, Datum arg)
{
	nango_ratelimit_release();
}

/* sleep_us: an interruptible wait of at most one second. */
static void
sleep_us(int64 us)
{
	long		ms = (long) Min(us / 1000 + 1, 1000);

	(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
					 ms, PG_WAIT_EXTENSION);
	ResetLatch(MyLatch);
}

bool
nango_ratelimit_acquire(const NangoRateKey *key, int requests, int64 per_ms, bool wait,
						const char *what)
{
	bool		waited = false;

	if (!key->valid)
		return true;
	if (shared_table != NULL && !exit_registered)
	{
		before_shmem_exit(ratelimit_exit, (Datum) 0);
		exit_registered = true;
	}
	for (;;)
	{
		bool		announced = false;
		int64		w = try_acquire(key, requests, per_ms * 1000, &announced);

		if (w == 0)
			break;
		if (announced && w > (int64) nango_max_rate_limit_wait_s * USECS_PER_SEC)
		{
			if (waited)
				nango_progress_wait(NANGO_WAITING_NONE);
			ereport(ERROR,
					(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
					 errmsg("the API's rate limit is spent for %lld more seconds, longer than nango.max_rate_limit_wait (%d s)",
							(long long) ((w + USECS_PER_SEC - 1) / USECS_PER_SEC),
							nango_max_rate_limit_wait_s),
					 errdetail("The API announced X-RateLimit-Remaining (or RateLimit-Remaining) 0 with that reset; the next request, %s, was not sent.",
							   what),
					 errhint("The job runs again at its next scheduled time; raise nango.max_rate_limit_wait to wait longer.")));
		}
		if (!wait)
			return false;
		if (!waited)
		{
			nango_progress_wait(NANGO_WAITING_RATE_LIMIT);
			waited = true;
		}
		sleep_us(w);
		CHECK_FOR_INTERRUPTS();
	}
	if (waited)
		nango_progress_wait(NANGO_WAITING_NONE);
	return true;
}

void
nango_ratelimit_note(const NangoRateKey *key, int64 reset_ms)
{
	TimestampTz now = GetCurrentTimestamp();
	RateTable  *t = shared_table ? shared_table : my_local_table();
	RateSlot   *s;

	if (!key->valid || reset_ms <= 0)
		return;
	lock(t);
	s = find_slot(t, key, now);
	if (s == NULL && t == shared_table)
	{
		unlock(t);
		t = my_local_table();
		lock(t);
		s = find_slot(t, key, now);
	}
	if (s != NULL)
		s->blocked_until = Max(s->blocked_until, now + reset_ms * 1000);
	unlock(t);
}

/* release_in: removes this process's users from the slots of t. */
static void
release_in(RateTable *t)
{
	lock(t);
	for (int i = 0; i < t->nslots; i++)
		for (int j = 0; j < RL_USERS; j++)
			if (t->slots[i].users[j].pid == MyProcPid)
				t->slots[i].users[j].pid = 0;
	unlock(t);
}

void
nango_ratelimit_release(void)
{
	if (shared_table != NULL)
		release_in(shared_table);
	if (local_table != NULL)
		release_in(local_table);
}
