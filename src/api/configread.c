/*-------------------------------------------------------------------------
 *
 * configread.c
 *	  Reading the values of config keys (docs/config.md): JSON types, strings,
 *	  whole numbers, paths in both forms, the mapping options, the request's
 *	  method, headers and query parameters, metadata, credential hosts, a
 *	  child sync's parent and the rate limit.  Each reader checks one value
 *	  and sets its part of the typed config; it runs no SQL (but the
 *	  mapped table's name, in configtable.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <math.h>

#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "config_int.h"
#include "credscope.h"

/*
 * config_json_type_name: the JSON type of item, for messages.
 */
const char *
config_json_type_name(const cJSON *item)
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
 * config_type_error: reports that key holds a value of the wrong JSON type.
 */
void
pg_attribute_noreturn()
config_type_error(const char *key, const cJSON *item, const char *expected)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("config key \"%s\" must be %s, not %s", key, expected, config_json_type_name(item))));
}

/*
 * config_get_string: the string value of key name.
 */
char *
config_get_string(const char *name, const cJSON *item)
{
	if (!cJSON_IsString(item))
		config_type_error(name, item, "a string");
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
							config_json_type_name(e), keys_only ? "a string" : "a string or an array index"),
					 errdetail(keys_only ? "A request path names the keys a value is sent under."
							   : "In the array form of a path, strings are keys and non-negative integers are array indexes."),
					 errhint(keys_only ? "Write it as [\"page\", \"cursor\"]." : "Write it as [\"value\", 0, \"id\"].")));
		st->index = (int) e->valuedouble;
	}
	return path;
}

/*
 * config_get_path: a path key in either form (docs/config.md): a dot path, or a
 * JSON array of steps.  Returns the compiled path in *steps and the text
 * the config's string field keeps (see config.h).
 */
char *
config_get_path(ConfigParse *p, const char *name, const cJSON *item, NangoPath **steps, bool request_side)
{
	char	   *what = psprintf("config key \"%s\"", name);

	if (cJSON_IsArray(item))
	{
		*steps = steps_from_array(what, item, request_side, config_value_json_text(p, NULL, -1));
		return request_side ? nango_path_dotted(*steps) : (*steps)->text;
	}
	if (!cJSON_IsString(item))
		config_type_error(name, item, "a dot path string or an array of path steps");
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
		config_type_error("fields", item, "an array of dot paths");
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
			opts->fields[i] = steps_from_array(what, e, false, config_value_json_text(p, NULL, i));
		else if (cJSON_IsString(e))
		{
			check_dots(what, e->valuestring);
			opts->fields[i] = nango_path_from_dots(e->valuestring);
		}
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s must be a dot path string or an array of path steps, not %s",
							what, config_json_type_name(e)),
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
		config_type_error("arrays", item, "a string");
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
 * config_get_nonempty: a string that must not be empty.
 */
char *
config_get_nonempty(const char *name, const cJSON *item)
{
	char	   *s = config_get_string(name, item);

	if (s[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("config key \"%s\" must not be empty", name)));
	return s;
}

/*
 * config_get_int: an integral JSON number of key between min and max.
 */
int64
config_get_int(const char *name, const cJSON *item, double min, double max, const char *range_text)
{
	double		v;

	if (!cJSON_IsNumber(item))
		config_type_error(name, item, "a number");
	v = item->valuedouble;
	if (v != floor(v) || isnan(v))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("config key \"%s\" must be a whole number, not %g", name, v)));
	if (v < min || v > max)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("config key \"%s\" must be %s, not %.*g", name, range_text, fabs(v) < 1e15 ? 15 : 6, v)));
	return (int64) v;
}

/*
 * value_at: the jsonb value of the key being read (or of its member sub,
 * or of element idx inside that), or NULL.
 */
static JsonbValue *
value_at(ConfigParse *p, const char *sub, int idx)
{
	JsonbValue *v = p->value;

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
 * config_value_json_text: the JSON text of (a part of) the value of the key being
 * read, exactly as jsonb keeps it (numbers as written).
 */
char *
config_value_json_text(ConfigParse *p, const char *sub, int idx)
{
	JsonbValue *v = value_at(p, sub, idx);
	Jsonb	   *jb;

	if (v == NULL)
		elog(ERROR, "a part of config key \"%s\" vanished", sub ? sub : "?");
	jb = JsonbValueToJsonb(v);
	return JsonbToCString(NULL, &jb->root, VARSIZE(jb));
}

/*
 * scalar_text: a scalar as a query parameter value: a string as is, a
 * number as written, a boolean as true/false.
 */
static char *
scalar_text(ConfigParse *p, const cJSON *item, const char *sub, int idx)
{
	if (cJSON_IsString(item))
		return pstrdup(item->valuestring);
	if (cJSON_IsBool(item))
		return pstrdup(cJSON_IsTrue(item) ? "true" : "false");
	return config_value_json_text(p, sub, idx);
}

/*
 * parse_method: `method`, any case, stored upper-cased.
 */
static char *
parse_method(const cJSON *item)
{
	static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", NULL};
	char	   *m = config_get_string("method", item);

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
	char	   *m = config_get_string("delete_mode", item);

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
 * config_read_headers: `headers`: an object of string values, names that are
 * HTTP tokens, values without line breaks.
 */
void
config_read_headers(ConfigParse *p, const ConfigKeyDef *def, const cJSON *item)
{
	NangoConfig *cfg = p->cfg;
	const cJSON *h;
	int			n = 0;

	if (!cJSON_IsObject(item))
		config_type_error("headers", item, "an object");
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
							h->string, config_json_type_name(h)),
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
						name, config_json_type_name(v))));
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("config key \"query_params\": the value of \"%s\" must be a string, number, boolean or array of those, not %s",
					name, config_json_type_name(v)),
			 errhint("An array gives the parameter once per element, e.g. {\"id\": [1, 2]} sends id=1&id=2.")));
}

