/*-------------------------------------------------------------------------
 *
 * credentials.h
 *	  What a sync may send besides its config (docs/security.md): the secrets
 *	  of its owner (secrets.c) and the Pizzly connections granted to its
 *	  owner (grants.c).  Checked when a sync is added or changed, and again
 *	  by every job.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NANGO_CREDENTIALS_H
#define NANGO_CREDENTIALS_H

#include "postgres.h"

#include "config.h"
#include "placeholder.h"

/*
 * nango_owner_secrets: the values of the secrets cfg references
 * (${secret:name}), from owner's secrets, palloc'd in the current memory
 * context; *n gets their number.  A reference to a secret owner does not
 * have is an ERROR (42704) naming it; a malformed reference is 22023.
 */
extern NangoSecretValue *nango_owner_secrets(const NangoConfig *cfg, Oid owner, int *n);

/*
 * nango_check_connection_grant: when cfg names a Pizzly connection and
 * owner is not a superuser, the connection must be granted to a role
 * whose privileges owner has (nango.grant_connection); otherwise an ERROR
 * (42501) with a hint naming grant_connection.
 */
extern void nango_check_connection_grant(const NangoConfig *cfg, Oid owner);

/*
 * nango_credentials_installed: whether the database's nango schema has
 * the tables of secrets and grants (0.3.0 and later).  A database of an
 * earlier version, served by this library until ALTER EXTENSION nango
 * UPDATE, works as that version did: without grants and secrets.
 */
extern bool nango_credentials_installed(void);

/*
 * nango_check_credentials: both checks above, for add_sync and update_sync
 * (and any other function that stores a config for owner).
 */
extern void nango_check_credentials(const NangoConfig *cfg, Oid owner);

#endif							/* NANGO_CREDENTIALS_H */
