/*-------------------------------------------------------------------------
 *
 * credscope.c
 *	  Credential scope: the decision, for each request of a job, whether it
 *	  may carry the sync's credentials (its headers, the Pizzly token).
 *
 *	  Each request is judged by its own origin, read with libcurl's URL
 *	  parser (the one that decides where curl connects), so nango and curl
 *	  cannot disagree about the host.  The sync URL's origin carries the
 *	  credentials, and so does an upgrade of its http origin to https on
 *	  the default ports; `credential_hosts` entries carry them on any port
 *	  of that host, or on the port they name.  Where credentials would go,
 *	  a request over plain http while the sync's URL is https is refused:
 *	  they would travel in clear.  Everything else goes without them.
 *
 *	  Pure functions of their arguments (no backend state), so that they
 *	  can be fuzzed (test/fuzz/fuzz_credscope.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <curl/curl.h>

#include "credscope.h"

/* lower: a palloc'd lower-case copy of s (ASCII). */
static char *
lower(const char *s)
{
	char	   *r = pstrdup(s);

	for (char *c = r; *c; c++)
		*c = pg_ascii_tolower((unsigned char) *c);
	return r;
}

/*
 * nango_origin_of: see credscope.h.  curl's strings are copied into palloc
 * memory and freed before anything can raise an ERROR.
 */
bool
nango_origin_of(const char *url, NangoOrigin *origin)
{
	CURLU	   *u = curl_url();
	char	   *scheme = NULL;
	char	   *host = NULL;
	char	   *port = NULL;
	bool		ok;

	if (u == NULL)
		return false;
	ok = curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
		curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
		curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
		curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK &&
		host[0] != '\0';
	if (ok)
	{
		origin->scheme = lower(scheme);
		origin->host = lower(host);
		origin->port = atoi(port);
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return ok;
}

/*
 * split_entry: a credential_hosts entry's host (lower case, brackets kept
 * for IPv6) and port (0 when not given); false when it has no host.
 */
static bool
split_entry(const char *entry, char **host, int *port)
{
	const char *colon;

	*port = 0;
	if (entry[0] == '[')
	{
		const char *close = strchr(entry, ']');

		if (close == NULL)
			return false;
		colon = close[1] == ':' ? close + 1 : NULL;
		*host = lower(pnstrdup(entry, close - entry + 1));
	}
	else
	{
		colon = strchr(entry, ':');
		*host = lower(colon ? pnstrdup(entry, colon - entry) : entry);
	}
	if (colon != NULL)
		*port = atoi(colon + 1);
	return (*host)[0] != '\0';
}

/*
 * trusted_host: does the request's origin name the sync's host (ignoring
 * scheme and port, for the https-to-http check) or a credential host?
 * *exact says whether it is exactly the origin, or a credential host on an
 * accepted port.
 */
static bool
trusted_host(const NangoOrigin *o, const NangoOrigin *t, char *const *hosts, int nhosts,
			 bool *exact)
{
	bool		named = false;

	*exact = false;
	if (strcmp(o->host, t->host) == 0)
	{
		named = true;
		if (o->port == t->port && strcmp(o->scheme, t->scheme) == 0)
			*exact = true;
		/* an http origin upgraded to https, default ports */
		if (strcmp(o->scheme, "http") == 0 && o->port == 80 &&
			strcmp(t->scheme, "https") == 0 && t->port == 443)
			*exact = true;
	}
	for (int i = 0; i < nhosts && !*exact; i++)
	{
		char	   *h;
		int			port;

		if (!split_entry(hosts[i], &h, &port) || strcmp(h, t->host) != 0)
			continue;
		named = true;
		if (port == 0 || port == t->port)
			*exact = true;
	}
	return named;
}

/*
 * nango_cred_verdict: see credscope.h.  Only http and https requests ever
 * carry credentials.
 */
NangoCredVerdict
nango_cred_verdict(const char *origin_url, char *const *hosts, int nhosts, const char *url)
{
	NangoOrigin o;
	NangoOrigin t;
	bool		exact;

	if (origin_url == NULL || url == NULL ||
		!nango_origin_of(origin_url, &o) || !nango_origin_of(url, &t))
		return NANGO_CRED_WITHHOLD;
	if (strcmp(t.scheme, "http") != 0 && strcmp(t.scheme, "https") != 0)
		return NANGO_CRED_WITHHOLD;
	if (!trusted_host(&o, &t, hosts, nhosts, &exact))
		return NANGO_CRED_WITHHOLD;
	if (strcmp(o.scheme, "https") == 0 && strcmp(t.scheme, "http") == 0)
		return NANGO_CRED_REFUSE;
	return exact ? NANGO_CRED_SEND : NANGO_CRED_WITHHOLD;
}

/* host_char: a character of a host name or IPv4 address. */
static inline bool
host_char(char c)
{
	return isalnum((unsigned char) c) || c == '-' || c == '.' || c == '_';
}

/*
 * nango_credential_host_problem: see credscope.h.  Refuses schemes, paths,
 * user names, wildcards and anything else a host cannot hold, so that an
 * entry means exactly one host.
 */
const char *
nango_credential_host_problem(const char *entry)
{
	const char *p = entry;

	if (entry[0] == '\0')
		return "it is empty";
	if (strstr(entry, "://") != NULL)
		return "it has a scheme";
	if (strpbrk(entry, "/?#") != NULL)
		return "it has a path or query";
	if (strchr(entry, '@') != NULL)
		return "it has a user name";
	if (strchr(entry, '*') != NULL)
		return "wildcards are not supported";
	if (*p == '[')
	{
		for (p++; *p && *p != ']'; p++)
			if (!isxdigit((unsigned char) *p) && *p != ':' && *p != '.')
				return "it is not a valid bracketed IPv6 address";
		if (*p != ']' || p == entry + 1)
			return "it is not a valid bracketed IPv6 address";
		p++;
	}
	else
	{
		for (; *p && *p != ':'; p++)
			if (!host_char(*p))
				return "it has a character a host name cannot have";
		if (p == entry)
			return "it has no host";
		if (entry[0] == '.' || entry[0] == '-' || p[-1] == '-' || strstr(entry, "..") != NULL)
			return "it is not a valid host name";
	}
	if (*p == '\0')
		return NULL;
	if (*p != ':' || p[1] == '\0')
		return "it has an empty port";
	{
		long		port = 0;

		for (p++; *p; p++)
		{
			if (!isdigit((unsigned char) *p))
				return "its port is not a number";
			port = port * 10 + (*p - '0');
			if (port > 65535)
				break;
		}
		if (port < 1 || port > 65535)
			return "its port is not between 1 and 65535";
	}
	return NULL;
}
