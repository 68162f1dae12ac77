/*-------------------------------------------------------------------------
 *
 * config.c
 *	  A sync's configuration (docs/config.md): every key is checked for its
 *	  JSON type and allowed values, refused combinations are reported, and
 *	  the typed NangoConfig every other module reads is built, together with
 *	  the normalized JSON stored in nango.syncs.config.
 *
 *	  The config is walked with cJSON (jsonb -> text -> cJSON); the cJSON
 *	  tree is freed on every path, including ERROR.  Texts that must stay
 *	  exactly as the user wrote them (numbers, nested JSON) are taken from
 *	  the jsonb value itself.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <math.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "commands/extension.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/datetime.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

#include "config.h"
#include "credscope.h"
#include "cron.h"

/* Every config key; the order of config_key_names below. */
typedef enum ConfigKey
{
	K_METHOD,
	K_HEADERS,
	K_BODY,
	K_QUERY_PARAMS,
	K_TIMEOUT,
	K_RETRIES,
	K_RESPONSE_PATH,
	K_UNIQUE_KEY,
	K_MAX_TOTAL,
	K_PAGING_CURSOR_REQUEST_PATH,
	K_PAGING_CURSOR_METADATA_RESPONSE_PATH,
	K_PAGING_CURSOR_OBJECT_RESPONSE_PATH,
	K_PAGING_URL_PATH,
	K_PAGING_HEADER_LINK_REL,
	K_PAGING_OFFSET_REQUEST_PATH,
	K_PAGING_LIMIT_REQUEST_PATH,
	K_PAGING_LIMIT,
	K_PAGING_NUMBER_REQUEST_PATH,
	K_PAGING_NUMBER_START,
	K_AUTO_MAPPING,
	K_MAPPED_TABLE,
	K_METADATA,
	K_DELETE_MODE,
	K_FREQUENCY,
	K_CRON,
	K_PIZZLY_CONNECTION_ID,
	K_PIZZLY_PROVIDER_CONFIG_KEY,
	K_NANGO_CONNECTION_ID,
	K_NANGO_PROVIDER_CONFIG_KEY,
	K_INCREMENTAL_CURSOR_PATH,
	K_INCREMENTAL_REQUEST_PATH,
	K_INCREMENTAL_INITIAL_VALUE,
	K_FRIENDLY_NAME,
	K_CREDENTIAL_HOSTS,
	K_FIELDS,
	K_ARRAYS,
	K_PARENT,
	K_CONCURRENCY,
	K_RATE_LIMIT,
	K_CHECKPOINT,
	NUM_CONFIG_KEYS
} ConfigKey;

static const char *const config_key_names[NUM_CONFIG_KEYS] = {
	"method",
	"headers",
	"body",
	"query_params",
	"timeout",
	"retries",
	"response_path",
	"unique_key",
	"max_total",
	"paging_cursor_request_path",
	"paging_cursor_metadata_response_path",
	"paging_cursor_object_response_path",
	"paging_url_path",
	"paging_header_link_rel",
	"paging_offset_request_path",
	"paging_limit_request_path",
	"paging_limit",
	"paging_number_request_path",
	"paging_number_start",
	"auto_mapping",
	"mapped_table",
	"metadata",
	"delete_mode",
	"frequency",
	"cron",
	"pizzly_connection_id",
	"pizzly_provider_config_key",
	"nango_connection_id",
	"nango_provider_config_key",
	"incremental_cursor_path",
	"incremental_request_path",
	"incremental_initial_value",
	"friendly_name",
	"credential_hosts",
	"fields",
	"arrays",
	"parent",
	"concurrency",
	"rate_limit",
	"checkpoint",
};

/* nango's own relations in schema nango: never a mapped table. */
static const char *const nango_own_relations[] = {
	"syncs", "jobs", "raw", "_nango_syncs", "_nango_jobs", "_nango_raw",
	"syncs_id_seq", "jobs_id_seq", "raw_id_seq", NULL
};

/* The longest frequency: 100 years (of 365.25 days). */
#define MAX_FREQUENCY_MINUTES (100 * 365.25 * 24 * 60)

/* Largest integer a JSON number (a double in cJSON) carries exactly. */
#define MAX_EXACT_INT 9007199254740992.0

/* The state of one parse: the result, the source, the keys present. */
typedef struct ConfigParse
{
	NangoConfig *cfg;
	Jsonb	   *source;
	int			keep;			/* NANGO_PARSE_KEEP_* flags */
	bool		present[NUM_CONFIG_KEYS];
} ConfigParse;

#define KEY(k) config_key_names[k]

static char *source_json_text(Jsonb *source, const char *key, const char *sub, int idx);
static void refuse_combination(const char *message, const char *hint) pg_attribute_noreturn();

/*
 * json_type_name: the JSON type of item, for messages.
 */
static const char *
json_type_name(const cJSON *item)
{
	if (cJSON_IsString(item))
		return "a string";
	if (cJSON_IsNumber(item))
		return "a number";
	if (cJSON_IsBool(item))
		return "a boolean";
	if (cJSON_IsArray(item))
		return "an array";
	if (cJSON_IsObject(item))
		return "an object";
	return "null";
}

/*
 * type_error: reports that key holds a value of the wrong JSON type.
 */
static void
pg_attribute_noreturn()
type_error(const char *key, const cJSON *item, const char *expected)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("config key \"%s\" must be %s, not %s", key, expected, json_type_name(item))));
}

/*
 * get_string: the string value of key.
 */
static char *
get_string(ConfigKey k, const cJSON *item)
{
	if (!cJSON_IsString(item))
		type_error(KEY(k), item, "a string");
	return pstrdup(item->valuestring);
}

/*
 * check_dots: a dot path ("data.results") is a non-empty string without
 * empty segments.  what names the key (or the fields entry) in messages.
 */
static void
check_dots(const char *what, const char *s)
{
	size_t		len = strlen(s);

	if (len == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be empty", what),
				 errhint("Remove the key, or give a dot path such as \"data.results\".")));
	if (s[0] == '.' || s[len - 1] == '.' || strstr(s, "..") != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s is not a valid dot path: \"%s\"", what, s),
				 errdetail("A dot path names nested keys separated by single dots, such as \"paging.next.after\"."),
				 errhint("For a key that contains a dot, give the path as a JSON array of its steps, such as [\"@odata.nextLink\"].")));
}

/*
 * steps_from_array: the steps of the array form of a path (strings are
 * keys, non-negative integers array indexes; keys_only refuses indexes,
 * for request-side paths, which name keys).  json is the array's JSON
 * text, kept as the path's text.
 */
