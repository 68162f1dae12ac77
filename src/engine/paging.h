/*-------------------------------------------------------------------------
 *
 * paging.h
 *	  Pagination (docs/config.md): builds each page's request and decides,
 *	  from the page just received, whether and how to fetch the next one.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NANGO_PAGING_H
#define NANGO_PAGING_H

#include "postgres.h"
#include "utils/jsonb.h"

#include "config.h"
#include "http.h"

/* A request-side value nango sets on every request (paging or incremental). */
typedef struct NangoParam
{
	char	   *path;			/* query parameter name (the steps joined with '.') */
	const struct NangoPath *steps;	/* where it goes in a JSON body */
	char	   *value;			/* text (a number's digits for numbers) */
	bool		is_number;		/* sent as a JSON number in a body */
} NangoParam;

#define NANGO_MAX_PARAMS 4

/*
 * Why paging ended.  Code decides on these values, never on their text
 * (nango_stop_reason_text, for people): a job cut short by max_total must
 * not delete the keys it did not fetch, whatever the message says.
 */
typedef enum NangoStopReason
{
	NANGO_STOP_NONE,			/* paging has not ended */
	NANGO_STOP_MAX_TOTAL,		/* max_total records received */
	NANGO_STOP_NO_CURSOR,		/* no next cursor in the response */
	NANGO_STOP_NO_URL,			/* no next URL (or no Link rel match) */
	NANGO_STOP_EMPTY_PAGE,		/* a page without records */
	NANGO_STOP_NO_PAGING,		/* no paging configured: one page */
	NANGO_STOP_RESPONSE_PATH_MISSING	/* response_path missing on a later page */
} NangoStopReason;

/* The reason in words, for logs and people. */
extern const char *nango_stop_reason_text(NangoStopReason reason);

typedef struct NangoPager
{
	const NangoConfig *cfg;
	NangoHttp  *http;
	MemoryContext cxt;			/* the job's context: survives pages */
	bool		body_method;	/* POST, PUT, PATCH: request values go in the body */

	char	   *next_url;		/* URL and Link styles: the URL to fetch as given */
	char	   *cursor;			/* cursor styles: the cursor to send, or NULL */
	bool		cursor_is_number;
	int64		offset;
	int64		page_number;
	NangoParam	extra[NANGO_MAX_PARAMS];	/* e.g. the incremental value */
	int			nextra;

	uint64	   *seen;			/* 64-bit hashes of cursors and URLs used: */
	int			nseen;			/* seen[0..nsorted-1] sorted, then a short */
	int			nsorted;		/* unsorted tail */
	int			seen_cap;
	uint64		prev_page_hash;
	bool		have_prev_page;
	bool		done;
	NangoStopReason stop;		/* why paging ended */
} NangoPager;

/* Sets up paging for a job (allocations in cxt). */
extern void nango_pager_init(NangoPager *p, const NangoConfig *cfg, NangoHttp *http,
							 MemoryContext cxt);

/* Adds a value sent with every request (query parameter or body key). */
extern void nango_pager_add_param(NangoPager *p, const struct NangoPath *path,
								  const char *value, bool is_number);

/*
 * nango_pager_request: the next page's URL and body (palloc'd in the
 * current, per-page, memory context).
 */
extern void nango_pager_request(NangoPager *p, char **url, char **body);

/*
 * nango_pager_advance: after a page.  body is the parsed response, records
 * its records container (NULL when response_path was missing), nrecords the
 * number of records kept, page_hash a hash of the records' content.
 * remaining_total is how many more records max_total allows (-1: no limit).
 * Sets p->done or prepares the next request; a loop is an ERROR.
 */
extern void nango_pager_advance(NangoPager *p, Jsonb *body, int nrecords,
								JsonbValue *last_record, uint64 page_hash,
								const NangoResponse *resp, int64 remaining_total);

/* nango_pager_note_restored: the state set from a page memo counts as used. */
extern void nango_pager_note_restored(NangoPager *p);

/*
 * nango_link_find: the URL of the given rel in a Link header value (several
 * links, any order, quoted or not, rel lists), palloc'd; NULL if none.
 */
extern char *nango_link_find(const char *header, const char *rel);

#endif							/* NANGO_PAGING_H */
