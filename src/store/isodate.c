/*-------------------------------------------------------------------------
 *
 * isodate.c
 *	  Strings that are exactly an ISO-8601 date or timestamp (docs/mapping.md):
 *	  which kind a string is (for type inference while flattening) and its
 *	  timestamptz value (for a timestamptz column).  Pure functions.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/datetime.h"

#include "flatten.h"
#include "isodate.h"

/* days_in_month: number of days of month m (1-12) in year y. */
static int
days_in_month(int y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return days[m - 1];
}

/* digits: reads n decimal digits at s into *val; false if any is not one. */
static bool
digits(const char *s, int n, int *val)
{
	*val = 0;
	for (int i = 0; i < n; i++)
	{
		if (s[i] < '0' || s[i] > '9')
			return false;
		*val = *val * 10 + (s[i] - '0');
	}
	return true;
}

/* iso_zone: true when s (to its end) is Z or an offset +HH, +HHMM, +HH:MM. */
static bool
iso_zone(const char *s, int len)
{
	int			hh,
				mm = 0;

	if (len == 1 && (s[0] == 'Z' || s[0] == 'z'))
		return true;
	if (len < 3 || (s[0] != '+' && s[0] != '-') || !digits(s + 1, 2, &hh))
		return false;
	if (len == 5 && !digits(s + 3, 2, &mm))
		return false;
	if (len == 6 && (s[3] != ':' || !digits(s + 4, 2, &mm)))
		return false;
	if (len != 3 && len != 5 && len != 6)
		return false;
	return hh <= 14 && mm <= 59;
}

/*
 * nango_iso_kind: NANGO_VK_DATE when s is exactly an ISO-8601 date
 * (YYYY-MM-DD, a real day), NANGO_VK_TS when exactly a timestamp (date, 'T' or ' ',
 * HH:MM[:SS[.f]] with at most 6 fraction digits so that nothing is
 * rounded, optional Z or offset), else 0.
 */
int
nango_iso_kind(const char *s, int len, bool *has_zone)
{
	int			y,
				mo,
				d,
				hh,
				mi,
				ss = 0,
				pos;

	*has_zone = false;
	if (len < 10 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
		s[7] != '-' || !digits(s + 8, 2, &d))
		return 0;
	if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
		return 0;
	if (len == 10)
		return NANGO_VK_DATE;
	if ((s[10] != 'T' && s[10] != 't' && s[10] != ' ') || len < 16 ||
		!digits(s + 11, 2, &hh) || s[13] != ':' || !digits(s + 14, 2, &mi))
		return 0;
	pos = 16;
	if (pos < len && s[pos] == ':')
	{
		if (pos + 3 > len || !digits(s + pos + 1, 2, &ss))
			return 0;
		pos += 3;
		if (pos < len && s[pos] == '.')
		{
			int			nd = 0;

			pos++;
			while (pos < len && s[pos] >= '0' && s[pos] <= '9')
				pos++, nd++;
			if (nd < 1 || nd > 6)
				return 0;
		}
	}
	if (hh > 23 || mi > 59 || ss > 59)
		return 0;
	if (pos < len)
	{
		if (!iso_zone(s + pos, len - pos))
			return 0;
		*has_zone = true;
	}
	return NANGO_VK_TS;
}

/*
 * nango_iso_to_timestamptz: the instant of an ISO date or timestamp in the
 * form nango_iso_kind accepts (a zoneless one read as UTC, a date as midnight UTC),
 * computed directly instead of through timestamptz_in; false when s is
 * not in that form (then the caller uses timestamptz_in).
 */
bool
nango_iso_to_timestamptz(const char *s, TimestampTz *out)
{
	int			len = (int) strlen(s);
	bool		has_zone;
	int			kind = nango_iso_kind(s, len, &has_zone);
	int			y,
				mo,
				d,
				hh = 0,
				mi = 0,
				ss = 0,
				pos = 16;
	int64		usec = 0;
	int64		offset = 0;

	if (kind != NANGO_VK_DATE && kind != NANGO_VK_TS)
		return false;
	digits(s, 4, &y);
	digits(s + 5, 2, &mo);
	digits(s + 8, 2, &d);
	if (kind == NANGO_VK_TS)
	{
		digits(s + 11, 2, &hh);
		digits(s + 14, 2, &mi);
		if (pos < len && s[pos] == ':')
		{
			digits(s + pos + 1, 2, &ss);
			pos += 3;
			if (pos < len && s[pos] == '.')
			{
				int64		scale = 100000;

				for (pos++; pos < len && s[pos] >= '0' && s[pos] <= '9'; pos++, scale /= 10)
					usec += (s[pos] - '0') * scale;
			}
		}
		if (pos < len && s[pos] != 'Z' && s[pos] != 'z')
		{
			int			oh,
						om = 0;

			digits(s + pos + 1, 2, &oh);
			if (len - pos == 5)
				digits(s + pos + 3, 2, &om);
			else if (len - pos == 6)
				digits(s + pos + 4, 2, &om);
			offset = ((int64) oh * 60 + om) * 60 * USECS_PER_SEC;
			if (s[pos] == '-')
				offset = -offset;
		}
	}
	*out = (TimestampTz) (date2j(y, mo, d) - POSTGRES_EPOCH_JDATE) * USECS_PER_DAY
		+ (((int64) hh * 60 + mi) * 60 + ss) * USECS_PER_SEC + usec - offset;
	return true;
}