static NangoPath *
steps_from_array(const char *what, const cJSON *item, bool keys_only, char *json)
{
	NangoPath  *path = palloc0(sizeof(NangoPath));
	const cJSON *e;
	int			n = cJSON_GetArraySize(item);

	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be an empty array", what),
				 errhint("Give the steps of the path, such as [\"value\", 0, \"id\"].")));
	path->text = json;
	path->steps = palloc0(sizeof(NangoPathStep) * n);
	cJSON_ArrayForEach(e, item)
	{
		NangoPathStep *st = &path->steps[path->nsteps++];

		if (cJSON_IsString(e))
		{
			st->key = pstrdup(e->valuestring);
			st->keylen = strlen(e->valuestring);
			st->index = -1;
			continue;
		}
		if (!cJSON_IsNumber(e) || keys_only || e->valuedouble != floor(e->valuedouble) ||
			e->valuedouble < 0 || e->valuedouble > 999999999)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s: step %d of the path is %s, not %s", what, path->nsteps,
							json_type_name(e), keys_only ? "a string" : "a string or an array index"),
					 errdetail(keys_only ? "A request path names the keys a value is sent under."
							   : "In the array form of a path, strings are keys and non-negative integers are array indexes."),
					 errhint(keys_only ? "Write it as [\"page\", \"cursor\"]." : "Write it as [\"value\", 0, \"id\"].")));
		st->index = (int) e->valuedouble;
	}
	return path;
}

/*
 * get_path: a path key in either form (docs/config.md): a dot path, or a
 * JSON array of steps.  Returns the compiled path in *steps and the text
 * the config's string field keeps (see config.h).
 */
static char *
get_path(ConfigParse *p, ConfigKey k, const cJSON *item, NangoPath **steps, bool request_side)
{
	char	   *what = psprintf("config key \"%s\"", KEY(k));

	if (cJSON_IsArray(item))
	{
		*steps = steps_from_array(what, item, request_side,
								  source_json_text(p->source, KEY(k), NULL, -1));
		return request_side ? nango_path_dotted(*steps) : (*steps)->text;
	}
	if (!cJSON_IsString(item))
		type_error(KEY(k), item, "a dot path string or an array of path steps");
	check_dots(what, item->valuestring);
	*steps = nango_path_from_dots(item->valuestring);
	return (*steps)->text;
}

/*
 * parse_fields: `fields`: a non-empty array of paths, each a dot path or
 * an array of steps.
 */
static void
parse_fields(ConfigParse *p, const cJSON *item, NangoMapOptions *opts)
{
	const cJSON *e;
	int			i = 0;

	if (!cJSON_IsArray(item))
		type_error("fields", item, "an array of dot paths");
	if (cJSON_GetArraySize(item) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("config key \"fields\" must not be an empty array"),
				 errhint("List the paths to map, such as [\"id\", \"properties.email\"], or remove the key to map every field.")));
	opts->fields = palloc(sizeof(NangoPath *) * cJSON_GetArraySize(item));
	cJSON_ArrayForEach(e, item)
	{
		char	   *what = psprintf("config key \"fields\" entry %d", i + 1);

		if (cJSON_IsArray(e))
			opts->fields[i] = steps_from_array(what, e, false,
											   source_json_text(p->source, "fields", NULL, i));
		else if (cJSON_IsString(e))
		{
			check_dots(what, e->valuestring);
			opts->fields[i] = nango_path_from_dots(e->valuestring);
		}
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s must be a dot path string or an array of path steps, not %s",
							what, json_type_name(e)),
					 errhint("Write it as \"properties.email\" or [\"@odata.type\"].")));
		i++;
	}
	opts->nfields = i;
}

/*
 * parse_arrays: `arrays`: "columns" (one column per index, the default)
 * or "jsonb" (one jsonb column per array).
 */
static bool
parse_arrays(const cJSON *item)
{
	if (!cJSON_IsString(item))
		type_error("arrays", item, "a string");
	if (strcmp(item->valuestring, "columns") == 0)
		return false;
	if (strcmp(item->valuestring, "jsonb") == 0)
		return true;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("config key \"arrays\" must be \"columns\" or \"jsonb\", not \"%s\"", item->valuestring),
			 errhint("\"columns\" maps an array to one column per index (list_0, list_1, ...); \"jsonb\" to one jsonb column.")));
}

/*
 * get_nonempty: a string that must not be empty.
 */
static char *
get_nonempty(ConfigKey k, const cJSON *item)
{
	char	   *s = get_string(k, item);

	if (s[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("config key \"%s\" must not be empty", KEY(k))));
	return s;
}

/*
 * get_int: an integral JSON number of key between min and max.
 */
static int64
get_int(ConfigKey k, const cJSON *item, double min, double max, const char *range_text)
{
	double		v;

	if (!cJSON_IsNumber(item))
		type_error(KEY(k), item, "a number");
	v = item->valuedouble;
	if (v != floor(v) || isnan(v))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("config key \"%s\" must be a whole number, not %g", KEY(k), v)));
	if (v < min || v > max)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("config key \"%s\" must be %s, not %.*g", KEY(k), range_text, fabs(v) < 1e15 ? 15 : 6, v)));
	return (int64) v;
}

/*
 * source_value: the jsonb value of key (and of sub inside it, or of element
 * idx inside that), straight from the jsonb config, or NULL.
 */
static JsonbValue *
source_value(Jsonb *source, const char *key, const char *sub, int idx)
{
	JsonbValue *v = getKeyJsonValueFromContainer(&source->root, key, strlen(key), NULL);

	if (v && sub)
	{
		if (v->type != jbvBinary)
			return NULL;
		v = getKeyJsonValueFromContainer(v->val.binary.data, sub, strlen(sub), NULL);
	}
	if (v && idx >= 0)
	{
		if (v->type != jbvBinary)
			return NULL;
		v = getIthJsonbValueFromContainer(v->val.binary.data, idx);
	}
	return v;
}

/*
 * source_json_text: the JSON text of a value of the jsonb config, exactly
 * as jsonb keeps it (numbers as written).
 */
static char *
source_json_text(Jsonb *source, const char *key, const char *sub, int idx)
{
	JsonbValue *v = source_value(source, key, sub, idx);
	Jsonb	   *jb;

	if (v == NULL)
		elog(ERROR, "config key \"%s\" vanished", key);
	jb = JsonbValueToJsonb(v);
	return JsonbToCString(NULL, &jb->root, VARSIZE(jb));
}

/*
 * scalar_text: a scalar as a query parameter value: a string as is, a
 * number as written, a boolean as true/false.
 */
static char *
scalar_text(ConfigParse *p, const cJSON *item, const char *key, const char *sub, int idx)
{
	if (cJSON_IsString(item))
		return pstrdup(item->valuestring);
	if (cJSON_IsBool(item))
		return pstrdup(cJSON_IsTrue(item) ? "true" : "false");
	return source_json_text(p->source, key, sub, idx);
}

/*
 * closest_key: the valid key nearest to key (Levenshtein distance, ignoring
 * case), and that distance.
 */
static const char *
closest_key(const char *key, int *distance)
{
	char	   *lower = pstrdup(key);
	const char *best = config_key_names[0];
	int			best_d = INT_MAX;

	for (char *c = lower; *c; c++)
		*c = pg_tolower((unsigned char) *c);
	for (int i = 0; i < NUM_CONFIG_KEYS; i++)
	{
		int			d = varstr_levenshtein(lower, pg_mbcliplen(lower, strlen(lower), 200),
										   config_key_names[i], strlen(config_key_names[i]),
										   1, 1, 1, false);

		if (d < best_d)
		{
			best_d = d;
			best = config_key_names[i];
		}
	}
	*distance = best_d;
	return best;
}

/*
 * unknown_key: reports a key that is not a config key, naming the closest
 * valid one.
 */
