/*-------------------------------------------------------------------------
 *
 * databases.h
 *	  Which databases the background worker serves (nango.databases,
 *	  nango.database) and the shared table of served databases: one entry
 *	  per database with its launcher, whether the extension was found, and
 *	  its place in the round-robin of job slots (databases.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef NANGO_DATABASES_H
#define NANGO_DATABASES_H

#include "postgres.h"

#include "datatype/timestamp.h"

/* One served (or probed) database; protected by nango_shared->lock. */
typedef struct NangoDbEntry
{
	Oid			dboid;			/* InvalidOid: the entry is free */
	pid_t		launcher_pid;	/* 0 when no launcher runs */
	int			launcher_procno;	/* -1 when no launcher runs */
	bool		no_extension;	/* its launcher found no extension and left */
	bool		ext_created;	/* CREATE EXTENSION nango committed since */
	int			wants;			/* due syncs waiting for a job slot */
	TimestampTz wants_at;		/* when wants was last published */
	uint64		last_grant;		/* grant_seq of its latest job slot */
} NangoDbEntry;

/* Is every database served ('*', nango.database empty)? */
/*
 * nango_list_item: the next item of the comma-separated list at *p,
 * trimmed of spaces and tabs, as [*start, *end) (possibly empty); *p moves
 * past it and its comma.  Returns whether another item follows.
 */
extern bool nango_list_item(const char **p, const char **start, const char **end);

extern bool nango_serve_all(void);

/* Is the database of that name served by the settings?  (Name only.) */
extern bool nango_database_named(const char *dbname);

/* The setting that decides ("nango.database" or "nango.databases"). */
extern const char *nango_databases_setting(void);

/*
 * Why the current database is not served (a sentence) and what to do
 * (*hint), or NULL when it is.  For the WARNING of CREATE EXTENSION and
 * add_sync.
 */
extern char *nango_not_served_reason(const char **hint);

/* Shared table: hooks (installed when preloaded) and its entries. */
extern void nango_databases_install_hooks(void);
extern int	nango_db_count(void);
extern NangoDbEntry *nango_db_entry(int i);
extern NangoDbEntry *nango_db_find_locked(Oid dboid);
extern NangoDbEntry *nango_db_add_locked(Oid dboid);

/* Wake the launcher of a database (harmless when none runs). */
extern void nango_wake_launcher_of(Oid dboid);

/* CREATE EXTENSION nango committed in this database: wake the supervisor. */
extern void nango_db_extension_created(Oid dboid);

/*
 * The databases where CREATE EXTENSION nango committed since *seen (a
 * counter the caller keeps); false when too many to tell (then any may).
 */
extern bool nango_db_created_since(uint64 *seen, Oid *oids, int *n, int max);

/* Job slots: fair turns across databases (see databases.c). */
extern bool nango_db_take_turn_locked(Oid dboid, int cap);
extern void nango_db_set_wants(Oid dboid, int wants);
extern void nango_db_wake_waiting(void);
extern int	nango_db_running_count(Oid dboid);

#endif							/* NANGO_DATABASES_H */
