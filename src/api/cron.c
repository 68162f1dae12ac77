/*-------------------------------------------------------------------------
 *
 * cron.c
 *	  Five-field cron expressions in UTC: parsing (used to validate a sync's
 *	  `cron` key) and computing the next tick (used by the scheduler).
 *
 *	  Fields: minute (0-59), hour (0-23), day of month (1-31), month (1-12 or
 *	  JAN-DEC), day of week (0-7 or SUN-SAT, 0 and 7 are Sunday).  Each field
 *	  is a comma-separated list of `*`, `N`, `N-M`, each optionally followed
 *	  by `/STEP` (`N/STEP` means N to the field's maximum).  `?` is accepted
 *	  as `*` in the day fields.  As in Vixie cron, when both day fields are
 *	  restricted a day matches when either matches.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "cron.h"

/* Description of one of the five fields. */
typedef struct CronField
{
	const char *name;
	int			min;
	int			max;
	const char *const *names;	/* names for min.. (NULL: none) */
	bool		question;		/* '?' is accepted as '*' */
} CronField;

static const char *const month_names[] = {
	"jan", "feb", "mar", "apr", "may", "jun",
	"jul", "aug", "sep", "oct", "nov", "dec", NULL
};
static const char *const weekday_names[] = {
	"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL
};

static const CronField cron_fields[5] = {
	{"minute", 0, 59, NULL, false},
	{"hour", 0, 23, NULL, false},
	{"day of month", 1, 31, NULL, true},
	{"month", 1, 12, month_names, false},
	{"day of week", 0, 7, weekday_names, true}
};

/* The macros and the expressions they stand for. */
static const struct
{
	const char *macro;
	const char *expr;
}			cron_macros[] = {
	{"@yearly", "0 0 1 1 *"},
	{"@annually", "0 0 1 1 *"},
	{"@monthly", "0 0 1 * *"},
	{"@weekly", "0 0 * * 0"},
	{"@daily", "0 0 * * *"},
	{"@midnight", "0 0 * * *"},
	{"@hourly", "0 * * * *"},
};

/* Days in each month of a leap year (the most a month can have). */
static const int max_month_days[13] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

/*
 * cron_value: reads a number or (for fields with names) a three-letter name
 * at *p, advancing *p.  Returns false when there is neither.
 */
static bool
cron_value(const char **p, const CronField *f, int *value)
{
	const char *s = *p;

	if (isdigit((unsigned char) *s))
	{
		long		v = 0;

		while (isdigit((unsigned char) *s))
		{
			v = v * 10 + (*s - '0');
			if (v > 1000)
				return false;
			s++;
		}
		*value = (int) v;
		*p = s;
		return true;
	}
	if (f->names && isalpha((unsigned char) s[0]) && isalpha((unsigned char) s[1]) &&
		isalpha((unsigned char) s[2]) && !isalpha((unsigned char) s[3]))
	{
		for (int i = 0; f->names[i]; i++)
		{
			if (pg_strncasecmp(s, f->names[i], 3) == 0)
			{
				*value = f->min + i;
				*p = s + 3;
				return true;
			}
		}
	}
	return false;
}

/*
 * cron_field: parses one field's text into a bit mask.  Returns false with *why set on a syntax or range error.
 */