static void
pg_attribute_noreturn()
unknown_key(const char *key)
{
	int			d;
	const char *best = closest_key(key, &d);

	if (strcmp(key, "url") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown config key \"%s\"", key),
				 errhint("The URL is the first argument of nango.add_sync, not a config key.")));
	if (d <= Max(2, (int) strlen(best) / 3))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown config key \"%s\"", key),
				 errhint("Did you mean \"%s\"?", best)));
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown config key \"%s\"", key),
			 errhint("The closest valid key is \"%s\"; the README's \"Config keys\" section lists them all.", best)));
}

/*
 * check_url: url must be an absolute http or https URL with a host.  The
 * URL itself is not repeated in the error: it may carry a secret.
 */
static void
check_url(const char *url)
{
	CURLU	   *h;
	CURLUcode	rc;
	char	   *scheme = NULL;
	const char *sep;
	char		problem[256];

	problem[0] = '\0';
	h = curl_url();
	if (h == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	rc = curl_url_set(h, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
	if (rc != CURLUE_OK)
		snprintf(problem, sizeof(problem), "%s.", curl_url_strerror(rc));
	else if (curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
			 (pg_strcasecmp(scheme, "http") != 0 && pg_strcasecmp(scheme, "https") != 0))
		snprintf(problem, sizeof(problem), "The scheme is \"%s\".", scheme ? scheme : "");
	curl_free(scheme);
	curl_url_cleanup(h);

	sep = strstr(url, "://");
	if (problem[0] == '\0' && (sep == NULL || sep[3] == '/' || sep[3] == '\0'))
		strlcpy(problem, "It has no host.", sizeof(problem));
	if (problem[0] != '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("url must be an absolute http or https URL"),
				 errdetail("%s", problem),
				 errhint("Write it as in a browser, e.g. \"https://api.example.com/items?limit=100\".")));
}

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
		type_error("frequency", item, "a number of minutes or an interval string");
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
 * parse_timeout: `timeout`: seconds as a number, or an interval string;
 * between 1 millisecond and 1 day.  Returns milliseconds.
 */
static int
parse_timeout(const cJSON *item)
{
	double		seconds;

	if (cJSON_IsNumber(item))
		seconds = item->valuedouble;
	else if (cJSON_IsString(item))
	{
		Interval	iv;

		if (plain_number(item->valuestring, &seconds))
			 /* a bare number counts seconds, as interval input does */ ;
		else if (parse_interval_text(item->valuestring, &iv))
			seconds = interval_seconds(&iv);
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("config key \"timeout\" is not a valid interval: \"%s\"", item->valuestring),
					 errhint("Use a number of seconds, or a string such as '30s' or '2 minutes'.")));
	}
	else
		type_error("timeout", item, "a number of seconds or an interval string");

	if (!(seconds >= 0.001 && seconds <= SECS_PER_DAY))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("config key \"timeout\" must be between 1 millisecond and 1 day, not %g seconds", seconds)));
	return (int) rint(seconds * 1000.0);
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
		type_error("cron", item, "a string");
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
 * parse_method: `method`, any case, stored upper-cased.
 */
static char *
parse_method(const cJSON *item)
{
	static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", NULL};
	char	   *m = get_string(K_METHOD, item);

	for (char *c = m; *c; c++)
		*c = pg_toupper((unsigned char) *c);
	for (int i = 0; methods[i]; i++)
		if (strcmp(m, methods[i]) == 0)
			return m;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("config key \"method\" must be one of GET, POST, PUT, PATCH, DELETE, not \"%s\"",
					item->valuestring)));
}

/*
 * parse_delete_mode: `delete_mode`: none, soft or hard (any case).
 */
static NangoDeleteMode
parse_delete_mode(const cJSON *item)
{
	char	   *m = get_string(K_DELETE_MODE, item);

	if (pg_strcasecmp(m, "none") == 0)
		return NANGO_DELETE_NONE;
	if (pg_strcasecmp(m, "soft") == 0)
		return NANGO_DELETE_SOFT;
	if (pg_strcasecmp(m, "hard") == 0)
		return NANGO_DELETE_HARD;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("config key \"delete_mode\" must be one of none, soft, hard, not \"%s\"", m)));
}

/*
 * header_name_ok: whether name is an HTTP header name (an RFC 9110 token).
 */
static bool
header_name_ok(const char *name)
{
	if (*name == '\0')
		return false;
	for (const char *c = name; *c; c++)
		if (!isalnum((unsigned char) *c) && strchr("!#$%&'*+-.^_`|~", *c) == NULL)
			return false;
	return true;
}

/*
 * parse_headers: `headers`: an object of string values, names that are
 * HTTP tokens, values without line breaks.
 */
static void
parse_headers(NangoConfig *cfg, const cJSON *item)
{
	const cJSON *h;
	int			n = 0;

	if (!cJSON_IsObject(item))
		type_error("headers", item, "an object");
	cfg->headers = palloc0(sizeof(NangoPair) * (cJSON_GetArraySize(item) + 1));
	cJSON_ArrayForEach(h, item)
	{
		if (!header_name_ok(h->string))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("config key \"headers\" has an invalid header name \"%s\"", h->string),
					 errhint("A header name is made of letters, digits and !#$%%&'*+-.^_`|~.")));
		if (!cJSON_IsString(h))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("config key \"headers\": the value of header \"%s\" must be a string, not %s",
							h->string, json_type_name(h)),
					 errhint("Write the value in quotes.")));
		if (strpbrk(h->valuestring, "\r\n") != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("config key \"headers\": the value of header \"%s\" must not contain a line break",
							h->string)));
		cfg->headers[n].name = pstrdup(h->string);
		cfg->headers[n].value = pstrdup(h->valuestring);
		n++;
	}
	cfg->nheaders = n;
}

/*
 * query_param_error: reports a query parameter value of the wrong type.
 */
static void
pg_attribute_noreturn()
query_param_error(const char *name, const cJSON *v, bool element)
{
	if (element)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("config key \"query_params\": an element of \"%s\" must be a string, number or boolean, not %s",
						name, json_type_name(v))));
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("config key \"query_params\": the value of \"%s\" must be a string, number, boolean or array of those, not %s",
					name, json_type_name(v)),
			 errhint("An array gives the parameter once per element, e.g. {\"id\": [1, 2]} sends id=1&id=2.")));
}

/*
 * parse_query_params: `query_params`: an object of scalars; an array gives
 * one pair per element (repeated keys).
 */
static void
parse_query_params(ConfigParse *p, const cJSON *item)
{
	NangoConfig *cfg = p->cfg;
	const cJSON *q;
	int			cap = 8;

	if (!cJSON_IsObject(item))
		type_error("query_params", item, "an object");
	cfg->params = palloc0(sizeof(NangoPair) * cap);
	cJSON_ArrayForEach(q, item)
	{
		int			count = cJSON_IsArray(q) ? cJSON_GetArraySize(q) : 1;

		if (q->string[0] == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("config key \"query_params\" has an empty parameter name")));
		for (int i = 0; i < count; i++)
		{
			const cJSON *v = cJSON_IsArray(q) ? cJSON_GetArrayItem(q, i) : q;

			if (!cJSON_IsString(v) && !cJSON_IsNumber(v) && !cJSON_IsBool(v))
				query_param_error(q->string, v, cJSON_IsArray(q));
			if (cfg->nparams == cap)
			{
				cap *= 2;
				cfg->params = repalloc(cfg->params, sizeof(NangoPair) * cap);
			}
			cfg->params[cfg->nparams].name = pstrdup(q->string);
			cfg->params[cfg->nparams].value =
				scalar_text(p, v, "query_params", q->string, cJSON_IsArray(q) ? i : -1);
			cfg->nparams++;
		}
	}
}

