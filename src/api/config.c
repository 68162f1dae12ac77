/*-------------------------------------------------------------------------
 *
 * config.c
 *	  A sync's configuration (docs/config.md): every key is checked for its
 *	  JSON type and allowed values (configread.c, configtime.c,
 *	  configtable.c), refused combinations are reported (configcheck.c), and
 *	  the typed NangoConfig every other module reads is built, together with
 *	  the normalized JSON stored in nango.syncs.config.  This file holds the
 *	  key table, the pass over the keys and the entry points.
 *
 *	  Every key is described once, in config_keys: its name, the JSON
 *	  types it accepts and the function that reads it.  The config is read
 *	  in one pass over the jsonb, with a cJSON tree printed from it whose
 *	  members come in the same order: each key's cJSON node is checked and
 *	  its jsonb value gives the texts that must stay exactly as written
 *	  (numbers, nested JSON) and the normalized copy.  cJSON allocates in
 *	  the current memory context (see nango.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <curl/curl.h>

#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/varlena.h"

#include "config_int.h"
#include "flatten.h"

/*
 * closest_key: the valid key nearest to key (Levenshtein distance, ignoring
 * case), and that distance.
 */
static const char *
closest_key(const char *key, int *distance)
{
	char	   *lower = pstrdup(key);
	const char *best = KEY(0);
	int			best_d = INT_MAX;

	for (char *c = lower; *c; c++)
		*c = pg_tolower((unsigned char) *c);
	for (int i = 0; i < NUM_CONFIG_KEYS; i++)
	{
		int			d = varstr_levenshtein(lower, pg_mbcliplen(lower, strlen(lower), 200),
										   KEY(i), strlen(KEY(i)),
										   1, 1, 1, false);

		if (d < best_d)
		{
			best_d = d;
			best = KEY(i);
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

/* The member of p->cfg at def->field, as a type. */
#define CFG_FIELD(p, def, type) (*(type *) ((char *) (p)->cfg + (def)->field))

/* read_string: a string key into the char * at def->field. */
static void
read_string(ConfigParse *p, const ConfigKeyDef *def, const cJSON *item)
{
	CFG_FIELD(p, def, char *) = config_get_string(def->name, item);
}

/* read_nonempty: a string key that must not be empty, at def->field. */
static void
read_nonempty(ConfigParse *p, const ConfigKeyDef *def, const cJSON *item)
{
	CFG_FIELD(p, def, char *) = config_get_nonempty(def->name, item);
}

/* read_json_text: any value kept as its JSON text, at def->field. */
static void
read_json_text(ConfigParse *p, const ConfigKeyDef *def, const cJSON *item)
{
	CFG_FIELD(p, def, char *) = config_value_json_text(p, NULL, -1);
}

/* read_int, read_int64: a whole number between def->min and def->max. */
static void
read_int(ConfigParse *p, const ConfigKeyDef *def, const cJSON *item)
{
	CFG_FIELD(p, def, int) = (int) config_get_int(def->name, item, def->min, def->max, def->range);
}

static void
read_int64(ConfigParse *p, const ConfigKeyDef *def, const cJSON *item)
{
	CFG_FIELD(p, def, int64) = config_get_int(def->name, item, def->min, def->max, def->range);
}

/* read_bool: true or false, at def->field. */
static void
read_bool(ConfigParse *p, const ConfigKeyDef *def, const cJSON *item)
{
	CFG_FIELD(p, def, bool) = cJSON_IsTrue(item);
}

/*
 * read_path, read_request_path: a response-side or request-side path (see
 * get_path): its text at def->field, its steps at def->steps.
 */
static void
read_path(ConfigParse *p, const ConfigKeyDef *def, const cJSON *item)
{
	CFG_FIELD(p, def, char *) = config_get_path(p, def->name, item,
										 (NangoPath **) ((char *) p->cfg + def->steps), false);
}

static void
read_request_path(ConfigParse *p, const ConfigKeyDef *def, const cJSON *item)
{
	CFG_FIELD(p, def, char *) = config_get_path(p, def->name, item,
										 (NangoPath **) ((char *) p->cfg + def->steps), true);
}

#define F(member) offsetof(NangoConfig, member)
#define STR cJSON_String
#define NUM cJSON_Number
#define PATH (cJSON_String | cJSON_Array), "a dot path string or an array of path steps"
#define WHOLE(member, lo, hi, text) NUM, "a number", read_int64, F(member), 0, lo, hi, text

/*
 * config_keys: every config key (docs/config.md), read by walk_keys.  The
 * names are those test/check_docs.py finds documented.
 */
const ConfigKeyDef config_keys[NUM_CONFIG_KEYS] = {
	[K_METHOD] = {"method", STR, "a string", config_read_method},
	[K_HEADERS] = {"headers", cJSON_Object, "an object", config_read_headers},
	[K_BODY] = {"body", 0, NULL, read_json_text, F(body)},
	[K_QUERY_PARAMS] = {"query_params", cJSON_Object, "an object", config_read_query_params},
	[K_TIMEOUT] = {"timeout", NUM | STR, "a number of seconds or an interval string", config_read_timeout},
	[K_RETRIES] = {"retries", NUM, "a number", read_int, F(retries), 0, 0, 100, "between 0 and 100"},
	[K_RESPONSE_PATH] = {"response_path", PATH, read_path, F(response_path), F(response_steps)},
	[K_UNIQUE_KEY] = {"unique_key", PATH, read_path, F(unique_key), F(unique_key_steps)},
	[K_MAX_TOTAL] = {"max_total", WHOLE(max_total, 1, MAX_EXACT_INT, "a positive whole number")},
	[K_PAGING_CURSOR_REQUEST_PATH] = {"paging_cursor_request_path", PATH, read_request_path,
	F(paging_cursor_request_path), F(paging_cursor_request_steps)},
	[K_PAGING_CURSOR_METADATA_RESPONSE_PATH] = {"paging_cursor_metadata_response_path", PATH, read_path,
	F(paging_response_path), F(paging_response_steps)},
	[K_PAGING_CURSOR_OBJECT_RESPONSE_PATH] = {"paging_cursor_object_response_path", PATH, read_path,
	F(paging_response_path), F(paging_response_steps)},
	[K_PAGING_URL_PATH] = {"paging_url_path", PATH, read_path, F(paging_response_path), F(paging_response_steps)},
	[K_PAGING_HEADER_LINK_REL] = {"paging_header_link_rel", STR, "a string", read_nonempty, F(paging_response_path)},
	[K_PAGING_OFFSET_REQUEST_PATH] = {"paging_offset_request_path", PATH, read_request_path,
	F(paging_offset_request_path), F(paging_offset_request_steps)},
	[K_PAGING_LIMIT_REQUEST_PATH] = {"paging_limit_request_path", PATH, read_request_path,
	F(paging_limit_request_path), F(paging_limit_request_steps)},
	[K_PAGING_LIMIT] = {"paging_limit", WHOLE(paging_limit, 1, MAX_EXACT_INT, "a positive whole number")},
	[K_PAGING_NUMBER_REQUEST_PATH] = {"paging_number_request_path", PATH, read_request_path,
	F(paging_number_request_path), F(paging_number_request_steps)},
	[K_PAGING_NUMBER_START] = {"paging_number_start", WHOLE(paging_number_start, 0, MAX_EXACT_INT, "zero or a positive whole number")},
	[K_AUTO_MAPPING] = {"auto_mapping", cJSON_True | cJSON_False, "a boolean (true or false)", read_bool, F(auto_mapping)},
	[K_MAPPED_TABLE] = {"mapped_table", STR, "a string", config_read_mapped_table},
	[K_METADATA] = {"metadata", cJSON_Object, "an object", config_read_metadata},
	[K_DELETE_MODE] = {"delete_mode", STR, "a string", config_read_delete_mode},
	[K_FREQUENCY] = {"frequency", NUM | STR, "a number of minutes or an interval string", config_read_frequency},
	[K_CRON] = {"cron", STR, "a string", config_read_cron},
	[K_PIZZLY_CONNECTION_ID] = {"pizzly_connection_id", STR, "a string", read_nonempty, F(pizzly_connection_id)},
	[K_PIZZLY_PROVIDER_CONFIG_KEY] = {"pizzly_provider_config_key", STR, "a string", read_nonempty,
	F(pizzly_provider_config_key)},
	[K_NANGO_CONNECTION_ID] = {"nango_connection_id", STR, "a string", read_nonempty, F(pizzly_connection_id)},
	[K_NANGO_PROVIDER_CONFIG_KEY] = {"nango_provider_config_key", STR, "a string", read_nonempty,
	F(pizzly_provider_config_key)},
	[K_INCREMENTAL_CURSOR_PATH] = {"incremental_cursor_path", PATH, read_path,
	F(incremental_cursor_path), F(incremental_cursor_steps)},
	[K_INCREMENTAL_REQUEST_PATH] = {"incremental_request_path", PATH, read_request_path,
	F(incremental_request_path), F(incremental_request_steps)},
	[K_INCREMENTAL_INITIAL_VALUE] = {"incremental_initial_value", STR | NUM, "a string or a number", read_json_text,
	F(incremental_initial_value)},
	[K_FRIENDLY_NAME] = {"friendly_name", STR, "a string", read_string, F(friendly_name)},
	[K_CREDENTIAL_HOSTS] = {"credential_hosts", cJSON_Array, "an array of host names", config_read_credential_hosts},
	[K_FIELDS] = {"fields", cJSON_Array, "an array of dot paths", config_read_fields},
	[K_ARRAYS] = {"arrays", STR, "a string", config_read_arrays},
	[K_PARENT] = {"parent", 0, NULL, config_read_parent},
	[K_CONCURRENCY] = {"concurrency", NUM, "a number", read_int, F(concurrency), 0, 1, 16, "between 1 and 16"},
	[K_RATE_LIMIT] = {"rate_limit", cJSON_Object, "an object such as {\"requests\": 100, \"per\": \"10 seconds\"}",
	config_read_rate_limit},
	[K_CHECKPOINT] = {"checkpoint", cJSON_True | cJSON_False, "a boolean (true or false)", read_bool, F(checkpoint)},
	[K_SKIP_UNCHANGED_PAGES] = {"skip_unchanged_pages", cJSON_True | cJSON_False, "a boolean (true or false)", read_bool,
	F(skip_unchanged_pages)},
};

/*
 * find_key: the index in config_keys of the key named name, or -1.
 */
static int
find_key(const char *name)
{
	for (int k = 0; k < NUM_CONFIG_KEYS; k++)
		if (strcmp(name, config_keys[k].name) == 0)
			return k;
	return -1;
}

/*
 * unknown_option: reports a key of nango.flatten's options other than
 * "fields" and "arrays".
 */
static void
pg_attribute_noreturn()
unknown_option(const char *key)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown option \"%s\" of nango.flatten", key),
			 errhint("The options are \"fields\" and \"arrays\", as in a sync's config.")));
}