/*
 * config_read_query_params: `query_params`: an object of scalars; an array gives
 * one pair per element (repeated keys).
 */
void
config_read_query_params(ConfigParse *p, const ConfigKeyDef *def, const cJSON *item)
{
	NangoConfig *cfg = p->cfg;
	const cJSON *q;
	int			cap = 8;

	if (!cJSON_IsObject(item))
		config_type_error("query_params", item, "an object");
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
				scalar_text(p, v, q->string, cJSON_IsArray(q) ? i : -1);
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
		config_type_error("metadata", item, "an object");
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
							m->string, config_json_type_name(m)),
					 errhint("metadata is a flat object: each key becomes one column of every row.")));
	}
	return config_value_json_text(p, NULL, -1);
}

/*
 * config_read_credential_hosts: `credential_hosts`: an array of hosts (optionally
 * host:port) that may receive the sync's credentials besides the origin of
 * its URL.  Kept in lower case, as host names compare.
 */
void
config_read_credential_hosts(ConfigParse *p, const ConfigKeyDef *def, const cJSON *item)
{
	NangoConfig *cfg = p->cfg;
	const cJSON *h;
	int			i = 0;

	if (!cJSON_IsArray(item))
		config_type_error("credential_hosts", item, "an array of host names");
	cfg->credential_hosts = palloc0(sizeof(char *) * (cJSON_GetArraySize(item) + 1));
	cJSON_ArrayForEach(h, item)
	{
		const char *problem;

		i++;
		if (!cJSON_IsString(h))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("config key \"credential_hosts\": element %d must be a string, not %s",
							i, config_json_type_name(h)),
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
 * config_read_parent: `parent`: {"sync": <id or name>}, the sync whose records
 * a child sync's requests are made for (docs/config.md).  Whether that
 * sync exists and may be a parent is checked by api.c, which has the
 * owner.
 */
void
config_read_parent(ConfigParse *p, const ConfigKeyDef *def, const cJSON *item)
{
	NangoConfig *cfg = p->cfg;
	const cJSON *s = cJSON_IsObject(item) ? cJSON_GetObjectItemCaseSensitive(item, "sync") : NULL;

	if (!cJSON_IsObject(item) || cJSON_GetArraySize(item) != 1 || s == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("config key \"parent\" must be an object with the one key \"sync\""),
				 errhint("Write {\"parent\": {\"sync\": 12}} or {\"parent\": {\"sync\": \"repositories\"}}.")));
	cfg->has_parent = true;
	if (cJSON_IsNumber(s))
		cfg->parent_id = config_get_int("parent", s, 1, MAX_EXACT_INT, "a sync id (a positive whole number)");
	else if (cJSON_IsString(s) && s->valuestring[0] != '\0')
		cfg->parent_name = pstrdup(s->valuestring);
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("config key \"parent\": \"sync\" must be a sync id or a sync's name, not %s",
						config_json_type_name(s))));
}

/*
 * config_read_rate_limit: `rate_limit`: {"requests": N, "per": <interval>}, both
 * required, nothing else.
 */
void
config_read_rate_limit(ConfigParse *p, const ConfigKeyDef *def, const cJSON *item)
{
	NangoConfig *cfg = p->cfg;
	const cJSON *req;
	const cJSON *per;
	const cJSON *sub;
	double		n;

	if (!cJSON_IsObject(item))
		config_type_error("rate_limit", item, "an object such as {\"requests\": 100, \"per\": \"10 seconds\"}");
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
		config_type_error("rate_limit.requests", req, "a number");
	n = req->valuedouble;
	if (n != floor(n) || !(n >= 1 && n <= 1000000))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("config key \"rate_limit\": \"requests\" must be a whole number between 1 and 1000000, not %g", n)));
	cfg->rate_limit_requests = (int) n;
	cfg->rate_limit_per_ms = config_rate_limit_per(per);
}

/* config_read_method: `method`, any case, stored upper-cased. */
void
config_read_method(ConfigParse *p, const ConfigKeyDef *def, const cJSON *item)
{
	p->cfg->method = parse_method(item);
}

/* config_read_delete_mode: `delete_mode`: none, soft or hard. */
void
config_read_delete_mode(ConfigParse *p, const ConfigKeyDef *def, const cJSON *item)
{
	p->cfg->delete_mode = parse_delete_mode(item);
}

/* config_read_metadata: `metadata`, kept as its JSON text. */
void
config_read_metadata(ConfigParse *p, const ConfigKeyDef *def, const cJSON *item)
{
	p->cfg->metadata = parse_metadata(p, item);
}

/* config_read_fields: `fields`, into the mapping options. */
void
config_read_fields(ConfigParse *p, const ConfigKeyDef *def, const cJSON *item)
{
	parse_fields(p, item, &p->cfg->map_options);
}

/* config_read_arrays: `arrays`, into the mapping options. */
void
config_read_arrays(ConfigParse *p, const ConfigKeyDef *def, const cJSON *item)
{
	p->cfg->map_options.arrays_jsonb = parse_arrays(item);
}
