/*-------------------------------------------------------------------------
 *
 * incremental.h
 *	  Incremental sync (docs/config.md, docs/sync-modes.md): the value a job sends, the
 *	  highest cursor value it sees, and the state stored when it succeeds.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NANGO_INCREMENTAL_H
#define NANGO_INCREMENTAL_H

#include "postgres.h"
#include "utils/jsonb.h"

typedef struct NangoIncremental
{
	const struct NangoPath *cursor_path;	/* incremental_cursor_path, compiled */
	Jsonb	   *stored;			/* nango.syncs.incremental_state, or NULL */
	Jsonb	   *highest;		/* highest value seen in this job, or NULL */
	MemoryContext cxt;			/* where highest lives (the job's context) */
} NangoIncremental;

/*
 * nango_incr_start_value: the value to send with the job's requests: the
 * stored state, else the initial value (JSON text), else NULL.  Sets
 * *is_number for a JSON number.
 */
extern char *nango_incr_start_value(Jsonb *stored, const char *initial_json, bool *is_number);

/* Looks at one record: keeps its cursor value when it is the highest yet. */
extern void nango_incr_see(NangoIncremental *inc, Jsonb *record);

/*
 * nango_incr_compare: orders two scalar values by their type: numbers
 * numerically, ISO-8601 timestamps (and dates) as timestamps, other
 * strings by bytes.  Values of different kinds order number < string.
 */
extern int	nango_incr_compare(JsonbValue *a, JsonbValue *b);

/* The state to store after a successful job (the higher of stored and seen), or NULL. */
extern Jsonb *nango_incr_final(NangoIncremental *inc);

#endif							/* NANGO_INCREMENTAL_H */
