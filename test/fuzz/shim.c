/*-------------------------------------------------------------------------
 *
 * shim.c
 *	  A small stand-in for the PostgreSQL backend, so that nango's parsers
 *	  can be linked into libFuzzer targets outside the server.
 *
 *	  What it provides, and how it differs from the server:
 *	  - palloc and friends allocate from one arena that fuzz_reset() frees
 *	    after each input (the server frees a whole memory context the same
 *	    way); MaxAllocSize is enforced as in the server;
 *	  - ereport/elog: below ERROR nothing happens; ERROR and above jump to
 *	    the PG_TRY of the fuzz driver (fuzz_try), like the server's
 *	    longjmp to its error handler; the message is formatted first, so a
 *	    format bug shows up under ASan;
 *	  - nango's settings have their default values;
 *	  - every other backend function a parser's file refers to but the
 *	    parser does not use aborts when called (FUZZ_UNREACHABLE), so a
 *	    path the fuzzer finds into them is a finding, never silently
 *	    skipped.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/stringinfo.h"
#include "utils/memutils.h"

#include "nango.h"
#include "shim.h"

sigjmp_buf *PG_exception_stack = NULL;
ErrorContextCallback *error_context_stack = NULL;
MemoryContext CurrentMemoryContext = NULL;
volatile sig_atomic_t InterruptPending = false;

/* nango's settings, at their defaults (src/nango.c) */
char	   *nango_pizzly_base_url = "";
char	   *nango_pizzly_secret_key = "";
int			nango_http_timeout_ms = 30000;
int			nango_max_response_size_kb = 64 * 1024;
bool		nango_allow_private_networks = false;
int			nango_log_level = NANGO_LOG_INFO;

/* ---- memory: an arena of malloc'd chunks, freed after each input ---- */

typedef struct Chunk
{
	struct Chunk *next;
	struct Chunk *prev;
	Size		size;
	/* user data follows, MAXALIGNed */
} Chunk;

#define CHUNK_HDR MAXALIGN(sizeof(Chunk))

static Chunk arena = {&arena, &arena, 0};

static void *
arena_alloc(Size size, bool zero)
{
	Chunk	   *c;

	if (!AllocSizeIsValid(size))
		elog(ERROR, "invalid memory alloc request size %zu", size);
	c = malloc(CHUNK_HDR + size);
	if (c == NULL)
		abort();
	if (zero)
		memset((char *) c + CHUNK_HDR, 0, size);
	c->size = size;
	c->next = arena.next;
	c->prev = &arena;
	arena.next->prev = c;
	arena.next = c;
	return (char *) c + CHUNK_HDR;
}

void *
palloc(Size size)
{
	return arena_alloc(size, false);
}

void *
palloc0(Size size)
{
	return arena_alloc(size, true);
}

void *
palloc_extended(Size size, int flags)
{
	return arena_alloc(size, (flags & MCXT_ALLOC_ZERO) != 0);
}

void *
MemoryContextAlloc(MemoryContext context, Size size)
{
	return arena_alloc(size, false);
}

void *
MemoryContextAllocZero(MemoryContext context, Size size)
{
	return arena_alloc(size, true);
}

void
pfree(void *pointer)
{
	Chunk	   *c = (Chunk *) ((char *) pointer - CHUNK_HDR);

	c->prev->next = c->next;
	c->next->prev = c->prev;
	free(c);
}

void *
repalloc(void *pointer, Size size)
{
	Chunk	   *c = (Chunk *) ((char *) pointer - CHUNK_HDR);
	void	   *n = palloc(size);

	memcpy(n, pointer, Min(c->size, size));
	pfree(pointer);
	return n;
}

char *
pstrdup(const char *in)
{
	return pnstrdup(in, strlen(in));
}

char *
pnstrdup(const char *in, Size len)
{
	char	   *out;

	len = strnlen(in, len);
	out = palloc(len + 1);
	memcpy(out, in, len);
	out[len] = '\0';
	return out;
}

char *
MemoryContextStrdup(MemoryContext context, const char *string)
{
	return pstrdup(string);
}

void
fuzz_reset(void)
{
	while (arena.next != &arena)
		pfree((char *) arena.next + CHUNK_HDR);
}

/* ---- errors ---- */

static int	cur_elevel;

bool
errstart(int elevel, const char *domain)
{
	cur_elevel = elevel;
	return elevel >= ERROR;
}

bool
errstart_cold(int elevel, const char *domain)
{
	return errstart(elevel, domain);
}

void
errfinish(const char *filename, int lineno, const char *funcname)
{
	if (cur_elevel >= ERROR)
	{
		if (PG_exception_stack == NULL)
		{
			fprintf(stderr, "ERROR outside fuzz_try at %s:%d\n", filename, lineno);
			abort();
		}
		siglongjmp(*PG_exception_stack, 1);
	}
}

void
pg_re_throw(void)
{
	if (PG_exception_stack == NULL)
		abort();
	siglongjmp(*PG_exception_stack, 1);
}

/* formats the message (so bad format arguments are caught), then drops it */
static int
format_and_drop(const char *fmt, va_list ap)
{
	char		buf[1024];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	return 0;
}

#define FORMAT_FN(name) \
int name(const char *fmt, ...) \
{ \
	va_list		ap; \
	va_start(ap, fmt); \
	format_and_drop(fmt, ap); \
	va_end(ap); \
	return 0; \
}

FORMAT_FN(errmsg)
FORMAT_FN(errmsg_internal)
FORMAT_FN(errdetail)
FORMAT_FN(errdetail_internal)
FORMAT_FN(errhint)
FORMAT_FN(errcontext_msg)

int
errcode(int sqlerrcode)
{
	return 0;
}

int
errhidestmt(bool hide_stmt)
{
	return 0;
}

bool
fuzz_try(void (*fn) (void *), void *arg)
{
	sigjmp_buf	jb;
	sigjmp_buf *saved = PG_exception_stack;
	bool		ok = true;

	if (sigsetjmp(jb, 0) == 0)
	{
		PG_exception_stack = &jb;
		fn(arg);
	}
	else
		ok = false;
	PG_exception_stack = saved;
	return ok;
}