static bool
cron_field(const char *text, const CronField *f, uint64 *mask, char **why)
{
	const char *p = text;

	*mask = 0;
	for (;;)
	{
		int			lo,
					hi,
					step = 1;

		if (*p == '*' || (*p == '?' && f->question))
		{
			lo = f->min;
			hi = f->max;
			p++;
		}
		else if (cron_value(&p, f, &lo))
		{
			hi = lo;
			if (*p == '-')
			{
				p++;
				if (!cron_value(&p, f, &hi))
					goto syntax;
			}
			else if (*p == '/')
				hi = f->max;
		}
		else
			goto syntax;

		if (*p == '/')
		{
			p++;
			if (!isdigit((unsigned char) *p) || !cron_value(&p, f, &step) || step < 1)
			{
				*why = psprintf("the step in the %s field must be a positive number", f->name);
				return false;
			}
		}
		if (lo < f->min || hi > f->max || lo > f->max || hi < f->min)
		{
			*why = psprintf("the %s field allows values from %d to %d", f->name, f->min, f->max);
			return false;
		}
		if (lo > hi)
		{
			*why = psprintf("the range %d-%d in the %s field is reversed", lo, hi, f->name);
			return false;
		}
		for (int v = lo; v <= hi; v += step)
			*mask |= UINT64CONST(1) << v;

		if (*p == '\0')
			return true;
		if (*p != ',')
			goto syntax;
		p++;
	}

syntax:
	*why = psprintf("the %s field \"%s\" is not valid", f->name, text);
	return false;
}

/*
 * cron_can_fire: false when the day-of-month and month fields can never
 * meet (e.g. the 30th of February) and the day of week does not help.
 */
static bool
cron_can_fire(const NangoCron *c)
{
	if (!c->weekdays_star && !c->days_star)
		return true;			/* either day field may match */
	if (c->days_star)
		return true;
	for (int m = 1; m <= 12; m++)
	{
		if (!(c->months & (1U << m)))
			continue;
		for (int d = 1; d <= max_month_days[m]; d++)
			if (c->days & (1U << d))
				return true;
	}
	return false;
}

/*
 * nango_cron_parse: see cron.h.
 */
bool
nango_cron_parse(const char *expr, NangoCron *out, char **why)
{
	char	   *copy;
	char	   *fields[6];
	int			nfields = 0;
	char	   *p;

	memset(out, 0, sizeof(*out));
	while (isspace((unsigned char) *expr))
		expr++;
	if (*expr == '@')
	{
		for (int i = 0; i < lengthof(cron_macros); i++)
		{
			int			len = strlen(cron_macros[i].macro);

			if (pg_strncasecmp(expr, cron_macros[i].macro, len) == 0 &&
				strspn(expr + len, " \t\r\n") == strlen(expr + len))
				return nango_cron_parse(cron_macros[i].expr, out, why);
		}
		*why = psprintf("unknown macro \"%s\"", expr);
		return false;
	}

	copy = pstrdup(expr);
	p = copy;
	for (;;)
	{
		while (*p && isspace((unsigned char) *p))
			*p++ = '\0';
		if (*p == '\0')
			break;
		if (nfields == 5)
		{
			nfields++;
			break;
		}
		fields[nfields++] = p;
		while (*p && !isspace((unsigned char) *p))
			p++;
	}
	if (nfields != 5)
	{
		*why = psprintf("a cron expression has five fields (minute hour day-of-month month day-of-week), not %s",
						nfields > 5 ? "more" : psprintf("%d", nfields));
		return false;
	}

	for (int i = 0; i < 5; i++)
	{
		uint64		mask;

		if (!cron_field(fields[i], &cron_fields[i], &mask, why))
			return false;
		switch (i)
		{
			case 0:
				out->minutes = mask;
				break;
			case 1:
				out->hours = (uint32) mask;
				break;
			case 2:
				out->days = (uint32) mask;
				out->days_star = (fields[i][0] == '*' || fields[i][0] == '?');
				break;
			case 3:
				out->months = (uint32) mask;
				break;
			case 4:
				if (mask & (UINT64CONST(1) << 7))
					mask |= 1;	/* 7 is Sunday too */
				out->weekdays = (uint32) (mask & 0x7F);
				out->weekdays_star = (fields[i][0] == '*' || fields[i][0] == '?');
				break;
		}
	}
	if (!cron_can_fire(out))
	{
		*why = pstrdup("the day-of-month and month fields never meet (no such date), so it would never run");
		return false;
	}
	return true;
}

