/*-------------------------------------------------------------------------
 *
 * roles.h
 *	  Identity switching: the extension owner for nango's own tables, a
 *	  sync's owner for its mapped table, and the pinned search_path.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NANGO_ROLES_H
#define NANGO_ROLES_H

#include "postgres.h"

/* A saved identity, restored by nango_pop_role (or by transaction abort). */
typedef struct NangoSavedRole
{
	Oid			userid;
	int			sec_context;
	int			guc_level;		/* GUC nest level opened by nango_push_role */
	bool		restricted;		/* a security-restricted operation began */
	bool		was_restricted; /* owner code was already restricted before */
} NangoSavedRole;

/*
 * Switch the current user to role (with SECURITY_LOCAL_USERID_CHANGE, as a
 * SECURITY DEFINER function would) and back.  When role is the extension
 * owner, search_path is pinned to "pg_catalog, pg_temp" until the matching
 * nango_pop_role, so that no object of the caller's schemas (an operator, a
 * function) can run with the extension owner's rights.  A transaction or
 * subtransaction abort restores the previous identity and search_path by
 * itself.
 */
extern void nango_push_role(Oid role, NangoSavedRole *saved);
extern void nango_pop_role(NangoSavedRole *saved);

/*
 * nango_push_owner: switch to owner, the owner of a sync, for what touches
 * its mapped table, on behalf of caller (the current user when nango was
 * called: the session's role for run_sync, the owner itself in a job
 * worker).  When caller is not owner, the switch is a security-restricted
 * operation and nango_pop_role rolls back every setting changed meanwhile,
 * so the owner's code runs with the owner's rights only and leaves nothing
 * behind in the caller's session.  Undone by nango_pop_role.
 */
extern void nango_push_owner(Oid owner, Oid caller, NangoSavedRole *saved);

/*
 * nango_pin_search_path: sets search_path to "pg_catalog, pg_temp" until
 * nango_unpin_search_path (or the end of the (sub)transaction), as a
 * SECURITY DEFINER function with SET search_path would: objects of a
 * caller's schema can then never stand in for the ones nango's SQL uses.
 * Returns the GUC nest level to give back to nango_unpin_search_path.
 */
extern int	nango_pin_search_path(void);
extern void nango_unpin_search_path(int nestlevel);

#endif							/* NANGO_ROLES_H */
