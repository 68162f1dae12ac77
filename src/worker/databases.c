/*-------------------------------------------------------------------------
 *
 * databases.c
 *	  The databases the background worker serves and the shared table that
 *	  keeps track of them.
 *
 * nango.databases ('*' or a comma-separated list of names) says which
 * databases are served; nango.database, the deprecated single-name form,
 * wins when it is set.  With '*', every database that allows connections,
 * is not a template and has the extension installed is served.
 *
 * The supervisor gives every served database an entry in a shared table
 * (one per possible launcher) and starts a launcher there; in '*' mode a
 * launcher that finds no extension leaves (no_extension) and the
 * supervisor remembers the database locally and frees the entry, until
 * CREATE EXTENSION nango commits in that database (every backend records
 * it at commit: ext_created on a live entry and a small ring of database
 * oids) or a slow re-probe.
 *
 * Job slots (nango.max_workers, all databases together) are granted in
 * turns: every grant takes a number from a shared sequence, and a database
 * that wants a slot (its launcher found due syncs it could not start) and
 * was served less recently than another goes first.  So a backlog in one
 * database never keeps another database's due sync waiting more than one
 * job's turn.
 *
 * Owns: the settings that choose databases and the shared table of served
 * databases (under nango_shared->lock).  Must not: connect to a database,
 * run SQL, or start processes (the supervisor and the launchers do).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_database.h"
#include "commands/dbcommands.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "databases.h"
#include "nango.h"
#include "worker_int.h"

/* The shared table; entries are protected by nango_shared->lock. */
#define CREATED_RING 16

typedef struct NangoDbTable
{
	uint64		grant_seq;		/* last job slot grant */
	uint64		created_count;	/* CREATE EXTENSION nango commits so far */
	Oid			created[CREATED_RING];	/* their databases, the latest ones */
	int			nentries;
	NangoDbEntry entries[FLEXIBLE_ARRAY_MEMBER];
} NangoDbTable;

static NangoDbTable *db_table = NULL;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* A published "wants" older than this is ignored (its launcher is stuck). */
#define NANGO_WANTS_FRESH_MS 5000

/* nango_list_item: see databases.h. */
bool
nango_list_item(const char **p, const char **start, const char **end)
{
	const char *q = *p;

	while (*q == ' ' || *q == '\t')
		q++;
	*start = q;
	while (*q && *q != ',')
		q++;
	*end = q;
	while (*end > *start && ((*end)[-1] == ' ' || (*end)[-1] == '\t'))
		(*end)--;
	if (*q == '\0')
	{
		*p = q;
		return false;
	}
	*p = q + 1;
	return true;
}

/*
 * list_has: does the comma-separated list contain name (each item trimmed
 * of spaces, compared exactly)?  "*" alone matches every name.
 */
static bool
list_has(const char *list, const char *name)
{
	const char *p = list;
	const char *start;
	const char *end;
	bool		more;

	do
	{
		more = nango_list_item(&p, &start, &end);
		if ((end - start == 1 && *start == '*') ||
			((size_t) (end - start) == strlen(name) && strncmp(start, name, end - start) == 0))
			return true;
	} while (more);
	return false;
}

/* nango_serve_all: every database with the extension is served. */
bool
nango_serve_all(void)
{
	const char *p = nango_databases_list;

	if (nango_database != NULL && nango_database[0] != '\0')
		return false;
	if (p == NULL)
		return true;
	while (*p == ' ')
		p++;
	return p[0] == '*';
}

/* nango_databases_setting: the setting that decides which are served. */
const char *
nango_databases_setting(void)
{
	if (nango_database != NULL && nango_database[0] != '\0')
		return "nango.database";
	return "nango.databases";
}

/* nango_database_named: is dbname served according to the settings? */
bool
nango_database_named(const char *dbname)
{
	if (nango_database != NULL && nango_database[0] != '\0')
		return strcmp(nango_database, dbname) == 0;
	return list_has(nango_databases_list ? nango_databases_list : "*", dbname);
}

/*
 * nango_not_served_reason: why the syncs of the current database do not
 * run on a schedule although nango is preloaded, or NULL when they do.
 */