/*
 * cron_day_matches: whether day jd (with day of month mday) matches the day
 * fields, with Vixie cron's rule for two restricted day fields.
 */
static bool
cron_day_matches(const NangoCron *c, int jd, int mday)
{
	bool		dom = (c->days & (1U << mday)) != 0;
	bool		dow = (c->weekdays & (1U << j2day(jd))) != 0;

	if (!c->days_star && !c->weekdays_star)
		return dom || dow;
	return dom && dow;
}

/*
 * nango_cron_next_parsed: see cron.h.  Walks forward month by month, day by
 * day, hour by hour, skipping whole units that cannot match.
 */
TimestampTz
nango_cron_next_parsed(const NangoCron *c, TimestampTz after)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int			jd,
				hour,
				minute,
				limit_year;
	Timestamp	result;

	if (TIMESTAMP_NOT_FINITE(after))
		return after;
	if (timestamp2tm(after, NULL, &tm, &fsec, NULL, NULL) != 0)
		return DT_NOEND;
	jd = date2j(tm.tm_year, tm.tm_mon, tm.tm_mday);
	hour = tm.tm_hour;
	minute = tm.tm_min + 1;		/* strictly after: the next whole minute */
	limit_year = tm.tm_year + 10;

	for (;;)
	{
		int			y,
					m,
					d,
					h,
					mi;

		if (minute > 59)
		{
			minute = 0;
			hour++;
		}
		if (hour > 23)
		{
			hour = 0;
			minute = 0;
			jd++;
		}
		j2date(jd, &y, &m, &d);
		if (y > limit_year)
			return DT_NOEND;
		if (!(c->months & (1U << m)))
		{
			jd = (m == 12) ? date2j(y + 1, 1, 1) : date2j(y, m + 1, 1);
			hour = minute = 0;
			continue;
		}
		if (!cron_day_matches(c, jd, d))
		{
			jd++;
			hour = minute = 0;
			continue;
		}
		for (h = hour; h < 24 && !(c->hours & (1U << h)); h++)
			;
		if (h == 24)
		{
			hour = 24;
			continue;
		}
		if (h != hour)
		{
			hour = h;
			minute = 0;
		}
		for (mi = minute; mi < 60 && !(c->minutes & (UINT64CONST(1) << mi)); mi++)
			;
		if (mi == 60)
		{
			hour++;
			minute = 0;
			continue;
		}

		memset(&tm, 0, sizeof(tm));
		tm.tm_year = y;
		tm.tm_mon = m;
		tm.tm_mday = d;
		tm.tm_hour = hour;
		tm.tm_min = mi;
		if (tm2timestamp(&tm, 0, NULL, &result) != 0)
			return DT_NOEND;
		return (TimestampTz) result;
	}
}

/*
 * nango_cron_next: see cron.h.
 */
TimestampTz
nango_cron_next(const char *expr, TimestampTz after)
{
	NangoCron	c;
	char	   *why = NULL;

	if (!nango_cron_parse(expr, &c, &why))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid cron expression \"%s\": %s", expr, why)));
	return nango_cron_next_parsed(&c, after);
}

PG_FUNCTION_INFO_V1(nango_cron_next_sql);

/*
 * nango_cron_next_sql: nango.cron_next(cron, after): the next tick of a
 * cron expression after a time, so users can check a schedule.  NULL when
 * it has no tick in the next 10 years.
 */
Datum
nango_cron_next_sql(PG_FUNCTION_ARGS)
{
	char	   *expr = text_to_cstring(PG_GETARG_TEXT_PP(0));
	TimestampTz after = PG_GETARG_TIMESTAMPTZ(1);
	TimestampTz next;

	if (TIMESTAMP_NOT_FINITE(after))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("the time after which to look for a cron tick must be finite")));
	next = nango_cron_next(expr, after);
	if (TIMESTAMP_NOT_FINITE(next))
		PG_RETURN_NULL();
	PG_RETURN_TIMESTAMPTZ(next);
}
