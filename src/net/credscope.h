/*-------------------------------------------------------------------------
 *
 * credscope.h
 *	  Credential scope (docs/sync-modes.md): which requests may carry a sync's
 *	  credentials.  They go only to the origin (scheme, host, port) of the
 *	  sync's URL and to the hosts of its `credential_hosts`; a request to
 *	  any other origin goes without them, and a move from https to plain
 *	  http of a request that would carry them is refused.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NANGO_CREDSCOPE_H
#define NANGO_CREDSCOPE_H

#include "postgres.h"

/* What a request may carry. */
typedef enum NangoCredVerdict
{
	NANGO_CRED_SEND,			/* the origin or a credential host: send them */
	NANGO_CRED_WITHHOLD,		/* another origin: send the request without them */
	NANGO_CRED_REFUSE			/* https moved to http where they would go: refuse */
} NangoCredVerdict;

/* The origin of a URL: lower-case scheme and host, and the port. */
typedef struct NangoOrigin
{
	char	   *scheme;
	char	   *host;			/* "[...]" for IPv6 addresses */
	int			port;			/* the scheme's default when not written */
} NangoOrigin;

/*
 * nango_origin_of: the origin of an absolute URL, read with libcurl's own
 * URL parser (the one that decides where a request goes); false when the
 * URL cannot be read.  Strings palloc'd.
 */
extern bool nango_origin_of(const char *url, NangoOrigin *origin);

/*
 * nango_cred_verdict: whether a request to url may carry the credentials
 * of a sync whose URL is origin_url and whose credential_hosts are hosts.
 * A URL that cannot be read gets no credentials.
 */
extern NangoCredVerdict nango_cred_verdict(const char *origin_url, char *const *hosts,
										   int nhosts, const char *url);

/*
 * nango_credential_host_problem: NULL when entry is a valid
 * `credential_hosts` element (a host name, IPv4 address or bracketed IPv6
 * address, optionally followed by ":port"), otherwise what is wrong.
 */
extern const char *nango_credential_host_problem(const char *entry);

#endif							/* NANGO_CREDSCOPE_H */
