/*-------------------------------------------------------------------------
 *
 * fuzz_credscope.c
 *	  Fuzz target: the credential-scope decision (credscope.c), which reads
 *	  URLs an API sends (next URLs, Link headers, redirects).  Input:
 *	  "<sync URL>\n<request URL>\n<credential host>\n...".  Checks that
 *	  credentials are only ever sent over http(s) to the sync URL's host or
 *	  a valid credential host, never over http when the sync URL is https,
 *	  and that the sync URL itself always gets them.  A table of known
 *	  cases runs first (LLVMFuzzerInitialize), so a plain run of the
 *	  target is also a unit test.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "credscope.h"
#include "shim.h"

#define MAX_HOSTS 8

typedef struct Args
{
	const char *origin;
	const char *url;
	char	   *hosts[MAX_HOSTS];
	int			nhosts;
	NangoCredVerdict verdict;
	NangoCredVerdict self;
	bool		origin_ok;
	bool		url_ok;
	NangoOrigin o;
	NangoOrigin t;
} Args;

static void
run(void *p)
{
	Args	   *a = p;

	for (int i = 0; i < a->nhosts; i++)
		(void) nango_credential_host_problem(a->hosts[i]);
	a->verdict = nango_cred_verdict(a->origin, a->hosts, a->nhosts, a->url);
	a->self = nango_cred_verdict(a->origin, a->hosts, a->nhosts, a->origin);
	a->origin_ok = nango_origin_of(a->origin, &a->o);
	a->url_ok = nango_origin_of(a->url, &a->t);
}

/* host_named: is host the host part of a valid credential_hosts entry? */
static bool
host_named(const Args *a, const char *host)
{
	for (int i = 0; i < a->nhosts; i++)
	{
		size_t		n = strlen(host);

		if (pg_strncasecmp(a->hosts[i], host, n) == 0 &&
			(a->hosts[i][n] == '\0' || a->hosts[i][n] == ':'))
			return true;
	}
	return false;
}

static void
fail(const Args *a, const char *what)
{
	fprintf(stderr, "%s: sync URL \"%s\", request \"%s\"\n", what, a->origin, a->url);
	abort();
}

/* check: the invariants of one decision. */
static void
check(Args *a)
{
	if (a->verdict == NANGO_CRED_SEND)
	{
		if (!a->origin_ok || !a->url_ok)
			fail(a, "credentials for a URL that cannot be read");
		if (strcmp(a->t.scheme, "http") != 0 && strcmp(a->t.scheme, "https") != 0)
			fail(a, "credentials over another scheme than http(s)");
		if (strcmp(a->o.scheme, "https") == 0 && strcmp(a->t.scheme, "http") == 0)
			fail(a, "credentials over http for an https sync");
		if (strcmp(a->o.host, a->t.host) != 0 && !host_named(a, a->t.host))
			fail(a, "credentials for a host neither the origin nor a credential host");
	}
	if (a->origin_ok && (strcmp(a->o.scheme, "http") == 0 || strcmp(a->o.scheme, "https") == 0) &&
		a->self != NANGO_CRED_SEND)
		fail(a, "the sync URL itself gets no credentials");
}

/* The known cases: sync URL, request URL, credential host or NULL, verdict. */
static const struct
{
	const char *origin;
	const char *url;
	const char *host;
	NangoCredVerdict v;
}			cases[] = {
	{"https://api.example.com/v1", "https://api.example.com/v1?page=2", NULL, NANGO_CRED_SEND},
	{"https://api.example.com/v1", "https://API.Example.com:443/x", NULL, NANGO_CRED_SEND},
	{"https://api.example.com/v1", "https://evil.example.com/v1", NULL, NANGO_CRED_WITHHOLD},
	{"https://api.example.com/v1", "https://api.example.com.evil.io/", NULL, NANGO_CRED_WITHHOLD},
	{"https://api.example.com/v1", "https://api.example.com@evil.io/", NULL, NANGO_CRED_WITHHOLD},
	{"https://api.example.com/v1", "https://api.example.com:8443/v1", NULL, NANGO_CRED_WITHHOLD},
	{"https://api.example.com/v1", "http://api.example.com/v1", NULL, NANGO_CRED_REFUSE},
	{"https://api.example.com/v1", "http://api.example.com:443/v1", NULL, NANGO_CRED_REFUSE},
	{"https://api.example.com/v1", "http://evil.example.com/v1", NULL, NANGO_CRED_WITHHOLD},
	{"https://api.example.com/v1", "ftp://api.example.com/v1", NULL, NANGO_CRED_WITHHOLD},
	{"https://api.example.com/v1", "not a url", NULL, NANGO_CRED_WITHHOLD},
	{"http://api.example.com/v1", "https://api.example.com/v1", NULL, NANGO_CRED_SEND},
	{"http://api.example.com:8080/v1", "https://api.example.com/v1", NULL, NANGO_CRED_WITHHOLD},
	{"http://api.example.com/v1", "http://api.example.com/v2", NULL, NANGO_CRED_SEND},
	{"https://api.example.com/v1", "https://files.example.com/x", "files.example.com", NANGO_CRED_SEND},
	{"https://api.example.com/v1", "https://files.example.com:8443/x", "files.example.com", NANGO_CRED_SEND},
	{"https://api.example.com/v1", "https://files.example.com:8443/x", "files.example.com:8443", NANGO_CRED_SEND},
	{"https://api.example.com/v1", "https://files.example.com/x", "files.example.com:8443", NANGO_CRED_WITHHOLD},
	{"https://api.example.com/v1", "http://files.example.com/x", "files.example.com", NANGO_CRED_REFUSE},
	{"http://api.example.com/v1", "http://files.example.com/x", "files.example.com", NANGO_CRED_SEND},
	{"https://[::1]:8443/v1", "https://[::1]:8443/v2", NULL, NANGO_CRED_SEND},
	{"https://api.example.com/v1", "https://[::1]/x", "[::1]", NANGO_CRED_SEND},
};

int			LLVMFuzzerInitialize(int *argc, char ***argv);
int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	for (size_t i = 0; i < lengthof(cases); i++)
	{
		char	   *hosts[1] = {(char *) cases[i].host};
		NangoCredVerdict v = nango_cred_verdict(cases[i].origin, hosts, cases[i].host ? 1 : 0,
												cases[i].url);

		if (v != cases[i].v)
		{
			fprintf(stderr, "case %zu: %s -> %s (host %s): verdict %d, expected %d\n", i,
					cases[i].origin, cases[i].url, cases[i].host ? cases[i].host : "-", v, cases[i].v);
			abort();
		}
	}
	fuzz_reset();
	fprintf(stderr, "credscope: %zu known cases passed\n", lengthof(cases));
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *buf = malloc(size + 1);
	char	   *lines[2 + MAX_HOSTS];
	int			n = 0;
	Args		a;

	memcpy(buf, data, size);
	buf[size] = '\0';
	lines[n++] = buf;
	for (char *c = buf; *c && n < 2 + MAX_HOSTS; c++)
		if (*c == '\n')
		{
			*c = '\0';
			lines[n++] = c + 1;
		}
	memset(&a, 0, sizeof(a));
	if (n >= 2)
	{
		a.origin = lines[0];
		a.url = lines[1];
		for (int i = 2; i < n; i++)
			if (nango_credential_host_problem(lines[i]) == NULL)
				a.hosts[a.nhosts++] = lines[i];
		if (fuzz_try(run, &a))
			check(&a);
	}
	fuzz_reset();
	free(buf);
	return 0;
}