/*
 * parse_metadata: `metadata`: a flat object of scalars (one column each).
 */
static char *
parse_metadata(ConfigParse *p, const cJSON *item)
{
	const cJSON *m;

	if (!cJSON_IsObject(item))
		type_error("metadata", item, "an object");
	cJSON_ArrayForEach(m, item)
	{
		if (m->string[0] == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("config key \"metadata\" has an empty key")));
		if (!cJSON_IsString(m) && !cJSON_IsNumber(m) && !cJSON_IsBool(m))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("config key \"metadata\": the value of \"%s\" must be a string, number or boolean, not %s",
							m->string, json_type_name(m)),
					 errhint("metadata is a flat object: each key becomes one column of every row.")));
	}
	return source_json_text(p->source, "metadata", NULL, -1);
}

/*
 * mapped_ident: reads one SQL identifier of a mapped_table name at *s
 * (quoted, or unquoted and then folded to lower case), advancing *s.
 */
static char *
mapped_ident(const char **s, const char *whole)
{
	StringInfoData buf;
	const char *c = *s;

	initStringInfo(&buf);
	if (*c == '"')
	{
		for (c++;; c++)
		{
			if (*c == '\0')
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_NAME),
						 errmsg("config key \"mapped_table\" is not a valid table name: %s", whole),
						 errdetail("A quoted identifier is not closed."),
						 errhint("Write [schema.]table; quote a part with double quotes when it needs them, e.g. \"My Schema\".items.")));
			if (*c == '"')
			{
				if (c[1] != '"')
					break;
				c++;
			}
			appendStringInfoChar(&buf, *c);
		}
		c++;
	}
	else
	{
		for (; *c && *c != '.'; c++)
		{
			unsigned char ch = (unsigned char) *c;

			if (!(isalpha(ch) || ch == '_' || ch >= 0x80 || (buf.len > 0 && (isdigit(ch) || ch == '$'))))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_NAME),
						 errmsg("config key \"mapped_table\" is not a valid table name: %s", whole),
						 errdetail("Character \"%c\" is not allowed in an unquoted name.", *c),
						 errhint("Write [schema.]table; quote a part with double quotes when it needs them, e.g. \"My Schema\".items.")));
			appendStringInfoChar(&buf, pg_tolower(ch));
		}
	}
	if (buf.len == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("config key \"mapped_table\" is not a valid table name: %s", whole),
				 errdetail("A part of the name is empty."),
				 errhint("Write [schema.]table, e.g. \"items\" or \"crm.contacts\".")));
	if (buf.len >= NAMEDATALEN)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("config key \"mapped_table\" is not a valid table name: %s", whole),
				 errdetail("\"%s\" is longer than %d bytes.", buf.data, NAMEDATALEN - 1)));
	*s = c;
	return buf.data;
}

/*
 * parse_mapped_table: `mapped_table`: [schema.]table, at most two parts,
 * each at most 63 bytes; never one of nango's own relations nor a system
 * schema.  Sets the resolved schema and table name.
 */
/*
 * is_default_table_name: true for "_nango_sync_<digits>", the name of a
 * sync's default mapped table in schema nango.  No sync may name another
 * sync's default table (it could create it first and own it).
 */
static bool
is_default_table_name(const char *name)
{
	const char *prefix = "_nango_sync_";
	const char *p;

	if (strncmp(name, prefix, strlen(prefix)) != 0)
		return false;
	p = name + strlen(prefix);
	if (*p == '\0')
		return false;
	for (; *p; p++)
		if (!isdigit((unsigned char) *p))
			return false;
	return true;
}

static void
parse_mapped_table(NangoConfig *cfg, const cJSON *item)
{
	const char *whole = get_string(K_MAPPED_TABLE, item);
	const char *s = whole;
	char	   *first;
	char	   *second = NULL;

	if (*whole == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("config key \"mapped_table\" must not be empty"),
				 errhint("Remove the key for the default nango._nango_sync_<id>, or write [schema.]table.")));
	first = mapped_ident(&s, whole);

	if (*s == '.')
	{
		s++;
		second = mapped_ident(&s, whole);
	}
	if (*s != '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("config key \"mapped_table\" is not a valid table name: %s", whole),
				 errdetail("%s", *s == '.' ? "A name has at most two parts: schema and table." : "Unexpected text after the name."),
				 errhint("Write [schema.]table, e.g. \"items\" or \"crm.contacts\".")));

	cfg->mapped_table = pstrdup(whole);
	cfg->mapped_schema = second ? first : pstrdup("nango");
	cfg->mapped_name = second ? second : first;

	if (strncmp(cfg->mapped_schema, "pg_", 3) == 0 ||
		strcmp(cfg->mapped_schema, "information_schema") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_RESERVED_NAME),
				 errmsg("config key \"mapped_table\" names a table in system schema \"%s\"", cfg->mapped_schema),
				 errhint("Choose another schema, or leave the name unqualified to use schema nango.")));
	if (strcmp(cfg->mapped_schema, "nango") == 0)
	{
		bool		own = false;
		Oid			nsp = get_namespace_oid("nango", true);
		Oid			ext = get_extension_oid("nango", true);

		for (int i = 0; nango_own_relations[i]; i++)
			own |= (strcmp(cfg->mapped_name, nango_own_relations[i]) == 0);
		if (!own && OidIsValid(nsp) && OidIsValid(ext))
		{
			Oid			rel = get_relname_relid(cfg->mapped_name, nsp);

			own = OidIsValid(rel) && getExtensionOfObject(RelationRelationId, rel) == ext;
		}
		if (own)
			ereport(ERROR,
					(errcode(ERRCODE_RESERVED_NAME),
					 errmsg("config key \"mapped_table\" names nango's own table nango.%s", cfg->mapped_name),
					 errhint("Choose another name; the default is nango._nango_sync_<id>.")));
		if (is_default_table_name(cfg->mapped_name))
			ereport(ERROR,
					(errcode(ERRCODE_RESERVED_NAME),
					 errmsg("config key \"mapped_table\" names nango.%s, which is reserved for a sync's default table",
							cfg->mapped_name),
					 errhint("Remove the key to use this sync's own default table, or choose another name.")));
	}
}

/*
 * parse_incremental_initial_value: a string or a number, kept as JSON text.
 */
static char *
parse_incremental_initial_value(ConfigParse *p, const cJSON *item)
{
	if (!cJSON_IsString(item) && !cJSON_IsNumber(item))
		type_error("incremental_initial_value", item, "a string or a number");
	return source_json_text(p->source, "incremental_initial_value", NULL, -1);
}

