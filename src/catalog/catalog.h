/*-------------------------------------------------------------------------
 *
 * catalog.h
 *	  Every statement on nango's own catalog tables, nango.syncs and
 *	  nango.jobs (catalog.c), the one row struct of a sync and the one rule
 *	  of who may manage a sync.
 *
 *	  Each function runs in its caller's scope: SPI connected, and the
 *	  identity and search_path the caller set up (the extension owner with
 *	  search_path pinned to pg_catalog, pg_temp for the SQL API and the
 *	  engine; the launcher's own role and settings for the worker).  No
 *	  function here switches roles or decides anything: it runs one
 *	  statement and hands back what it read.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NANGO_CATALOG_H
#define NANGO_CATALOG_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "utils/jsonb.h"

/* A sync's row of nango.syncs. */
typedef struct SyncRow
{
	int64		id;
	Oid			owner;
	char	   *url;
	Jsonb	   *config;
	char	   *friendly_name;	/* NULL: none */
	char	   *mapped_table;	/* NULL when not mapped */
	Jsonb	   *incremental_state;	/* NULL: none */
} SyncRow;

/*
 * How catalog_read_sync locks the row: not at all, for a change of non-key
 * columns (FOR NO KEY UPDATE: it does not wait for a running job's
 * foreign-key locks), or for deleting it (FOR UPDATE).
 */
typedef enum SyncLock
{
	SYNC_LOCK_NONE,
	SYNC_LOCK_CHANGE,
	SYNC_LOCK_DELETE
} SyncLock;

/*
 * A sync's config columns, as add_sync, update_sync and put_sync write
 * them from a validated config.
 */
typedef struct SyncConfigColumns
{
	const char *url;
	Jsonb	   *config;			/* the normalized config */
	const char *friendly_name;	/* NULL: none */
	Interval   *frequency;		/* NULL: none */
	const char *cron;			/* NULL: none */
	const char *mapped_table;	/* NULL: not mapped */
	bool		incremental;	/* the config has an incremental cursor */
} SyncConfigColumns;

/*
 * The counts of a finished job, in the order of their columns in
 * nango.jobs: pages, fetched, added, updated, deleted, unchanged, skipped,
 * mismatch, duplicate.
 */
#define CATALOG_JOB_NCOUNTS 9

/* counts a checkpoint records: pages, fetched, added, updated, unchanged,
 * skipped, mismatch, duplicate */
#define CATALOG_CHECKPOINT_NCOUNTS 8

/* The changes of state of pause_sync, resume_sync and trigger_sync. */
typedef enum SyncStateChange
{
	SYNC_PAUSE,
	SYNC_RESUME,
	SYNC_TRIGGER
} SyncStateChange;

/* The access rule */
extern bool catalog_may_manage(Oid caller, Oid owner);

/* nango.syncs, for the SQL API */
extern bool catalog_read_sync(int64 id, SyncLock lock, SyncRow *row, MemoryContext cxt);
extern int64 catalog_sync_by_name(Oid owner, const char *name, int64 except_id, bool lock);
extern int64 catalog_child_count(int64 id, int64 *first);
extern void catalog_chain_depths(int64 parent_id, int64 self_id, int *ancestors, bool *cycle,
								 int *height);
extern bool catalog_lock_parent(int64 id, Oid owner, bool *has_key);
extern int64 catalog_next_sync_id(void);
extern void catalog_insert_sync(int64 id, Oid owner, const SyncConfigColumns *cols);
extern void catalog_write_sync_config(int64 id, const SyncConfigColumns *cols, TimestampTz first_run);
extern void catalog_set_sync_state(int64 id, SyncStateChange change);
extern void catalog_delete_sync(int64 id);
extern char *catalog_syncs_using(Oid owner, const char *needle);
extern Oid *catalog_mapped_table_owners(const char *mapped_table, int64 except_id, int *n);
extern bool catalog_mapped_table_named(const char *mapped_table, int64 except_id);

/* nango.syncs and nango.jobs, for the engine */
extern char *catalog_running_job(int64 sync_id);
extern int *catalog_running_job_pids(int64 sync_id, int *n);
extern int64 catalog_insert_job(int64 sync_id, int attempt, int pid, const char *trigger);
extern bool catalog_claim_job(int64 job_id, int pid, int64 *sync_id, char **trigger,
							  TimestampTz *started_at, MemoryContext cxt);
extern bool catalog_job_failure(int64 job_id, int64 *sync_id, char **friendly_name,
								char **message, char **detail, MemoryContext cxt);
extern void catalog_finish_job(int64 job_id, const char *status, const char *message,
							   const char *detail, const int64 *counts, Datum warnings,
							   bool warnings_null);
extern uint64 catalog_children_due_now(int64 sync_id);
extern void catalog_job_checkpoint_counts(int64 job_id, const int64 *counts, int resumed_page);
extern void catalog_job_resumed_at(int64 job_id, int page);
extern void catalog_save_incremental(int64 sync_id, Jsonb *state);
extern bool catalog_lock_sync_key(int64 sync_id);
extern bool catalog_job_owner(int64 job_id, Oid *owner);
extern bool catalog_parent_first_record(int64 parent_id, const char *parent_name, Oid owner,
										char **key, Jsonb **record, MemoryContext cxt);

/* A due sync as catalog_due_syncs reads it. */
typedef struct DueSyncRow
{
	int64		id;
	Oid			owner;
	char	   *friendly_name;	/* NULL: none */
	bool		owner_exists;
	bool		owner_can_login;
	bool		owner_can_connect;
	bool		scheduled;		/* next_run_at <= now() and active */
	bool		retry_due;		/* retry_at <= now() and active */
	TimestampTz due_at;			/* next_run_at (0: null) */
	int			retry_attempt;
	bool		has_trigger;
	TimestampTz triggered_at;
	bool		resumed;
	TimestampTz resumed_at;
	bool		after_parent;	/* a child sync without a schedule of its own */
} DueSyncRow;

/* nango.syncs and nango.jobs, for the worker's launcher */
extern DueSyncRow *catalog_due_syncs(const int64 *busy, int nbusy, int limit, int *count,
									 MemoryContext cxt);
extern TimestampTz catalog_next_due(void);
extern void catalog_mark_started(int64 sync_id, bool has_trigger, TimestampTz triggered_at,
								 bool resumed, TimestampTz resumed_at);
extern char *catalog_lock_sync_cron(int64 sync_id, bool *found);
extern TimestampTz catalog_advance_next_run(int64 sync_id, bool scheduled, TimestampTz due_at,
											bool has_cron, TimestampTz cron_next);
extern void catalog_set_retry(int64 sync_id, int retry, TimestampTz retry_at);
extern bool catalog_fail_dead_job(int64 *job_id, const char *message, int64 sync_id, int pid);
extern char *catalog_job_status(int64 job_id);
extern int	catalog_recover_jobs(Datum live_pids, const char *message);
extern void catalog_copy_progress(Datum ids, Datum pages, Datum fetched);
extern uint64 catalog_delete_old_jobs(double older_than_s);

#endif							/* NANGO_CATALOG_H */
