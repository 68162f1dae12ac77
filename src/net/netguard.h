/*-------------------------------------------------------------------------
 *
 * netguard.h
 *	  The network guard (nango.allow_private_networks): refuses connections
 *	  to loopback, private, link-local, CGNAT and unique-local addresses.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NANGO_NETGUARD_H
#define NANGO_NETGUARD_H

#include <sys/socket.h>

/*
 * nango_address_refused: if addr is in a range the guard refuses, returns a
 * short description of the range (e.g. "loopback"); otherwise NULL.
 */
extern const char *nango_address_refused(const struct sockaddr *addr);

/*
 * The guard's state for one curl handle, owned by the caller and living as
 * long as the handle.  After a failed transfer, a non-empty refused[] says
 * which address the guard refused and why, for the error message.
 */
typedef struct NangoGuard
{
	char		refused[160];
} NangoGuard;

/*
 * nango_guard_install: sets curl's open-socket callback on a handle so that
 * every connection (first request, redirects, reconnects) is checked on the
 * address actually connected to.
 */
extern void nango_guard_install(void *curl_handle, NangoGuard *guard);

#endif							/* NANGO_NETGUARD_H */