/*
 * parse_credential_hosts: `credential_hosts`: an array of hosts (optionally
 * host:port) that may receive the sync's credentials besides the origin of
 * its URL.  Kept in lower case, as host names compare.
 */
static void
parse_credential_hosts(NangoConfig *cfg, const cJSON *item)
{
	const cJSON *h;
	int			i = 0;

	if (!cJSON_IsArray(item))
		type_error("credential_hosts", item, "an array of host names");
	cfg->credential_hosts = palloc0(sizeof(char *) * (cJSON_GetArraySize(item) + 1));
	cJSON_ArrayForEach(h, item)
	{
		const char *problem;

		i++;
		if (!cJSON_IsString(h))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("config key \"credential_hosts\": element %d must be a string, not %s",
							i, json_type_name(h)),
					 errhint("Give host names, such as [\"api.example.com\", \"files.example.com:8443\"].")));
		problem = nango_credential_host_problem(h->valuestring);
		if (problem != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("config key \"credential_hosts\": \"%s\" is not a host: %s",
							h->valuestring, problem),
					 errhint("Give a host name or address, optionally with a port, such as \"api.example.com\" or \"files.example.com:8443\", without scheme or path.")));
		cfg->credential_hosts[cfg->ncredential_hosts] = pstrdup(h->valuestring);
		for (char *c = cfg->credential_hosts[cfg->ncredential_hosts]; *c; c++)
			*c = pg_ascii_tolower((unsigned char) *c);
		cfg->ncredential_hosts++;
	}
}

/*
 * parse_parent: `parent`: {"sync": <id or name>}, the sync whose records
 * a child sync's requests are made for (docs/config.md).  Whether that
 * sync exists and may be a parent is checked by api.c, which has the
 * owner.
 */
static void
parse_parent(NangoConfig *cfg, const cJSON *item)
{
	const cJSON *s = cJSON_IsObject(item) ? cJSON_GetObjectItemCaseSensitive(item, "sync") : NULL;

	if (!cJSON_IsObject(item) || cJSON_GetArraySize(item) != 1 || s == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("config key \"parent\" must be an object with the one key \"sync\""),
				 errhint("Write {\"parent\": {\"sync\": 12}} or {\"parent\": {\"sync\": \"repositories\"}}.")));
	cfg->has_parent = true;
	if (cJSON_IsNumber(s))
		cfg->parent_id = get_int(K_PARENT, s, 1, MAX_EXACT_INT, "a sync id (a positive whole number)");
	else if (cJSON_IsString(s) && s->valuestring[0] != '\0')
		cfg->parent_name = pstrdup(s->valuestring);
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("config key \"parent\": \"sync\" must be a sync id or a sync's name, not %s",
						json_type_name(s))));
}

/* has_parent_ref: whether s holds a ${parent.<path>} placeholder. */
static bool
has_parent_ref(const char *s)
{
	return s != NULL && strstr(s, NANGO_PARENT_PREFIX) != NULL;
}

/*
 * check_parent_refs: ${parent.*} placeholders, concurrency and a schedule
 * of its own need (or, for the schedule, may be left out with) parent.
 */
static void
check_parent_refs(ConfigParse *p)
{
	NangoConfig *cfg = p->cfg;
	const char *where = NULL;

	if (has_parent_ref(cfg->url))
		where = "url";
	for (int i = 0; i < cfg->nheaders && where == NULL; i++)
		if (has_parent_ref(cfg->headers[i].value))
			where = "headers";
	for (int i = 0; i < cfg->nparams && where == NULL; i++)
		if (has_parent_ref(cfg->params[i].value))
			where = "query_params";
	if (where == NULL && has_parent_ref(cfg->body))
		where = "body";
	if (!cfg->has_parent && where != NULL)
		refuse_combination(psprintf("config key \"%s\" uses a ${parent.*} placeholder, but the sync has no \"parent\"", where),
						   "Set \"parent\": {\"sync\": <id or name>} to make this a child sync of that sync's records.");
	if (!cfg->has_parent && p->present[K_CONCURRENCY])
		refuse_combination("config key \"concurrency\" needs \"parent\"",
						   "concurrency is how many parents' request chains a child sync runs at once.");
	if (cfg->has_parent && where == NULL)
		refuse_combination("config key \"parent\" needs a ${parent.<path>} placeholder in \"url\", \"query_params\", \"headers\" or \"body\"",
						   "A child sync makes one request chain per parent record, e.g. \"https://api.github.com/repos/${parent.full_name}/issues\".");
}

/*
 * rate_limit_per: the "per" of `rate_limit`: a number of seconds or an
 * interval string, from 1 millisecond to 31 days.  Returns milliseconds.
 */
static int64
rate_limit_per(const cJSON *per)
{
	double		seconds = 0;
	Interval	iv;

	if (cJSON_IsNumber(per))
		seconds = per->valuedouble;
	else if (cJSON_IsString(per) && plain_number(per->valuestring, &seconds))
		 /* a bare number counts seconds */ ;
	else if (cJSON_IsString(per) && parse_interval_text(per->valuestring, &iv))
		seconds = interval_seconds(&iv);
	else if (cJSON_IsString(per))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("config key \"rate_limit\": \"per\" is not a valid interval: \"%s\"", per->valuestring),
				 errhint("Use a number of seconds, or a string such as '10 seconds', '1 minute' or '1 hour'.")));
	else
		type_error("rate_limit.per", per, "a number of seconds or an interval string");
	if (!(seconds >= 0.001 && seconds <= 31.0 * SECS_PER_DAY))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("config key \"rate_limit\": \"per\" must be between 1 millisecond and 31 days, not %g seconds",
						seconds)));
	return (int64) rint(seconds * 1000.0);
}

/*
 * parse_rate_limit: `rate_limit`: {"requests": N, "per": <interval>}, both
 * required, nothing else.
 */
static void
parse_rate_limit(NangoConfig *cfg, const cJSON *item)
{
	const cJSON *req;
	const cJSON *per;
	const cJSON *sub;
	double		n;

	if (!cJSON_IsObject(item))
		type_error("rate_limit", item, "an object such as {\"requests\": 100, \"per\": \"10 seconds\"}");
	cJSON_ArrayForEach(sub, item)
		if (strcmp(sub->string, "requests") != 0 && strcmp(sub->string, "per") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("config key \"rate_limit\" has an unknown key \"%s\"", sub->string),
					 errhint("rate_limit takes \"requests\" and \"per\", e.g. {\"requests\": 100, \"per\": \"10 seconds\"}.")));
	req = cJSON_GetObjectItemCaseSensitive(item, "requests");
	per = cJSON_GetObjectItemCaseSensitive(item, "per");
	if (req == NULL || per == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("config key \"rate_limit\" needs \"%s\"", req == NULL ? "requests" : "per"),
				 errhint("Write it as {\"requests\": 100, \"per\": \"10 seconds\"}.")));
	if (!cJSON_IsNumber(req))
		type_error("rate_limit.requests", req, "a number");
	n = req->valuedouble;
	if (n != floor(n) || !(n >= 1 && n <= 1000000))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("config key \"rate_limit\": \"requests\" must be a whole number between 1 and 1000000, not %g", n)));
	cfg->rate_limit_requests = (int) n;
	cfg->rate_limit_per_ms = rate_limit_per(per);
}

