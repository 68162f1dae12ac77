/*-------------------------------------------------------------------------
 *
 * configtime.c
 *	  The keys that are durations or schedules (docs/config.md): frequency
 *	  (a number of minutes, or strict interval strings; nango 0.2's
 *	  interval input for stored configs), timeout, the "per" of rate_limit,
 *	  and cron expressions (checked by cron.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <math.h>

#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "config_int.h"
#include "cron.h"

/* The longest frequency: 100 years (of 365.25 days). */
#define MAX_FREQUENCY_MINUTES (100 * 365.25 * 24 * 60)

/*
 * parse_interval_text: parses str as a PostgreSQL interval (any form
 * interval input accepts, e.g. '30 seconds', '1h', '2 days', 'PT15M')
 * without raising an error.  Returns false when it is not one.
 */
static bool
parse_interval_text(const char *str, Interval *out)
{
	char		workbuf[256];
	char	   *field[MAXDATEFIELDS];
	int			ftype[MAXDATEFIELDS];
	int			nf;
	int			dtype = DTK_DELTA;
	struct pg_itm_in itm;
	int			dterr;

	memset(&itm, 0, sizeof(itm));
	dterr = ParseDateTime(str, workbuf, sizeof(workbuf), field, ftype, MAXDATEFIELDS, &nf);
	if (dterr == 0)
		dterr = DecodeInterval(field, ftype, nf, INTERVAL_FULL_RANGE, &dtype, &itm);
	if (dterr == DTERR_BAD_FORMAT)
	{
		memset(&itm, 0, sizeof(itm));
		dtype = DTK_DELTA;
		dterr = DecodeISO8601Interval(unconstify(char *, str), &dtype, &itm);
	}
	if (dterr != 0 || dtype != DTK_DELTA)
		return false;
	return itmin2interval(&itm, out) == 0;
}

/*
 * interval_seconds: an interval's length in seconds, a month counting as
 * 30 days (as PostgreSQL's interval comparison does).
 */
static double
interval_seconds(const Interval *iv)
{
	return (double) iv->time / USECS_PER_SEC +
		(double) iv->day * SECS_PER_DAY +
		(double) iv->month * DAYS_PER_MONTH * SECS_PER_DAY;
}

/*
 * plain_number: whether s is a decimal number (surrounding blanks allowed),
 * and its value.
 */
static bool
plain_number(const char *s, double *v)
{
	char	   *end;

	while (isspace((unsigned char) *s))
		s++;
	if (*s == '\0' || strpbrk(s, "xX") != NULL)
		return false;
	*v = strtod(s, &end);
	if (end == s)
		return false;
	while (isspace((unsigned char) *end))
		end++;
	return *end == '\0' && isfinite(*v);
}

/* The units of a frequency string and their length in seconds (docs/config.md). */
static const struct
{
	const char *name;
	int64		seconds;
}			frequency_units[] = {
	{"s", 1}, {"sec", 1}, {"second", 1}, {"seconds", 1},
	{"m", 60}, {"min", 60}, {"minute", 60}, {"minutes", 60},
	{"h", 3600}, {"hour", 3600}, {"hours", 3600},
	{"d", SECS_PER_DAY}, {"day", SECS_PER_DAY}, {"days", SECS_PER_DAY},
	{"w", 7 * SECS_PER_DAY}, {"week", 7 * SECS_PER_DAY}, {"weeks", 7 * SECS_PER_DAY},
};

#define FREQUENCY_FORMS "a number of minutes, <number> <unit> pairs such as '1 hour 30 minutes' or '1h', " \
	"HH:MM:SS, or an ISO-8601 duration such as 'PT15M'"
#define FREQUENCY_UNITS "s, sec, second(s), m, min, minute(s), h, hour(s), d, day(s), w, week(s)"

/*
 * frequency_refused: the ERROR for a frequency string that is none of the
 * accepted forms; what it looks like decides the message and hint.
 */
static void
pg_attribute_noreturn()
frequency_refused(const char *str, const char *problem, const char *unit)
{
	double		v;

	if (strchr(str, '*') != NULL || strchr(str, '/') != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("config key \"frequency\" looks like a cron expression, not an interval: \"%s\"", str),
				 errhint("For a cron schedule (in UTC) use the key \"cron\" instead: {\"cron\": \"%s\"}.", str)));
	if (plain_number(str, &v))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("config key \"frequency\" is a number in a string without a unit: \"%s\"", str),
				 errhint("Write a JSON number for minutes ({\"frequency\": %s}) or add a unit (\"%s minutes\").",
						 str, str)));
	if (unit != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("config key \"frequency\" has an unknown unit \"%s\": \"%s\"", unit, str),
				 errdetail("The units are " FREQUENCY_UNITS "; months and years have no fixed length."),
				 errhint("Use %s.", FREQUENCY_FORMS)));
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_DATETIME_FORMAT),
			 errmsg("config key \"frequency\" is not a valid interval: \"%s\"", str),
			 problem ? errdetail("%s", problem) : 0,
			 errhint("Use %s.", FREQUENCY_FORMS)));
}

