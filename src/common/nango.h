/*-------------------------------------------------------------------------
 *
 * nango.h
 *	  Settings and helpers shared by every part of the nango extension.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NANGO_H
#define NANGO_H

#include "postgres.h"

/* NANGO_VERSION comes from nango.control, through the Makefile. */
#ifndef NANGO_VERSION
#error "NANGO_VERSION is not defined: build with the Makefile"
#endif
#define NANGO_USER_AGENT "nango/" NANGO_VERSION " (PostgreSQL extension)"

/* nango.log_level values */
typedef enum NangoLogLevel
{
	NANGO_LOG_DEBUG,
	NANGO_LOG_INFO,
	NANGO_LOG_WARNING,
	NANGO_LOG_ERROR
} NangoLogLevel;

/* GUC variables, defined in nango.c */
extern char *nango_database;
extern char *nango_databases_list;
extern int	nango_max_workers;
extern int	nango_poll_interval_ms;
extern char *nango_pizzly_base_url;
extern char *nango_pizzly_secret_key;
extern int	nango_http_timeout_ms;
extern int	nango_max_response_size_kb;
extern bool nango_allow_private_networks;
extern int	nango_log_level;
extern int	nango_job_retention_s;
extern int	nango_max_rate_limit_wait_s;

/* true when loaded through shared_preload_libraries */
extern bool nango_preloaded;

/*
 * nango_log: log a line through elog when nango.log_level lets it through.
 * Callers must never pass a secret; see redact.h for URL redaction.  The
 * statement is not logged with the line: a LOG line would otherwise carry
 * the caller's SQL text (e.g. an add_sync call with its headers) into the
 * server log.
 */
#define nango_log(lvl, elevel, ...) \
	do { \
		if ((lvl) >= nango_log_level) \
			ereport((elevel), errmsg_internal(__VA_ARGS__), errhidestmt(true)); \
	} while (0)

/*
 * nango_sync_label: how every message names a sync: "12 (My Sync)", or "12"
 * when it has no friendly name (used as "sync %s").
 */
static inline char *
nango_sync_label(int64 id, const char *friendly_name)
{
	if (friendly_name != NULL)
		return psprintf(INT64_FORMAT " (%s)", id, friendly_name);
	return psprintf(INT64_FORMAT, id);
}

#endif							/* NANGO_H */