/*
 * parse_key: checks one present key and stores it in the typed config.
 */
static void
parse_key(ConfigParse *p, ConfigKey k, const cJSON *item)
{
	NangoConfig *cfg = p->cfg;

	switch (k)
	{
		case K_METHOD: cfg->method = parse_method(item); break;
		case K_HEADERS: parse_headers(cfg, item); break;
		case K_BODY: cfg->body = source_json_text(p->source, "body", NULL, -1); break;
		case K_QUERY_PARAMS: parse_query_params(p, item); break;
		case K_TIMEOUT: cfg->timeout_ms = parse_timeout(item); break;
		case K_RETRIES: cfg->retries = (int) get_int(k, item, 0, 100, "between 0 and 100"); break;
		case K_RESPONSE_PATH: cfg->response_path = get_path(p, k, item, &cfg->response_steps, false); break;
		case K_UNIQUE_KEY: cfg->unique_key = get_path(p, k, item, &cfg->unique_key_steps, false); break;
		case K_MAX_TOTAL: cfg->max_total = get_int(k, item, 1, MAX_EXACT_INT, "a positive whole number"); break;
		case K_PAGING_CURSOR_REQUEST_PATH: cfg->paging_cursor_request_path = get_path(p, k, item, &cfg->paging_cursor_request_steps, true); break;
		case K_PAGING_CURSOR_METADATA_RESPONSE_PATH:
		case K_PAGING_CURSOR_OBJECT_RESPONSE_PATH:
		case K_PAGING_URL_PATH: cfg->paging_response_path = get_path(p, k, item, &cfg->paging_response_steps, false); break;
		case K_PAGING_HEADER_LINK_REL: cfg->paging_response_path = get_nonempty(k, item); break;
		case K_PAGING_OFFSET_REQUEST_PATH: cfg->paging_offset_request_path = get_path(p, k, item, &cfg->paging_offset_request_steps, true); break;
		case K_PAGING_LIMIT_REQUEST_PATH: cfg->paging_limit_request_path = get_path(p, k, item, &cfg->paging_limit_request_steps, true); break;
		case K_PAGING_LIMIT: cfg->paging_limit = get_int(k, item, 1, MAX_EXACT_INT, "a positive whole number"); break;
		case K_PAGING_NUMBER_REQUEST_PATH: cfg->paging_number_request_path = get_path(p, k, item, &cfg->paging_number_request_steps, true); break;
		case K_PAGING_NUMBER_START: cfg->paging_number_start = get_int(k, item, 0, MAX_EXACT_INT, "zero or a positive whole number"); break;
		case K_AUTO_MAPPING:
			if (!cJSON_IsBool(item))
				type_error(KEY(k), item, "a boolean (true or false)");
			cfg->auto_mapping = cJSON_IsTrue(item);
			break;
		case K_CHECKPOINT:
			if (!cJSON_IsBool(item))
				type_error(KEY(k), item, "a boolean (true or false)");
			cfg->checkpoint = cJSON_IsTrue(item);
			break;
		case K_MAPPED_TABLE: parse_mapped_table(cfg, item); break;
		case K_METADATA: cfg->metadata = parse_metadata(p, item); break;
		case K_DELETE_MODE: cfg->delete_mode = parse_delete_mode(item); break;
		case K_FREQUENCY: cfg->frequency = parse_frequency(item, (p->keep & NANGO_PARSE_KEEP_FREQUENCY) != 0); break;
		case K_CRON: cfg->cron = parse_cron(item); break;
		case K_PIZZLY_CONNECTION_ID:
		case K_NANGO_CONNECTION_ID: cfg->pizzly_connection_id = get_nonempty(k, item); break;
		case K_PIZZLY_PROVIDER_CONFIG_KEY:
		case K_NANGO_PROVIDER_CONFIG_KEY: cfg->pizzly_provider_config_key = get_nonempty(k, item); break;
		case K_INCREMENTAL_CURSOR_PATH: cfg->incremental_cursor_path = get_path(p, k, item, &cfg->incremental_cursor_steps, false); break;
		case K_INCREMENTAL_REQUEST_PATH: cfg->incremental_request_path = get_path(p, k, item, &cfg->incremental_request_steps, true); break;
		case K_INCREMENTAL_INITIAL_VALUE: cfg->incremental_initial_value = parse_incremental_initial_value(p, item); break;
		case K_FRIENDLY_NAME: cfg->friendly_name = get_string(k, item); break;
		case K_CREDENTIAL_HOSTS: parse_credential_hosts(cfg, item); break;
		case K_FIELDS: parse_fields(p, item, &cfg->map_options); break;
		case K_ARRAYS: cfg->map_options.arrays_jsonb = parse_arrays(item); break;
		case K_PARENT: parse_parent(cfg, item); break;
		case K_CONCURRENCY: cfg->concurrency = (int) get_int(k, item, 1, 16, "between 1 and 16"); break;
		case K_RATE_LIMIT: parse_rate_limit(cfg, item); break;
		case NUM_CONFIG_KEYS: break;
	}
}

/*
 * walk_config: checks every key of the cJSON object root (a JSON null
 * counts as absent).
 */
static void
walk_config(ConfigParse *p, const cJSON *root)
{
	const cJSON *item;

	cJSON_ArrayForEach(item, root)
	{
		int			k;

		if (cJSON_IsNull(item))
			continue;
		for (k = 0; k < NUM_CONFIG_KEYS; k++)
			if (strcmp(item->string, config_key_names[k]) == 0)
				break;
		if (k == NUM_CONFIG_KEYS)
			unknown_key(item->string);
		p->present[k] = true;
		parse_key(p, (ConfigKey) k, item);
	}
}

/*
 * refuse_combination: reports two keys (or a key and a missing one) that
 * cannot go together.
 */
static void
pg_attribute_noreturn()
refuse_combination(const char *message, const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s", message),
			 hint ? errhint("%s", hint) : 0));
}

/*
 * check_aliases: pizzly_* and their nango_* aliases; both or neither of
 * the connection id and provider config key.
 */
static void
check_aliases(ConfigParse *p)
{
	bool	   *has = p->present;

	if (has[K_PIZZLY_CONNECTION_ID] && has[K_NANGO_CONNECTION_ID])
		refuse_combination("config keys \"pizzly_connection_id\" and \"nango_connection_id\" are the same key and cannot both be given",
						   "Keep one of them.");
	if (has[K_PIZZLY_PROVIDER_CONFIG_KEY] && has[K_NANGO_PROVIDER_CONFIG_KEY])
		refuse_combination("config keys \"pizzly_provider_config_key\" and \"nango_provider_config_key\" are the same key and cannot both be given",
						   "Keep one of them.");
	if ((p->cfg->pizzly_connection_id == NULL) != (p->cfg->pizzly_provider_config_key == NULL))
	{
		bool		has_id = p->cfg->pizzly_connection_id != NULL;

		refuse_combination(psprintf("config key \"%s\" needs \"%s\" too",
									has_id ? (has[K_NANGO_CONNECTION_ID] ? "nango_connection_id" : "pizzly_connection_id")
									: (has[K_NANGO_PROVIDER_CONFIG_KEY] ? "nango_provider_config_key" : "pizzly_provider_config_key"),
									has_id ? "pizzly_provider_config_key" : "pizzly_connection_id"),
						   "Pizzly authentication needs both the connection id and the provider config key.");
	}
}