/*
 * add_seconds: adds n units of len seconds to an interval the way
 * PostgreSQL's interval input would: whole days and weeks in days (a
 * fraction of a day as time), the rest as time.
 */
static void
add_seconds(Interval *iv, double n, int64 len)
{
	if (len >= SECS_PER_DAY)
	{
		double		days = n * (len / SECS_PER_DAY);
		double		whole = floor(days);

		iv->day += (int32) whole;
		iv->time += (int64) rint((days - whole) * SECS_PER_DAY * USECS_PER_SEC);
	}
	else
		iv->time += (int64) rint(n * len * USECS_PER_SEC);
}

/*
 * parse_unit_pairs: a string made only of "<number> <unit>" pairs
 * ('1h', '1 hour 30 minutes', '2 days'); false when str is not one.
 * *unit gets an unknown unit word, for the message.
 */
static bool
parse_unit_pairs(const char *str, Interval *iv, char **unit)
{
	const char *p = str;
	int			npairs = 0;
	double		total = 0;

	*unit = NULL;
	for (;;)
	{
		const char *start;
		char	   *num;
		char	   *word;
		double		n;
		int			u;

		while (isspace((unsigned char) *p))
			p++;
		if (*p == '\0')
			return npairs > 0;
		start = p;
		while (isdigit((unsigned char) *p))
			p++;
		if (*p == '.' && isdigit((unsigned char) p[1]))
			for (p++; isdigit((unsigned char) *p); p++);
		if (p == start)
			return false;
		num = pnstrdup(start, p - start);
		while (isspace((unsigned char) *p))
			p++;
		start = p;
		while (isalpha((unsigned char) *p))
			p++;
		if (p == start)
			return false;		/* a number without a unit */
		word = pnstrdup(start, p - start);
		for (u = 0; u < lengthof(frequency_units); u++)
			if (pg_strcasecmp(word, frequency_units[u].name) == 0)
				break;
		if (u == lengthof(frequency_units))
		{
			*unit = word;
			return false;
		}
		n = strtod(num, NULL);
		total += n * frequency_units[u].seconds;
		if (!(total <= MAX_FREQUENCY_MINUTES * 60.0))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("config key \"frequency\" must be at most 100 years, not \"%s\"", str)));
		add_seconds(iv, n, frequency_units[u].seconds);
		npairs++;
	}
}

/*
 * parse_hms: HH:MM:SS (minutes and seconds below 60); false otherwise.
 */
static bool
parse_hms(const char *str, Interval *iv)
{
	int			h,
				m,
				sec,
				len = -1;

	if (sscanf(str, " %d:%2d:%2d%n", &h, &m, &sec, &len) != 3 || len < 0 ||
		!isdigit((unsigned char) str[strspn(str, " ")]))
		return false;
	while (isspace((unsigned char) str[len]))
		len++;
	if (str[len] != '\0' || h < 0 || m < 0 || m >= 60 || sec < 0 || sec >= 60)
		return false;
	iv->time = ((int64) h * 3600 + m * 60 + sec) * USECS_PER_SEC;
	return true;
}

/*
 * parse_iso_duration: an ISO-8601 duration ('PT15M', 'P1D', 'P1W'),
 * without years or months (no fixed length); false otherwise.
 */
static bool
parse_iso_duration(const char *str, Interval *iv, const char **problem)
{
	struct pg_itm_in itm;
	int			dtype = DTK_DELTA;

	if (str[0] != 'P' && str[0] != 'p')
		return false;
	memset(&itm, 0, sizeof(itm));
	if (DecodeISO8601Interval(unconstify(char *, str), &dtype, &itm) != 0 || dtype != DTK_DELTA)
		return false;
	if (itm.tm_year != 0 || itm.tm_mon != 0)
	{
		*problem = "Years and months have no fixed length.";
		return false;
	}
	return itmin2interval(&itm, iv) == 0;
}

/*
 * parse_frequency_strict: a frequency string in one of the forms of docs/config.md; anything else is refused, however PostgreSQL's own interval
 * input would read it ('*' + '/5 * * * *' is 5 seconds there).
 */
static void
parse_frequency_strict(const char *str, Interval *iv)
{
	char	   *unit = NULL;
	const char *problem = NULL;

	memset(iv, 0, sizeof(*iv));
	if (parse_iso_duration(str, iv, &problem) || parse_hms(str, iv))
		return;
	memset(iv, 0, sizeof(*iv));
	if (problem == NULL && parse_unit_pairs(str, iv, &unit))
		return;
	frequency_refused(str, problem, unit);
}

/*
 * parse_frequency: `frequency`: a number of minutes, or a string in one of
 * the forms of docs/config.md; at least 1 second.  With keep (a config
 * stored before frequencies were strict), a string is read as PostgreSQL's
 * interval input reads it, as it was when the sync was added.
 */
