/*-------------------------------------------------------------------------
 *
 * cron.h
 *	  Five-field cron expressions (minute hour day-of-month month
 *	  day-of-week, in UTC): validation and the next tick after a time.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NANGO_CRON_H
#define NANGO_CRON_H

#include "postgres.h"
#include "datatype/timestamp.h"

/* A parsed cron expression: one bit per allowed value of each field. */
typedef struct NangoCron
{
	uint64		minutes;		/* bits 0..59 */
	uint32		hours;			/* bits 0..23 */
	uint32		days;			/* bits 1..31 */
	uint32		months;			/* bits 1..12 */
	uint32		weekdays;		/* bits 0..6, 0 = Sunday */
	bool		days_star;		/* day-of-month field was '*' (or '?') */
	bool		weekdays_star;	/* day-of-week field was '*' (or '?') */
} NangoCron;

/*
 * nango_cron_parse: parses expr into *out.  Returns false with a palloc'd
 * explanation in *why when expr is not a valid five-field expression (or
 * one of the macros @yearly, @annually, @monthly, @weekly, @daily,
 * @midnight, @hourly) or can never fire (e.g. "0 0 30 2 *").
 */
extern bool nango_cron_parse(const char *expr, NangoCron *out, char **why);

/*
 * nango_cron_next: the first tick of expr strictly after `after`, in UTC.
 * ERROR (22023) when expr is invalid; DT_NOEND when there is no tick in the
 * next 10 years.
 */
extern TimestampTz nango_cron_next(const char *expr, TimestampTz after);

/* The same for an already parsed expression. */
extern TimestampTz nango_cron_next_parsed(const NangoCron *cron, TimestampTz after);

#endif							/* NANGO_CRON_H */
