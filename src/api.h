/*-------------------------------------------------------------------------
 *
 * api.h
 *	  Entry points of the SQL API (api.c) that other modules use.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NANGO_API_H
#define NANGO_API_H

#include "postgres.h"

/*
 * nango_sync_check_access: checks that the current user may manage (change,
 * run, delete) sync sync_id: its owner, a member of the owner role, or a
 * superuser.  ERROR 42704 when the sync does not exist, 42501 when the user
 * may not.  Returns the sync's owner.  Locks nothing.  (nango.run_sync
 * calls it before running a job.)
 */
extern Oid	nango_sync_check_access(int64 sync_id);

#endif							/* NANGO_API_H */