char *
nango_not_served_reason(const char **hint)
{
	HeapTuple	tup;
	Form_pg_database db;
	char	   *reason = NULL;

	*hint = "Name it in nango.databases (and leave nango.database empty) in postgresql.conf and restart the server, or run syncs with nango.run_sync().";

	tup = SearchSysCache1(DATABASEOID, ObjectIdGetDatum(MyDatabaseId));
	if (!HeapTupleIsValid(tup))
		return NULL;
	db = (Form_pg_database) GETSTRUCT(tup);
	if (!nango_database_named(NameStr(db->datname)))
	{
		if (nango_database != NULL && nango_database[0] != '\0')
			reason = psprintf("nango.database is set to \"%s\"", nango_database);
		else
			reason = psprintf("it is not in nango.databases (\"%s\")", nango_databases_list);
	}
	else if (db->datistemplate || !db->datallowconn)
	{
		reason = pstrdup(db->datistemplate ? "it is a template database" :
						 "it does not allow connections");
		*hint = "The worker serves databases that allow connections and are not templates; run syncs with nango.run_sync().";
	}
	ReleaseSysCache(tup);
	return reason;
}

/* table_size: bytes of the shared table: one entry per worker slot. */
static Size
table_size(void)
{
	return add_size(offsetof(NangoDbTable, entries),
					mul_size(max_worker_processes, sizeof(NangoDbEntry)));
}

/* databases_shmem_request: reserve the table (PG15 way). */
static void
databases_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(table_size());
}

/* databases_shmem_startup: create (postmaster) or attach to the table. */
static void
databases_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	db_table = ShmemInitStruct("nango databases", table_size(), &found);
	if (!found)
	{
		memset(db_table, 0, table_size());
		db_table->nentries = max_worker_processes;
		for (int i = 0; i < db_table->nentries; i++)
			db_table->entries[i].launcher_procno = -1;
	}
	LWLockRelease(AddinShmemInitLock);
}

/* nango_databases_install_hooks: called from _PG_init when preloaded. */
void
nango_databases_install_hooks(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = databases_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = databases_shmem_startup;
}

/* nango_db_count / nango_db_entry: the entries of the table. */
int
nango_db_count(void)
{
	return db_table == NULL ? 0 : db_table->nentries;
}

NangoDbEntry *
nango_db_entry(int i)
{
	return &db_table->entries[i];
}

/* nango_db_find_locked: the entry of dboid, or NULL (lock held, any mode). */
NangoDbEntry *
nango_db_find_locked(Oid dboid)
{
	for (int i = 0; i < nango_db_count(); i++)
		if (db_table->entries[i].dboid == dboid && OidIsValid(dboid))
			return &db_table->entries[i];
	return NULL;
}

/*
 * nango_db_add_locked: the entry of dboid, created (cleared) in a free
 * place when it has none; NULL when the table is full (lock held exclusively).
 */
NangoDbEntry *
nango_db_add_locked(Oid dboid)
{
	NangoDbEntry *e = nango_db_find_locked(dboid);

	for (int i = 0; e == NULL && i < nango_db_count(); i++)
	{
		if (OidIsValid(db_table->entries[i].dboid))
			continue;
		e = &db_table->entries[i];
		memset(e, 0, sizeof(*e));
		e->dboid = dboid;
		e->launcher_procno = -1;
	}
	return e;
}

/* wake_procno: set the latch of the process with that pgprocno, if any. */
static void
wake_procno(int procno)
{
	if (procno >= 0 && procno < (int) ProcGlobal->allProcCount)
		SetLatch(&GetPGProcByNumber(procno)->procLatch);
}

/* nango_wake_launcher_of: set the latch of dboid's launcher now. */
void
nango_wake_launcher_of(Oid dboid)
{
	NangoDbEntry *e;
	int			procno = -1;

	if (nango_shared == NULL || db_table == NULL)
		return;
	LWLockAcquire(nango_shared->lock, LW_SHARED);
	e = nango_db_find_locked(dboid);
	if (e != NULL)
		procno = e->launcher_procno;
	LWLockRelease(nango_shared->lock);
	wake_procno(procno);
}

/*
 * nango_db_extension_created: CREATE EXTENSION nango committed in dboid;
 * the supervisor starts its launcher at once, even when an earlier probe
 * found no extension there.
 */
