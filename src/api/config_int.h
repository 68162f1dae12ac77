/*-------------------------------------------------------------------------
 *
 * config_int.h
 *	  What the files of a config's parsing share (config.c, configread.c,
 *	  configtime.c, configtable.c, configcheck.c): the keys, the state of
 *	  one parse and the readers of the key table.  Not for other modules,
 *	  which read the typed NangoConfig of config.h.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NANGO_CONFIG_INT_H
#define NANGO_CONFIG_INT_H

#include "postgres.h"

#include <cjson/cJSON.h>

#include "utils/jsonb.h"

#include "config.h"

/* Every config key: an index into config_keys (below). */
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
	K_SKIP_UNCHANGED_PAGES,
	NUM_CONFIG_KEYS
} ConfigKey;

/* Largest integer a JSON number (a double in cJSON) carries exactly. */
#define MAX_EXACT_INT 9007199254740992.0

/* The state of one parse: the result, the source, the keys present. */
typedef struct ConfigParse
{
	NangoConfig *cfg;
	Jsonb	   *source;
	JsonbValue *value;			/* the jsonb value of the key being read */
	int			keep;			/* NANGO_PARSE_KEEP_* flags */
	bool		present[NUM_CONFIG_KEYS];
} ConfigParse;

typedef struct ConfigKeyDef ConfigKeyDef;

/* Reads one key's value (of an accepted type) into p->cfg. */
typedef void (*ConfigRead) (ConfigParse *p, const ConfigKeyDef *def, const cJSON *item);

/*
 * One config key: its name, the JSON types it accepts (cJSON type bits; 0:
 * its reader checks), what a value of another type is told it must be, and
 * its reader.  field and steps are offsets in NangoConfig of what the
 * shared readers set (a string, an integer, a path's text and steps); min,
 * max and range bound an integer.
 */
struct ConfigKeyDef
{
	const char *name;
	int			types;
	const char *expected;
	ConfigRead	read;
	size_t		field;
	size_t		steps;
	double		min;
	double		max;
	const char *range;
};

/* config_keys: every config key, indexed by ConfigKey (config.c). */
extern const ConfigKeyDef config_keys[NUM_CONFIG_KEYS];

#define KEY(k) config_keys[k].name

/* configread.c: the JSON type of a value for messages, and typed values. */
extern const char *config_json_type_name(const cJSON *item);
extern void config_type_error(const char *key, const cJSON *item, const char *expected) pg_attribute_noreturn();
extern char *config_get_string(const char *name, const cJSON *item);
extern char *config_get_nonempty(const char *name, const cJSON *item);
extern int64 config_get_int(const char *name, const cJSON *item, double min, double max, const char *range_text);
extern char *config_get_path(ConfigParse *p, const char *name, const cJSON *item, NangoPath **steps, bool request_side);
extern char *config_value_json_text(ConfigParse *p, const char *sub, int idx);

/* The readers of keys with a parser of their own (see config_keys). */
extern void config_read_method(ConfigParse *p, const ConfigKeyDef *def, const cJSON *item);
extern void config_read_delete_mode(ConfigParse *p, const ConfigKeyDef *def, const cJSON *item);
extern void config_read_headers(ConfigParse *p, const ConfigKeyDef *def, const cJSON *item);
extern void config_read_query_params(ConfigParse *p, const ConfigKeyDef *def, const cJSON *item);
extern void config_read_metadata(ConfigParse *p, const ConfigKeyDef *def, const cJSON *item);
extern void config_read_fields(ConfigParse *p, const ConfigKeyDef *def, const cJSON *item);
extern void config_read_arrays(ConfigParse *p, const ConfigKeyDef *def, const cJSON *item);
extern void config_read_credential_hosts(ConfigParse *p, const ConfigKeyDef *def, const cJSON *item);
extern void config_read_parent(ConfigParse *p, const ConfigKeyDef *def, const cJSON *item);
extern void config_read_rate_limit(ConfigParse *p, const ConfigKeyDef *def, const cJSON *item);

/* configtime.c: intervals, frequency, timeout, cron. */
extern void config_read_timeout(ConfigParse *p, const ConfigKeyDef *def, const cJSON *item);
extern void config_read_frequency(ConfigParse *p, const ConfigKeyDef *def, const cJSON *item);
extern void config_read_cron(ConfigParse *p, const ConfigKeyDef *def, const cJSON *item);
extern int64 config_rate_limit_per(const cJSON *per);

/* configtable.c: the mapped table's name. */
extern void config_read_mapped_table(ConfigParse *p, const ConfigKeyDef *def, const cJSON *item);

/* configcheck.c: the refused combinations; sets the paging style and default schedule. */
extern void config_check_combinations(ConfigParse *p);

#endif							/* NANGO_CONFIG_INT_H */