/*
 * walk_keys: reads every key of p->source (a JSON null counts as absent),
 * whose cJSON tree is root, in one pass, and returns the config as stored:
 * the user's keys in jsonb order, JSON nulls dropped, method upper-cased
 * and delete_mode lower-cased, every other value as written.  The cJSON
 * tree was printed from the jsonb, so its members come in the jsonb's
 * order.  With options_only, only "fields" and "arrays" are keys (the
 * options of nango.flatten).
 */
static Jsonb *
walk_keys(ConfigParse *p, const cJSON *root, bool options_only)
{
	JsonbParseState *state = NULL;
	JsonbIterator *it = JsonbIteratorInit(&p->source->root);
	const cJSON *item = root->child;
	JsonbValue	v;
	JsonbValue	key;
	JsonbValue *res = NULL;
	JsonbIteratorToken tok;

	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		const cJSON *node = item;
		const ConfigKeyDef *def;
		int			k;

		if (tok == WJB_KEY)
		{
			key = v;
			continue;
		}
		if (tok != WJB_VALUE)
		{
			res = pushJsonbValue(&state, tok, NULL);
			continue;
		}
		if (node == NULL || strlen(node->string) != key.val.string.len ||
			memcmp(node->string, key.val.string.val, key.val.string.len) != 0)
			elog(ERROR, "the config's keys are not in the order of its text");
		item = item->next;
		if (v.type == jbvNull)
			continue;
		k = find_key(node->string);
		if (options_only && k != K_FIELDS && k != K_ARRAYS)
			unknown_option(node->string);
		if (k < 0)
			unknown_key(node->string);
		def = &config_keys[k];
		if (def->types != 0 && (node->type & 0xFF & def->types) == 0)
			config_type_error(def->name, node, def->expected);
		p->present[k] = true;
		p->value = &v;
		def->read(p, def, node);
		p->value = NULL;

		if (k == K_METHOD)
		{
			v.val.string.val = p->cfg->method;
			v.val.string.len = strlen(p->cfg->method);
		}
		else if (k == K_DELETE_MODE)
		{
			v.val.string.val = pstrdup(p->cfg->delete_mode == NANGO_DELETE_SOFT ? "soft" :
									   p->cfg->delete_mode == NANGO_DELETE_HARD ? "hard" : "none");
			v.val.string.len = strlen(v.val.string.val);
		}
		pushJsonbValue(&state, WJB_KEY, &key);
		pushJsonbValue(&state, WJB_VALUE, &v);
	}
	return JsonbValueToJsonb(res);
}