void
nango_db_extension_created(Oid dboid)
{
	NangoDbEntry *e;

	if (nango_shared == NULL || db_table == NULL)
		return;
	LWLockAcquire(nango_shared->lock, LW_EXCLUSIVE);
	e = nango_db_find_locked(dboid);
	if (e != NULL)
		e->ext_created = true;
	db_table->created[db_table->created_count % CREATED_RING] = dboid;
	db_table->created_count++;
	LWLockRelease(nango_shared->lock);
	nango_wake_supervisor();
	nango_wake_launcher_of(dboid);
}

/*
 * nango_db_created_since: the databases where CREATE EXTENSION nango
 * committed since the count in *seen (updated), at most max of them in
 * oids; false when more happened than the shared ring remembers.
 */
bool
nango_db_created_since(uint64 *seen, Oid *oids, int *n, int max)
{
	bool		all_known;

	*n = 0;
	LWLockAcquire(nango_shared->lock, LW_SHARED);
	all_known = (db_table->created_count - *seen <= Min(CREATED_RING, max));
	for (uint64 c = *seen; all_known && c < db_table->created_count; c++)
		oids[(*n)++] = db_table->created[c % CREATED_RING];
	*seen = db_table->created_count;
	LWLockRelease(nango_shared->lock);
	return all_known;
}

/*
 * nango_db_take_turn_locked: may dboid's launcher start one more job now?
 * Yes when fewer than cap job slots are in use and the free ones are not
 * all owed to databases that wait for one and were served before it; the
 * grant then takes the next number (lock held exclusively).
 */
bool
nango_db_take_turn_locked(Oid dboid, int cap)
{
	NangoDbEntry *me = nango_db_find_locked(dboid);
	TimestampTz now = GetCurrentTimestamp();
	int			used = 0;
	int			ahead = 0;

	for (int i = 0; i < nango_shared->nslots; i++)
		if (nango_slot(i)->in_use)
			used++;
	if (used >= cap)
		return false;
	if (me == NULL)
		return true;
	for (int i = 0; i < nango_db_count(); i++)
	{
		NangoDbEntry *e = &db_table->entries[i];

		if (e != me && OidIsValid(e->dboid) && e->wants > 0 && e->launcher_pid != 0 &&
			e->last_grant < me->last_grant &&
			!TimestampDifferenceExceeds(e->wants_at, now, NANGO_WANTS_FRESH_MS))
			ahead++;
	}
	if (ahead >= cap - used)
		return false;
	me->last_grant = ++db_table->grant_seq;
	return true;
}

/*
 * nango_db_set_wants: publish how many due syncs of dboid wait for a job
 * slot (0: none), for the turns above.
 */
void
nango_db_set_wants(Oid dboid, int wants)
{
	NangoDbEntry *e;

	if (db_table == NULL)
		return;
	LWLockAcquire(nango_shared->lock, LW_EXCLUSIVE);
	e = nango_db_find_locked(dboid);
	if (e != NULL)
	{
		e->wants = wants;
		e->wants_at = GetCurrentTimestamp();
	}
	LWLockRelease(nango_shared->lock);
}

/*
 * nango_db_wake_waiting: a job slot was freed: wake the launchers of the
 * databases waiting for one, so whoever's turn it is takes it now.
 */
void
nango_db_wake_waiting(void)
{
	int		   *procnos;
	int			n = 0;

	if (db_table == NULL)
		return;
	procnos = palloc(sizeof(int) * Max(nango_db_count(), 1));
	LWLockAcquire(nango_shared->lock, LW_EXCLUSIVE);
	for (int i = 0; i < nango_db_count(); i++)
	{
		NangoDbEntry *e = &db_table->entries[i];

		if (OidIsValid(e->dboid) && e->wants > 0 && e->launcher_procno >= 0 &&
			e->dboid != MyDatabaseId)
			procnos[n++] = e->launcher_procno;
	}
	LWLockRelease(nango_shared->lock);
	for (int i = 0; i < n; i++)
		wake_procno(procnos[i]);
	pfree(procnos);
}

/* nango_db_running_count: job slots in use for dboid. */
int
nango_db_running_count(Oid dboid)
{
	int			n = 0;

	LWLockAcquire(nango_shared->lock, LW_SHARED);
	for (int i = 0; i < nango_shared->nslots; i++)
		if (nango_slot(i)->in_use && nango_slot(i)->dboid == dboid)
			n++;
	LWLockRelease(nango_shared->lock);
	return n;
}
