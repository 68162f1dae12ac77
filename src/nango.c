/*-------------------------------------------------------------------------
 *
 * nango.c
 *	  Module entry point: defines the extension's settings (GUCs) and, when
 *	  loaded through shared_preload_libraries, registers the background
 *	  worker launcher.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>
#include <cjson/cJSON.h>

#include "commands/extension.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "api.h"
#include "databases.h"
#include "nango.h"
#include "ratelimit.h"
#include "worker.h"

PG_MODULE_MAGIC;

char	   *nango_database = NULL;
char	   *nango_databases_list = NULL;
int			nango_max_workers = 4;
int			nango_poll_interval_ms = 1000;
char	   *nango_pizzly_base_url = NULL;
char	   *nango_pizzly_secret_key = NULL;
int			nango_http_timeout_ms = 30000;
int			nango_max_response_size_kb = 64 * 1024;
bool		nango_allow_private_networks = false;
int			nango_log_level = NANGO_LOG_INFO;
int			nango_job_retention_s = 30 * 24 * 3600;
int			nango_max_rate_limit_wait_s = 15 * 60;

bool		nango_preloaded = false;

static const struct config_enum_entry log_level_options[] = {
	{"debug", NANGO_LOG_DEBUG, false},
	{"info", NANGO_LOG_INFO, false},
	{"warning", NANGO_LOG_WARNING, false},
	{"error", NANGO_LOG_ERROR, false},
	{NULL, 0, false}
};

void		_PG_init(void);

/*
 * check_databases: nango.databases is '*' alone or a list of non-empty
 * names separated by commas.
 */
static bool
check_databases(char **newval, void **extra, GucSource source)
{
	const char *p = *newval;
	bool		star = false;
	int			items = 0;

	if (p == NULL)
		return true;
	for (;;)
	{
		const char *start;
		const char *end;
		bool		more = nango_list_item(&p, &start, &end);

		if (end == start)
		{
			GUC_check_errdetail("An empty database name is not allowed.");
			return false;
		}
		star |= (end - start == 1 && *start == '*');
		items++;
		if (!more)
			break;
	}
	if (star && items > 1)
	{
		GUC_check_errdetail("\"*\" cannot be combined with database names.");
		return false;
	}
	return true;
}

/*
 * define_settings: every GUC of README.md, with its default, range and
 * the privilege needed to change it.
 */
static void
define_settings(void)
{
	/*
	 * A postmaster-level setting can only be defined while preloading; when
	 * the library is loaded later (no worker runs then) it is a reload-level
	 * setting, so loading nango on demand never fails.
	 */
	DefineCustomStringVariable("nango.databases",
							   "Databases whose syncs the nango background worker runs.",
							   "'*' (every database where the extension is installed) or a comma-separated list of names.",
							   &nango_databases_list, "*",
							   process_shared_preload_libraries_in_progress ? PGC_POSTMASTER : PGC_SIGHUP,
							   0, check_databases, NULL, NULL);

	DefineCustomStringVariable("nango.database",
							   "Deprecated: when set, the one database whose syncs the worker runs.",
							   "Wins over nango.databases when not empty.",
							   &nango_database, "",
							   process_shared_preload_libraries_in_progress ? PGC_POSTMASTER : PGC_SIGHUP,
							   0, NULL, NULL, NULL);

	DefineCustomIntVariable("nango.max_workers",
							"Maximum number of syncs running at the same time.",
							"Each running sync uses one background worker slot (max_worker_processes).",
							&nango_max_workers, 4, 1, 1024,
							PGC_SIGHUP, 0, NULL, NULL, NULL);

	DefineCustomIntVariable("nango.poll_interval",
							"How often the scheduler looks for due syncs.",
							"add_sync, trigger_sync, resume_sync and update_sync also wake it at commit.",
							&nango_poll_interval_ms, 1000, 10, 3600 * 1000,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);

	DefineCustomStringVariable("nango.pizzly_base_url",
							   "Base URL of the Pizzly (Nango auth) server.",
							   NULL, &nango_pizzly_base_url, "",
							   PGC_SUSET, 0, NULL, NULL, NULL);

	DefineCustomStringVariable("nango.pizzly_secret_key",
							   "Secret key sent to Pizzly as Basic auth.",
							   NULL, &nango_pizzly_secret_key, "",
							   PGC_SUSET, GUC_SUPERUSER_ONLY | GUC_NO_SHOW_ALL,
							   NULL, NULL, NULL);

	DefineCustomIntVariable("nango.http_timeout",
							"Total timeout of one HTTP request.",
							"A sync's \"timeout\" config key overrides it.",
							&nango_http_timeout_ms, 30000, 1, INT_MAX,
							PGC_USERSET, GUC_UNIT_MS, NULL, NULL, NULL);

	DefineCustomIntVariable("nango.max_response_size",
							"Largest accepted HTTP response body (after decompression).",
							NULL, &nango_max_response_size_kb, 64 * 1024, 1, 1024 * 1024 - 1,
							PGC_SUSET, GUC_UNIT_KB, NULL, NULL, NULL);

	DefineCustomBoolVariable("nango.allow_private_networks",
							 "Allow requests to loopback, private, link-local and unique-local addresses.",
							 NULL, &nango_allow_private_networks, false,
							 PGC_SUSET, 0, NULL, NULL, NULL);

	DefineCustomEnumVariable("nango.log_level",
							 "How much the nango extension logs.",
							 NULL, &nango_log_level, NANGO_LOG_INFO, log_level_options,
							 PGC_SUSET, 0, NULL, NULL, NULL);

	DefineCustomIntVariable("nango.job_retention",
							"Finished job rows older than this are deleted by the worker.",
							"0 keeps them forever.",
							&nango_job_retention_s, 30 * 24 * 3600, 0, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);

	DefineCustomIntVariable("nango.max_rate_limit_wait",
							"Longest wait for a rate-limit reset announced by an API.",
							"A job told to wait longer fails.",
							&nango_max_rate_limit_wait_s, 15 * 60, 0, INT_MAX,
							PGC_USERSET, GUC_UNIT_S, NULL, NULL, NULL);

	MarkGUCPrefixReserved("nango");
}

/*
 * cjson_alloc, cjson_free: cJSON's allocator (installed by _PG_init).
 * cJSON memory is palloc'd in the current memory context, so a tree is
 * released with its context even when an ERROR skips cJSON_Delete, and
 * running out of memory raises an ERROR instead of giving a NULL that
 * would read as "not JSON".  Sizes above 1 GB are allowed, as with malloc.
 * Every cJSON tree of nango is parsed, read and deleted within one
 * function; none outlives the context it was made in.
 */
static void *
cjson_alloc(size_t size)
{
	return MemoryContextAllocHuge(CurrentMemoryContext, size);
}

static void
cjson_free(void *ptr)
{
	if (ptr != NULL)
		pfree(ptr);
}

/*
 * _PG_init: define settings, give cJSON PostgreSQL's allocator; when
 * preloaded (and not in a binary upgrade), register the launcher.
 */
void
_PG_init(void)
{
	cJSON_Hooks hooks = {cjson_alloc, cjson_free};

	define_settings();
	cJSON_InitHooks(&hooks);

	if (!process_shared_preload_libraries_in_progress)
	{
		/* Loaded by CREATE EXTENSION nango's script: nothing will run. */
		if (creating_extension)
			nango_warn_not_scheduled();
		return;
	}
	nango_preloaded = true;
	nango_ratelimit_install_hooks();
	if (IsBinaryUpgrade)
		return;
	nango_worker_register();
}
