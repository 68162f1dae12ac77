/*-------------------------------------------------------------------------
 *
 * configcheck.c
 *	  The combinations of config keys that are refused (docs/config.md):
 *	  paging styles and their keys, Pizzly aliases, incremental keys,
 *	  delete modes, child syncs' placeholders; sets the paging style and
 *	  the default schedule.  It reads the typed config and the keys
 *	  present, never the JSON.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "datatype/timestamp.h"

#include "config_int.h"

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
 * config_check_combinations: the refused combinations of README.md, docs/config.md
 * other than paging.
 */
void
config_check_combinations(ConfigParse *p)
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
}