static Interval *
parse_frequency(const cJSON *item, bool keep)
{
	Interval   *iv = palloc0(sizeof(Interval));
	double		minutes;

	if (cJSON_IsNumber(item) ||
		(keep && cJSON_IsString(item) && plain_number(item->valuestring, &minutes)))
	{
		if (cJSON_IsNumber(item))
			minutes = item->valuedouble;
		if (minutes > MAX_FREQUENCY_MINUTES)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("config key \"frequency\" must be at most 100 years, not %g minutes", minutes)));
		if (!(minutes * 60.0 >= 1.0))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("config key \"frequency\" must be at least 1 second, not %g minutes", minutes),
					 errhint("A number counts minutes; a string such as '30 seconds', '15 minutes', '1h' or '2 days' gives any interval.")));
		iv->time = (int64) rint(minutes * 60.0 * USECS_PER_SEC);
		return iv;
	}
	if (!cJSON_IsString(item))
		config_type_error("frequency", item, "a number of minutes or an interval string");
	if (!keep)
		parse_frequency_strict(item->valuestring, iv);
	else if (!parse_interval_text(item->valuestring, iv))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("config key \"frequency\" is not a valid interval: \"%s\"", item->valuestring),
				 errhint("Use a number of minutes, or a string such as '30 seconds', '15 minutes', '1h' or '2 days'.")));
	if (interval_seconds(iv) > MAX_FREQUENCY_MINUTES * 60.0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("config key \"frequency\" must be at most 100 years, not \"%s\"", item->valuestring)));
	if (!(interval_seconds(iv) >= 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("config key \"frequency\" must be at least 1 second, not \"%s\"", item->valuestring)));
	return iv;
}

/*
 * duration_ms: a duration given as a number of seconds or an interval
 * string (a bare number in a string counts seconds, as interval input
 * does), between 1 millisecond and max_seconds; returns milliseconds.
 * label names it in messages, type_key in a type error; examples and
 * max_text complete the hint and the range message.
 */
static int64
duration_ms(const cJSON *item, const char *label, const char *type_key,
			const char *examples, double max_seconds, const char *max_text)
{
	double		seconds = 0;
	Interval	iv;

	if (cJSON_IsNumber(item))
		seconds = item->valuedouble;
	else if (!cJSON_IsString(item))
		config_type_error(type_key, item, "a number of seconds or an interval string");
	else if (plain_number(item->valuestring, &seconds))
		 /* seconds */ ;
	else if (parse_interval_text(item->valuestring, &iv))
		seconds = interval_seconds(&iv);
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s is not a valid interval: \"%s\"", label, item->valuestring),
				 errhint("Use a number of seconds, or a string such as %s.", examples)));
	if (!(seconds >= 0.001 && seconds <= max_seconds))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be between 1 millisecond and %s, not %g seconds", label, max_text, seconds)));
	return (int64) rint(seconds * 1000.0);
}

/*
 * parse_timeout: `timeout`: seconds as a number, or an interval string;
 * between 1 millisecond and 1 day.  Returns milliseconds.
 */
static int
parse_timeout(const cJSON *item)
{
	return (int) duration_ms(item, "config key \"timeout\"", "timeout",
							 "'30s' or '2 minutes'", SECS_PER_DAY, "1 day");
}

/*
 * parse_cron: `cron`: a valid five-field expression.
 */
static char *
parse_cron(const cJSON *item)
{
	NangoCron	c;
	char	   *why = NULL;
	char	   *expr;

	if (!cJSON_IsString(item))
		config_type_error("cron", item, "a string");
	expr = pstrdup(item->valuestring);
	if (!nango_cron_parse(expr, &c, &why))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("config key \"cron\" is not a valid cron expression: \"%s\"", expr),
				 errdetail("%c%s.", pg_toupper((unsigned char) why[0]), why + 1),
				 errhint("Use five fields in UTC: minute hour day-of-month month day-of-week, e.g. \"*/15 * * * *\".")));
	return expr;
}

/*
 * config_rate_limit_per: the "per" of `rate_limit`: a number of seconds or an
 * interval string, from 1 millisecond to 31 days.  Returns milliseconds.
 */
int64
config_rate_limit_per(const cJSON *per)
{
	return duration_ms(per, "config key \"rate_limit\": \"per\"", "rate_limit.per",
					   "'10 seconds', '1 minute' or '1 hour'", 31.0 * SECS_PER_DAY, "31 days");
}

/* config_read_timeout: `timeout`, in milliseconds. */
void
config_read_timeout(ConfigParse *p, const ConfigKeyDef *def, const cJSON *item)
{
	p->cfg->timeout_ms = parse_timeout(item);
}

/*
 * config_read_frequency: `frequency`; a config stored by nango 0.2 keeps
 * its interval input (NANGO_PARSE_KEEP_FREQUENCY).
 */
void
config_read_frequency(ConfigParse *p, const ConfigKeyDef *def, const cJSON *item)
{
	p->cfg->frequency = parse_frequency(item, (p->keep & NANGO_PARSE_KEEP_FREQUENCY) != 0);
}

/* config_read_cron: `cron`. */
void
config_read_cron(ConfigParse *p, const ConfigKeyDef *def, const cJSON *item)
{
	p->cfg->cron = parse_cron(item);
}