/*
 * parse_json: p->source (a JSON object) as a cJSON tree, for walk_keys;
 * what names it in the message.
 */
static cJSON *
parse_json(ConfigParse *p, const char *what, const char *detail)
{
	char	   *text = JsonbToCString(NULL, &p->source->root, VARSIZE(p->source));
	cJSON	   *root = cJSON_Parse(text);

	if (root == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s could not be read", what),
				 errdetail("%s", detail)));
	pfree(text);
	return root;
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
	cJSON	   *root;
	Jsonb	   *normalized;

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
	cfg->skip_unchanged_pages = true;

	memset(&p, 0, sizeof(p));
	p.cfg = cfg;
	p.source = config;
	p.keep = keep;

	root = parse_json(&p, "config", "It may be nested too deeply.");
	normalized = walk_keys(&p, root, false);
	cJSON_Delete(root);

	config_check_combinations(&p);
	cfg->normalized = normalized;
	return cfg;
}

/*
 * nango_config_map_options: the options of nango.flatten: only "fields"
 * and "arrays", read as in a sync's config.
 */
void
nango_config_map_options(Jsonb *options, NangoMapOptions *out)
{
	ConfigParse p;
	cJSON	   *root;

	memset(out, 0, sizeof(NangoMapOptions));
	if (options == NULL)
		return;
	if (!JB_ROOT_IS_OBJECT(options))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the options of nango.flatten must be a JSON object"),
				 errhint("Write them as '{\"fields\": [\"id\"], \"arrays\": \"jsonb\"}'.")));
	memset(&p, 0, sizeof(p));
	p.cfg = palloc0(sizeof(NangoConfig));
	p.source = options;
	root = parse_json(&p, "the options of nango.flatten", "They may be nested too deeply.");
	(void) walk_keys(&p, root, true);
	cJSON_Delete(root);
	*out = p.cfg->map_options;
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
