/*-------------------------------------------------------------------------
 *
 * util.h
 *	  Small helpers shared by the modules: identity switching and lookups.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NANGO_UTIL_H
#define NANGO_UTIL_H

#include "postgres.h"

/* A saved identity, restored by nango_pop_role (or by transaction abort). */
typedef struct NangoSavedRole
{
	Oid			userid;
	int			sec_context;
} NangoSavedRole;

/* Oid of the role that owns the nango extension (it writes nango's tables). */
extern Oid	nango_extension_owner(void);

/*
 * Switch the current user to role (with SECURITY_LOCAL_USERID_CHANGE, as a
 * SECURITY DEFINER function would) and back.  A transaction or
 * subtransaction abort restores the previous identity by itself.
 */
extern void nango_push_role(Oid role, NangoSavedRole *saved);
extern void nango_pop_role(NangoSavedRole *saved);

#endif							/* NANGO_UTIL_H */
