/*-------------------------------------------------------------------------
 *
 * netguard.c
 *	  The network guard (nango.allow_private_networks).
 *
 *	  A sync makes the database send HTTP requests to a URL a role chose, so
 *	  by default nango refuses to connect to addresses inside the host or its
 *	  private networks (cloud metadata at 169.254.169.254, loopback services,
 *	  RFC 1918 networks).  The check runs in curl's open-socket callback, on
 *	  the address curl is about to connect to: after DNS resolution and for
 *	  every redirect, so neither a DNS answer nor a redirect can get around it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <curl/curl.h>

#include "nango.h"
#include "netguard.h"

/*
 * ipv4_refused: classifies an IPv4 address (host byte order).
 */
static const char *
ipv4_refused(uint32 a)
{
	if ((a >> 24) == 0)
		return "\"this network\" (0.0.0.0/8)";
	if ((a >> 24) == 127)
		return "loopback";
	if ((a >> 24) == 10 || (a >> 20) == 0xAC1 || (a >> 16) == 0xC0A8)
		return "private (RFC 1918)";
	if ((a >> 16) == 0xA9FE)
		return "link-local";
	if ((a >> 22) == (0x64400000u >> 22))
		return "shared address space (CGNAT, 100.64.0.0/10)";
	if ((a >> 8) == 0xC00000)
		return "IETF protocol assignments (192.0.0.0/24)";
	if ((a >> 17) == (0xC6120000u >> 17))
		return "benchmarking (198.18.0.0/15)";
	if ((a >> 28) >= 0xE)
		return "multicast or reserved";
	return NULL;
}

/*
 * ipv6_refused: classifies an IPv6 address, including the IPv4-mapped,
 * IPv4-compatible, NAT64 and 6to4 forms of refused IPv4 addresses.
 */
static const char *
ipv6_refused(const struct in6_addr *in6)
{
	const uint8 *b = in6->s6_addr;
	static const uint8 zero10[10] = {0};
	uint32		v4;

	if (IN6_IS_ADDR_UNSPECIFIED(in6))
		return "unspecified (::)";
	if (IN6_IS_ADDR_LOOPBACK(in6))
		return "loopback";
	if ((b[0] & 0xFE) == 0xFC)
		return "unique-local (fc00::/7)";
	if (b[0] == 0xFE && (b[1] & 0xC0) == 0x80)
		return "link-local";
	if (b[0] == 0xFE && (b[1] & 0xC0) == 0xC0)
		return "site-local";
	if (b[0] == 0xFF)
		return "multicast";

	/* ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible) */
	if (memcmp(b, zero10, 10) == 0 &&
		((b[10] == 0xFF && b[11] == 0xFF) || (b[10] == 0 && b[11] == 0)))
	{
		v4 = ((uint32) b[12] << 24) | ((uint32) b[13] << 16) | ((uint32) b[14] << 8) | b[15];
		return ipv4_refused(v4);
	}
	/* 64:ff9b::a.b.c.d (NAT64) */
	if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B)
	{
		v4 = ((uint32) b[12] << 24) | ((uint32) b[13] << 16) | ((uint32) b[14] << 8) | b[15];
		return ipv4_refused(v4);
	}
	/* 2002:a.b.c.d::/48 (6to4) */
	if (b[0] == 0x20 && b[1] == 0x02)
	{
		v4 = ((uint32) b[2] << 24) | ((uint32) b[3] << 16) | ((uint32) b[4] << 8) | b[5];
		return ipv4_refused(v4);
	}
	return NULL;
}

/*
 * nango_address_refused: the range an address falls in when the guard
 * refuses it, or NULL when it may be connected to.
 */
const char *
nango_address_refused(const struct sockaddr *addr)
{
	if (addr->sa_family == AF_INET)
		return ipv4_refused(ntohl(((const struct sockaddr_in *) addr)->sin_addr.s_addr));
	if (addr->sa_family == AF_INET6)
		return ipv6_refused(&((const struct sockaddr_in6 *) addr)->sin6_addr);
	return "a non-IP address family";
}

/*
 * open_socket_cb: curl's CURLOPT_OPENSOCKETFUNCTION.  Runs inside curl, so it
 * must not ereport: it records the refusal and returns CURL_SOCKET_BAD, which
 * makes curl fail the transfer with CURLE_COULDNT_CONNECT.
 */
static curl_socket_t
open_socket_cb(void *clientp, curlsocktype purpose, struct curl_sockaddr *address)
{
	NangoGuard *guard = (NangoGuard *) clientp;
	const char *why;

	if (!nango_allow_private_networks)
	{
		why = nango_address_refused(&address->addr);
		if (why != NULL)
		{
			char		host[INET6_ADDRSTRLEN] = "?";

			if (address->family == AF_INET)
				inet_ntop(AF_INET, &((struct sockaddr_in *) &address->addr)->sin_addr, host, sizeof(host));
			else if (address->family == AF_INET6)
				inet_ntop(AF_INET6, &((struct sockaddr_in6 *) &address->addr)->sin6_addr, host, sizeof(host));
			snprintf(guard->refused, sizeof(guard->refused), "%s is a %s address", host, why);
			return CURL_SOCKET_BAD;
		}
	}
	return socket(address->family, address->socktype, address->protocol);
}

void
nango_guard_install(void *curl_handle, NangoGuard *guard)
{
	guard->refused[0] = '\0';
	curl_easy_setopt((CURL *) curl_handle, CURLOPT_OPENSOCKETFUNCTION, open_socket_cb);
	curl_easy_setopt((CURL *) curl_handle, CURLOPT_OPENSOCKETDATA, guard);
}