/*
 * check_paging: at most one paging style; each style's keys complete.
 * Sets cfg->paging.
 */
static void
check_paging(ConfigParse *p)
{
	static const ConfigKey response_keys[] = {
		K_PAGING_CURSOR_METADATA_RESPONSE_PATH, K_PAGING_CURSOR_OBJECT_RESPONSE_PATH,
		K_PAGING_URL_PATH, K_PAGING_HEADER_LINK_REL
	};
	static const NangoPagingStyle response_styles[] = {
		NANGO_PAGING_CURSOR_METADATA, NANGO_PAGING_CURSOR_OBJECT, NANGO_PAGING_URL, NANGO_PAGING_LINK
	};
	bool	   *has = p->present;
	NangoConfig *cfg = p->cfg;
	const char *style_key = NULL;
	bool		cursor_style;

	for (int i = 0; i < lengthof(response_keys); i++)
	{
		if (!has[response_keys[i]])
			continue;
		if (style_key)
			refuse_combination(psprintf("config keys \"%s\" and \"%s\" cannot be used together",
										style_key, KEY(response_keys[i])),
							   "Give at most one of paging_cursor_metadata_response_path, paging_cursor_object_response_path, paging_url_path and paging_header_link_rel.");
		style_key = KEY(response_keys[i]);
		cfg->paging = response_styles[i];
	}
	if (has[K_PAGING_OFFSET_REQUEST_PATH] && has[K_PAGING_NUMBER_REQUEST_PATH])
		refuse_combination("config keys \"paging_offset_request_path\" and \"paging_number_request_path\" cannot be used together",
						   "Offset paging and page-number paging are two different styles; keep one.");
	if (style_key && (has[K_PAGING_OFFSET_REQUEST_PATH] || has[K_PAGING_NUMBER_REQUEST_PATH]))
		refuse_combination(psprintf("config keys \"%s\" and \"%s\" cannot be used together", style_key,
									has[K_PAGING_OFFSET_REQUEST_PATH] ? "paging_offset_request_path" : "paging_number_request_path"),
						   "Use one paging style only.");

	cursor_style = (cfg->paging == NANGO_PAGING_CURSOR_METADATA || cfg->paging == NANGO_PAGING_CURSOR_OBJECT);
	if (cursor_style && !has[K_PAGING_CURSOR_REQUEST_PATH])
		refuse_combination(psprintf("config key \"%s\" needs \"paging_cursor_request_path\"", style_key),
						   "Set paging_cursor_request_path to the query parameter (or body key) that carries the cursor, e.g. \"after\".");
	if (!cursor_style && has[K_PAGING_CURSOR_REQUEST_PATH])
		refuse_combination("config key \"paging_cursor_request_path\" needs \"paging_cursor_metadata_response_path\" or \"paging_cursor_object_response_path\"",
						   "Say where the next cursor is found in the response.");

	if (has[K_PAGING_OFFSET_REQUEST_PATH])
	{
		if (!has[K_PAGING_LIMIT_REQUEST_PATH] || !has[K_PAGING_LIMIT])
			refuse_combination(psprintf("config key \"paging_offset_request_path\" needs \"%s\"",
										!has[K_PAGING_LIMIT_REQUEST_PATH] ? "paging_limit_request_path" : "paging_limit"),
							   "Offset paging needs paging_offset_request_path, paging_limit_request_path and paging_limit.");
		cfg->paging = NANGO_PAGING_OFFSET;
	}
	else if (has[K_PAGING_NUMBER_REQUEST_PATH])
	{
		if (has[K_PAGING_LIMIT_REQUEST_PATH] != has[K_PAGING_LIMIT])
			refuse_combination(psprintf("config key \"%s\" needs \"%s\"",
										has[K_PAGING_LIMIT] ? "paging_limit" : "paging_limit_request_path",
										has[K_PAGING_LIMIT] ? "paging_limit_request_path" : "paging_limit"),
							   "With page numbers, paging_limit_request_path and paging_limit together send a page size.");
		cfg->paging = NANGO_PAGING_NUMBER;
	}
	else if (has[K_PAGING_LIMIT_REQUEST_PATH] || has[K_PAGING_LIMIT])
		refuse_combination(psprintf("config key \"%s\" needs \"paging_offset_request_path\" or \"paging_number_request_path\"",
									has[K_PAGING_LIMIT_REQUEST_PATH] ? "paging_limit_request_path" : "paging_limit"),
						   "For a fixed page size with another paging style, put it in query_params.");
	if (has[K_PAGING_NUMBER_START] && !has[K_PAGING_NUMBER_REQUEST_PATH])
		refuse_combination("config key \"paging_number_start\" needs \"paging_number_request_path\"", NULL);
}

/*
 * check_combinations: the refused combinations of README.md, docs/config.md
 * other than paging.
 */
static void
check_combinations(ConfigParse *p)
{
	bool	   *has = p->present;
	NangoConfig *cfg = p->cfg;

	if (has[K_BODY] && !(p->keep & NANGO_PARSE_KEEP_BODY) &&
		(strcmp(cfg->method, "GET") == 0 || strcmp(cfg->method, "DELETE") == 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("config key \"body\" cannot be used with method %s", cfg->method),
				 errdetail("A body is sent with POST, PUT and PATCH only."),
				 errhint("Put the values in \"query_params\", or use another method.")));
	if (has[K_FREQUENCY] && has[K_CRON])
		refuse_combination("config keys \"frequency\" and \"cron\" cannot be used together",
						   "Keep frequency for a fixed interval, or cron for a schedule in UTC.");
	check_parent_refs(p);
	/* a child without a schedule runs after each successful job of its parent */
	if (!has[K_FREQUENCY] && !has[K_CRON] && !cfg->has_parent)
	{
		cfg->frequency = palloc0(sizeof(Interval));
		cfg->frequency->time = USECS_PER_HOUR;
	}
	check_aliases(p);
	check_paging(p);

	if (has[K_INCREMENTAL_CURSOR_PATH] != has[K_INCREMENTAL_REQUEST_PATH])
		refuse_combination(psprintf("config key \"%s\" needs \"%s\"",
									has[K_INCREMENTAL_CURSOR_PATH] ? "incremental_cursor_path" : "incremental_request_path",
									has[K_INCREMENTAL_CURSOR_PATH] ? "incremental_request_path" : "incremental_cursor_path"),
						   "Incremental syncing needs incremental_cursor_path (the record field that grows) and incremental_request_path (the parameter that carries its last value).");
	if (has[K_INCREMENTAL_INITIAL_VALUE] && !has[K_INCREMENTAL_CURSOR_PATH])
		refuse_combination("config key \"incremental_initial_value\" needs \"incremental_cursor_path\" and \"incremental_request_path\"", NULL);
	if (has[K_INCREMENTAL_CURSOR_PATH] && !has[K_UNIQUE_KEY])
		refuse_combination("config key \"incremental_cursor_path\" needs \"unique_key\"",
						   "Incremental syncing upserts records by their unique key.");
	if (cfg->delete_mode != NANGO_DELETE_NONE && !has[K_UNIQUE_KEY])
		refuse_combination(psprintf("config key \"delete_mode\" \"%s\" needs \"unique_key\"",
									cfg->delete_mode == NANGO_DELETE_SOFT ? "soft" : "hard"),
						   "Deletes are detected by the unique keys not seen in a complete run.");
	/* a checkpoint keeps what a job stored; overwrite replaces it all at the end */
	if (cfg->checkpoint && !has[K_UNIQUE_KEY])
		refuse_combination("config key \"checkpoint\" needs \"unique_key\" (upsert mode)",
						   "Without unique_key a job replaces all of the sync's rows when it succeeds, so there is nothing to keep from a job that stopped half way; add unique_key or remove checkpoint.");
	if (cfg->checkpoint && cfg->has_parent)
		refuse_combination("config key \"checkpoint\" cannot be used in a child sync (one with \"parent\")",
						   "Remove checkpoint from the child sync; its parent may use it.");
}

