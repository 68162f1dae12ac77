/*-------------------------------------------------------------------------
 *
 * mapping.h
 *	  Auto-mapping (docs/mapping.md): flattening JSON records into typed
 *	  columns of a sync's mapped table.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NANGO_MAPPING_H
#define NANGO_MAPPING_H

#include "postgres.h"
#include "utils/jsonb.h"

typedef struct NangoMapTable NangoMapTable;

/* Per-job counters the mapping adds to. */
typedef struct NangoMapCounts
{
	int64		mismatch;		/* values not stored because their type did not fit */
	int64		skipped;		/* mapped rows too big to store */
} NangoMapCounts;

/*
 * nango_map_open: opens the mapped table of a sync for one job, creating it
 * (and its schema, when allowed) when missing.  mapped_table is the name as
 * stored in nango.syncs.mapped_table (NULL means nango._nango_sync_<id>).
 * metadata is the sync's "metadata" config object, or NULL.  Runs as the
 * current user, which the job sets to the sync's owner.
 */
extern NangoMapTable *nango_map_open(int64 sync_id, const char *mapped_table,
									 Jsonb *metadata);

/*
 * nango_map_set_metadata: the metadata columns' values of the rows written
 * from now on (a child sync's rows carry their parent's key in
 * _nango_parent_key).
 */
extern void nango_map_set_metadata(NangoMapTable *mt, Jsonb *metadata);

/*
 * nango_map_set_options: the sync's mapping options (docs/mapping.md:
 * fields, arrays) for the pages written next; opts must outlive the
 * table's use.  NULL (the default) maps every field, arrays as columns.
 */
struct NangoMapOptions;
extern void nango_map_set_options(NangoMapTable *mt, const struct NangoMapOptions *opts);

/*
 * nango_map_write: writes one page of records.  keys[i] is the record's
 * unique key (NULL in overwrite mode).  A keyed record replaces the whole
 * row of its key (absent fields become NULL, _nango_deleted_at is cleared).
 * numpaths (NULL, or one entry per record, NULL for a record without any)
 * names the fields whose numbers were written with an exponent (1e3),
 * which are typed as decimals (docs/mapping.md) although the jsonb holds
 * integers.
 */
struct NangoNumPaths;
extern void nango_map_write(NangoMapTable *mt, int64 job_id, int n,
							Jsonb **records, char **keys,
							const struct NangoNumPaths *const *numpaths,
							NangoMapCounts *counts);

/* Overwrite mode: removes every row of this sync (before the job writes its own). */
extern void nango_map_clear_sync(NangoMapTable *mt);

/* Delete modes: removes (hard) or marks deleted (soft) the rows of these keys. */
extern void nango_map_delete_keys(NangoMapTable *mt, int n, char **keys, bool soft);

extern void nango_map_close(NangoMapTable *mt);

/*
 * nango_map_has_rows: whether the table holds a row of the sync (any row
 * visible to the job, deleted-marked ones too).  Runs as the current user,
 * which the job sets to the sync's owner.
 */
extern bool nango_map_has_rows(NangoMapTable *mt);

/*
 * nango_map_drop_data: for nango.delete_sync(..., drop_data => true):
 * removes the sync's rows from its mapped table (mapped_table as stored in
 * nango.syncs), and drops the table when no other sync's rows remain in it
 * and no other sync names it.  Runs as the current user (the sync's owner
 * or a superuser); a table the user does not own is emptied of the sync's
 * rows but kept.  Call it before deleting the sync's row.
 */
extern void nango_map_drop_data(int64 sync_id, const char *mapped_table);

/*
 * nango_map_check_owner: when the mapped table of sync_id (mapped_table as
 * nango_config_mapped_table gives it) exists, ERROR (42501, naming the
 * table's owner) unless owner, the sync's owner, owns it or has the
 * privileges of its owner role (a superuser: the owner is a superuser or
 * a role it is a member of).  When a table in schema nango does not
 * exist, the same ERROR when a sync of a role whose table owner could not
 * use already names it.  Run at add_sync and update_sync (inside SPI); every job checks the
 * table's owner again when it opens the table.
 */
extern void nango_map_check_owner(int64 sync_id, const char *mapped_table, Oid owner);

#endif							/* NANGO_MAPPING_H */
