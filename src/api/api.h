/*-------------------------------------------------------------------------
 *
 * api.h
 *	  Entry points of the SQL API (api.c) that other modules use.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NANGO_API_H
#define NANGO_API_H

#include "postgres.h"

#include "fmgr.h"

/*
 * nango_sync_by_name: the id of the current user's own sync whose
 * friendly_name is name.  A name that no sync of the user has but that is
 * a plain decimal number is taken as a sync id, so calls written with a
 * quoted id ('12') keep meaning the id.  ERROR 42704 otherwise.
 */
extern int64 nango_sync_by_name(text *name);

/* nango.run_sync(bigint), in job.c: the text form calls it. */
extern Datum nango_run_sync(PG_FUNCTION_ARGS);

/*
 * nango_warn_not_scheduled: the once-per-session WARNING of README.md when syncs of the current database will not run on a schedule
 * (nango not preloaded, or the database not served by the worker), saying
 * why.  Raised by add_sync and CREATE EXTENSION nango.
 */
extern void nango_warn_not_scheduled(void);

#endif							/* NANGO_API_H */
