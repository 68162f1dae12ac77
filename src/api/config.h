/*-------------------------------------------------------------------------
 *
 * config.h
 *	  A sync's configuration (docs/config.md): validation, normalization and
 *	  the typed form every other module reads.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NANGO_CONFIG_H
#define NANGO_CONFIG_H

#include "postgres.h"
#include "datatype/timestamp.h"
#include "utils/jsonb.h"

#include "flatten.h"
#include "jsonpath.h"

/* A child sync's placeholder of a parent record's value: "${parent." path "}". */
#define NANGO_PARENT_PREFIX "${parent."

/* Response-side paging style (at most one), or the request-only styles. */
typedef enum NangoPagingStyle
{
	NANGO_PAGING_NONE,
	NANGO_PAGING_CURSOR_METADATA,	/* paging_cursor_metadata_response_path */
	NANGO_PAGING_CURSOR_OBJECT, /* paging_cursor_object_response_path */
	NANGO_PAGING_URL,			/* paging_url_path */
	NANGO_PAGING_LINK,			/* paging_header_link_rel */
	NANGO_PAGING_OFFSET,		/* paging_offset/limit_request_path + paging_limit */
	NANGO_PAGING_NUMBER			/* paging_number_request_path (+ start) */
} NangoPagingStyle;

typedef enum NangoDeleteMode
{
	NANGO_DELETE_NONE,
	NANGO_DELETE_SOFT,
	NANGO_DELETE_HARD
} NangoDeleteMode;

/* A name/value pair: a header, or one query parameter (arrays give several). */
typedef struct NangoPair
{
	char	   *name;
	char	   *value;
} NangoPair;

/* The typed, validated form of a sync's config.  Strings are palloc'd. */
typedef struct NangoConfig
{
	char	   *url;			/* as given to add_sync */

	/* request */
	char	   *method;			/* GET, POST, PUT, PATCH, DELETE */
	int			nheaders;
	NangoPair  *headers;
	char	   *body;			/* JSON text, or NULL */
	int			nparams;
	NangoPair  *params;			/* query_params, values as text */
	int			timeout_ms;		/* -1: use nango.http_timeout */
	int			retries;		/* retries after the first try [5] */

	/* records */
	char	   *response_path;	/* NULL: the whole body */
	char	   *unique_key;		/* NULL: overwrite mode */
	int64		max_total;		/* 0: no limit */

	/* paging */
	NangoPagingStyle paging;
	char	   *paging_cursor_request_path;
	char	   *paging_response_path;	/* the cursor path, URL path or Link rel of the style */
	char	   *paging_offset_request_path;
	char	   *paging_limit_request_path;
	int64		paging_limit;
	char	   *paging_number_request_path;
	int64		paging_number_start;	/* [1] */

	/* mapping and storage */
	bool		auto_mapping;	/* [true] */
	char	   *mapped_table;	/* as given (maybe schema-qualified), NULL: default */
	char	   *mapped_schema;	/* resolved schema (unquoted), NULL: default */
	char	   *mapped_name;	/* resolved table name (unquoted), NULL: default */
	char	   *metadata;		/* JSON text of a flat object of scalars, or NULL */
	NangoDeleteMode delete_mode;

	/* schedule: exactly one of the two is set */
	Interval   *frequency;		/* [1 hour] */
	char	   *cron;			/* five fields, UTC */

	/* auth (aliases nango_* are folded into these) */
	char	   *pizzly_connection_id;
	char	   *pizzly_provider_config_key;

	/* incremental */
	char	   *incremental_cursor_path;
	char	   *incremental_request_path;
	char	   *incremental_initial_value;	/* JSON text of the value, or NULL */

	char	   *friendly_name;

	/* hosts that may receive the credentials besides the URL's origin */
	int			ncredential_hosts;
	char	  **credential_hosts;	/* lower case, as "host" or "host:port" */
	/*
	 * The path keys above compiled to steps (jsonpath.h), from either form
	 * (dot path or JSON array of steps); NULL when the key is absent.  The
	 * strings above are what messages show: a response-side path as
	 * written (the array's JSON text for the array form), a request-side
	 * path as the query parameter name it gives (steps joined with '.').
	 */
	NangoPath  *response_steps;
	NangoPath  *unique_key_steps;
	NangoPath  *paging_cursor_request_steps;
	NangoPath  *paging_response_steps;	/* not for paging_header_link_rel */
	NangoPath  *paging_offset_request_steps;
	NangoPath  *paging_limit_request_steps;
	NangoPath  *paging_number_request_steps;
	NangoPath  *incremental_cursor_steps;
	NangoPath  *incremental_request_steps;

	/* rate_limit (docs/config.md): requests per per_ms; 0 requests: none */
	int			rate_limit_requests;
	int64		rate_limit_per_ms;

	/* checkpoint (docs/config.md): worker jobs commit as they go [false] */
	bool		checkpoint;

	/*
	 * skip_unchanged_pages (docs/config.md): an upsert sync's job skips the
	 * pages the API answers unchanged since the last pass [true]
	 */
	bool		skip_unchanged_pages;

	/* fields and arrays (docs/mapping.md) */
	NangoMapOptions map_options;

	/*
	 * child syncs (docs/config.md): the parent as given ({"sync": id} or
	 * {"sync": "name"}; api.c resolves a name and stores the id), and how
	 * many parents' request chains are in flight at once [4].
	 */
	bool		has_parent;
	int64		parent_id;		/* 0 when given by name */
	char	   *parent_name;	/* NULL when given by id */
	int			concurrency;

	Jsonb	   *normalized;		/* the config as stored in nango.syncs.config */
} NangoConfig;

/*
 * nango_config_parse: validates config (a JSON object) for url and returns
 * its typed form.  Every problem is an ERROR with a SQLSTATE, a message
 * naming the key, and a hint where one helps.
 */
extern NangoConfig *nango_config_parse(const char *url, Jsonb *config);

/*
 * nango_config_parse_keep: the same, except that what keep names is read
 * as nango 0.2 read it, so that a config stored then still parses: a job
 * reads its stored config with NANGO_PARSE_KEEP_ALL, and update_sync keeps
 * what the update does not change.
 *	- NANGO_PARSE_KEEP_FREQUENCY: a frequency string is read by PostgreSQL's
 *	  interval input (0.3 accepts only the forms of docs/config.md);
 *	- NANGO_PARSE_KEEP_BODY: a body with GET or DELETE is accepted.
 */
#define NANGO_PARSE_KEEP_FREQUENCY	0x01
#define NANGO_PARSE_KEEP_BODY		0x02
#define NANGO_PARSE_KEEP_ALL		(NANGO_PARSE_KEEP_FREQUENCY | NANGO_PARSE_KEEP_BODY)
extern NangoConfig *nango_config_parse_keep(const char *url, Jsonb *config, int keep);

/*
 * nango_config_mapped_table: the schema-qualified, quoted name of the sync's
 * mapped table (default nango._nango_sync_<id>; an unqualified mapped_table
 * is in schema nango), or NULL when auto_mapping is false.  This is the text
 * stored in nango.syncs.mapped_table.
 */
extern char *nango_config_mapped_table(const NangoConfig *cfg, int64 sync_id);

/*
 * nango_config_map_options: validates the options of nango.flatten (a JSON
 * object with only "fields" and "arrays", as in a sync's config) into
 * *out.  NULL gives the defaults.
 */
extern void nango_config_map_options(Jsonb *options, NangoMapOptions *out);

#endif							/* NANGO_CONFIG_H */