/*
 * normalize: the config as stored: the user's keys in jsonb order, JSON
 * nulls dropped, method upper-cased and delete_mode lower-cased, every
 * other value as written.
 */
static Jsonb *
normalize(ConfigParse *p)
{
	JsonbParseState *state = NULL;
	JsonbIterator *it = JsonbIteratorInit(&p->source->root);
	JsonbValue	v;
	JsonbValue	key;
	JsonbValue *res = NULL;
	JsonbIteratorToken tok;

	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
		{
			key = v;
			continue;
		}
		if (tok == WJB_VALUE)
		{
			if (v.type == jbvNull)
				continue;
			if (key.val.string.len == 6 && strncmp(key.val.string.val, "method", 6) == 0)
			{
				v.val.string.val = p->cfg->method;
				v.val.string.len = strlen(p->cfg->method);
			}
			else if (key.val.string.len == 11 && strncmp(key.val.string.val, "delete_mode", 11) == 0)
			{
				v.val.string.val = pstrdup(p->cfg->delete_mode == NANGO_DELETE_SOFT ? "soft" :
										   p->cfg->delete_mode == NANGO_DELETE_HARD ? "hard" : "none");
				v.val.string.len = strlen(v.val.string.val);
			}
			pushJsonbValue(&state, WJB_KEY, &key);
			pushJsonbValue(&state, WJB_VALUE, &v);
			continue;
		}
		res = pushJsonbValue(&state, tok, NULL);
	}
	return JsonbValueToJsonb(res);
}

/*
 * nango_config_parse: see config.h.
 */
NangoConfig *
nango_config_parse(const char *url, Jsonb *config)
{
	return nango_config_parse_keep(url, config, 0);
}

/*
 * nango_config_parse_keep: see config.h.
 */
NangoConfig *
nango_config_parse_keep(const char *url, Jsonb *config, int keep)
{
	ConfigParse p;
	NangoConfig *cfg = palloc0(sizeof(NangoConfig));
	char	   *text;
	cJSON	   *volatile root;

	if (url == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("url must not be null")));
	check_url(url);
	if (config == NULL)
		config = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{}")));
	if (!JB_ROOT_IS_OBJECT(config))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("config must be a JSON object"),
				 errhint("Write it as '{\"frequency\": \"15 minutes\"}'::jsonb, or '{}' for the defaults.")));

	cfg->url = pstrdup(url);
	cfg->method = pstrdup("GET");
	cfg->timeout_ms = -1;
	cfg->retries = 5;
	cfg->paging = NANGO_PAGING_NONE;
	cfg->paging_number_start = 1;
	cfg->auto_mapping = true;
	cfg->delete_mode = NANGO_DELETE_NONE;
	cfg->concurrency = 4;

	memset(&p, 0, sizeof(p));
	p.cfg = cfg;
	p.source = config;
	p.keep = keep;

	text = JsonbToCString(NULL, &config->root, VARSIZE(config));
	root = cJSON_Parse(text);
	if (root == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("config could not be read"),
				 errdetail("It may be nested too deeply.")));
	PG_TRY();
	{
		walk_config(&p, root);
	}
	PG_FINALLY();
	{
		cJSON_Delete(root);
	}
	PG_END_TRY();
	pfree(text);

	check_combinations(&p);
	cfg->normalized = normalize(&p);
	return cfg;
}

/*
 * nango_config_mapped_table: the qualified, quoted name of the sync's mapped
 * table, or NULL when auto_mapping is off.
 */
char *
nango_config_mapped_table(const NangoConfig *cfg, int64 sync_id)
{
	if (!cfg->auto_mapping)
		return NULL;
	if (cfg->mapped_name == NULL)
		return psprintf("nango.%s", quote_identifier(psprintf("_nango_sync_" INT64_FORMAT, sync_id)));
	return psprintf("%s.%s", quote_identifier(cfg->mapped_schema), quote_identifier(cfg->mapped_name));
}

/*
 * nango_config_map_options: the options of nango.flatten: only "fields"
 * and "arrays", checked as in a sync's config.  The cJSON tree is freed on
 * every path.
 */
void
nango_config_map_options(Jsonb *options, NangoMapOptions *out)
{
	ConfigParse p;
	char	   *text;
	cJSON	   *volatile root;

	memset(out, 0, sizeof(NangoMapOptions));
	if (options == NULL)
		return;
	if (!JB_ROOT_IS_OBJECT(options))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the options of nango.flatten must be a JSON object"),
				 errhint("Write them as '{\"fields\": [\"id\"], \"arrays\": \"jsonb\"}'.")));
	memset(&p, 0, sizeof(p));
	p.source = options;
	text = JsonbToCString(NULL, &options->root, VARSIZE(options));
	root = cJSON_Parse(text);
	if (root == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the options of nango.flatten could not be read"),
				 errdetail("They may be nested too deeply.")));
	PG_TRY();
	{
		const cJSON *item;

		cJSON_ArrayForEach(item, root)
		{
			if (cJSON_IsNull(item))
				continue;
			if (strcmp(item->string, "fields") == 0)
				parse_fields(&p, item, out);
			else if (strcmp(item->string, "arrays") == 0)
				out->arrays_jsonb = parse_arrays(item);
			else
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("unknown option \"%s\" of nango.flatten", item->string),
						 errhint("The options are \"fields\" and \"arrays\", as in a sync's config.")));
		}
	}
	PG_FINALLY();
	{
		cJSON_Delete(root);
	}
	PG_END_TRY();
	pfree(text);
}

PG_FUNCTION_INFO_V1(nango_flatten_options);

/*
 * nango_flatten_options: SQL function nango.flatten(record jsonb, options
 * jsonb): nango.flatten under the mapping options, checked here as in a
 * sync's config (NULL options: the defaults).
 */
Datum
nango_flatten_options(PG_FUNCTION_ARGS)
{
	NangoMapOptions opts;

	nango_config_map_options(PG_ARGISNULL(1) ? NULL : PG_GETARG_JSONB_P(1), &opts);
	return nango_flatten_srf(fcinfo, &opts);
}
