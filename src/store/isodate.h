/*-------------------------------------------------------------------------
 *
 * isodate.h
 *	  Strings that are exactly an ISO-8601 date or timestamp (see isodate.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef NANGO_ISODATE_H
#define NANGO_ISODATE_H

#include "postgres.h"
#include "datatype/timestamp.h"

/*
 * nango_iso_kind: NANGO_VK_DATE or NANGO_VK_TS when the len bytes at s are
 * exactly an ISO date or timestamp (*has_zone: with a zone or offset),
 * else 0.
 */
extern int	nango_iso_kind(const char *s, int len, bool *has_zone);

/*
 * nango_iso_to_timestamptz: the instant of such a string (a zoneless one
 * read as UTC, a date as midnight UTC), computed directly instead of
 * through timestamptz_in; false when it is not in that form.
 */
extern bool nango_iso_to_timestamptz(const char *s, TimestampTz *out);

#endif							/* NANGO_ISODATE_H */
