/*-------------------------------------------------------------------------
 *
 * store.h
 *	  Writing a job's records into nango.raw (docs/tables.md, docs/sync-modes.md):
 *	  overwrite and upsert modes, content hashes, job counts.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NANGO_STORE_H
#define NANGO_STORE_H

#include "postgres.h"
#include "access/heapam.h"
#include "lib/stringinfo.h"
#include "utils/jsonb.h"

/* The counts a job reports in its nango.jobs row. */
typedef struct NangoCounts
{
	int64		pages;
	int64		fetched;
	int64		added;
	int64		updated;
	int64		unchanged;
	int64		deleted;
	int64		skipped;
	int64		mismatch;
	int64		duplicate;		/* records whose key an earlier record of the
								 * job had (upsert mode) */
} NangoCounts;

typedef struct NangoStore NangoStore;

/*
 * nango_store_open: prepares writing for one job.  upsert selects the mode;
 * metadata is the sync's metadata object (or NULL).  Must be called with
 * SPI connected; the caller makes every store call as the extension owner
 * (nango_push_role, which pins search_path: the statements are prepared
 * and run with pg_catalog's operators only).
 */
extern NangoStore *nango_store_open(int64 sync_id, int64 job_id, bool upsert,
									Jsonb *metadata);

/*
 * nango_store_set_metadata: the metadata of the rows written from now on
 * (a child sync's rows carry their parent's key in it).
 */
extern void nango_store_set_metadata(NangoStore *st, Jsonb *metadata);

/* Overwrite mode: removes the sync's rows; returns how many. */
extern int64 nango_store_clear(NangoStore *st);

/*
 * nango_store_write: writes one page of n records (keys[i] is the unique
 * key in upsert mode, ignored otherwise; records without a usable key are
 * filtered by the caller).  Updates counts (in upsert mode each distinct
 * key once per job, see store.c).  In upsert mode, changed[i] is
 * set for the records that were inserted or updated (the ones the mapped
 * table must receive); a key repeated within the page keeps its last
 * record only.
 */
extern void nango_store_write(NangoStore *st, int n, Jsonb **records, char **keys,
							  NangoCounts *counts, bool *changed);

/*
 * Delete modes (docs/sync-modes.md).  nango_store_track_keys makes the store
 * remember every key the job sees (in a tuplesort, so memory stays bounded
 * by work_mem and spills to disk beyond); after a complete job,
 * nango_store_delete_unseen removes (hard) or marks deleted (soft) the
 * sync's live rows whose key was not seen, calling on_keys with each batch
 * of removed keys (for the mapped table), and returns how many.
 */
typedef void (*NangoKeysCallback) (void *arg, int n, char **keys);

extern void nango_store_track_keys(NangoStore *st);

/*
 * nango_store_count: at the end of an upsert job, adds to counts the number
 * of distinct keys the job added, updated and left unchanged (each key
 * once, however often it appeared), and in duplicate the records whose key
 * an earlier record of the job already had.
 */
extern void nango_store_count(NangoStore *st, NangoCounts *counts);
extern int64 nango_store_delete_unseen(NangoStore *st, bool soft,
									   NangoKeysCallback on_keys, void *arg);

/*
 * Checkpoints (docs/config.md#checkpoint).  nango_store_checkpoint, before
 * a job's transaction commits mid-way: the counts of the records classified
 * since the last checkpoint are added to counts (each key once per job),
 * and the keys seen since are handed to on_seen in batches
 * (nango_store_flush_seen does only the latter); nango_store_resume, in the
 * transaction that follows, starts the job's sorts again.  After the keys
 * of the whole pass are stored that way, nango_store_seen_from makes
 * nango_store_delete_unseen read the seen keys from next (each call puts
 * the next key, in byte order, into buf; false at the end) instead of the
 * job's sort, so that memory does not grow with the pass.
 */
typedef bool (*NangoSeenSource) (void *arg, StringInfo buf);

extern void nango_store_checkpoint(NangoStore *st, NangoCounts *counts,
								   NangoKeysCallback on_seen, void *arg);
extern void nango_store_flush_seen(NangoStore *st, NangoKeysCallback on_seen, void *arg);
extern void nango_store_resume(NangoStore *st, bool track_keys);
extern void nango_store_seen_from(NangoStore *st, NangoSeenSource next, void *arg);

/*
 * nango_store_seen_unchanged: a key of a page skipped as unchanged
 * (docs/config.md#unchanged-pages): counted unchanged (once per job, as
 * nango_store_count counts) and seen by the delete modes.
 */
extern void nango_store_seen_unchanged(NangoStore *st, const char *key);

/*
 * nango_raw_scan_live: hands the sync's live rows of nango.raw (those with a
 * unique key and not deleted), in key order, to cb a batch at a time (the
 * batch's memory is reset after each call); returns how many.  Read as the
 * current user, which the caller sets to the extension owner; cb may
 * switch roles and run statements.
 */
typedef void (*NangoRecordsCallback) (void *arg, int n, char **keys, Jsonb **records);

extern int64 nango_raw_scan_live(int64 sync_id, NangoRecordsCallback cb, void *arg);

/*
 * nango_data_hash: the content hash stored in nango.raw.data_hash: 128 bits
 * (two seeded 64-bit hash_bytes_extended) of the record's binary jsonb,
 * which is canonical (object keys sorted, duplicates removed), so it does
 * not depend on key order.  32 hex digits, palloc'd.
 */
extern char *nango_data_hash(Jsonb *record);

/* A stored row of nango.raw found by a lookup of a page's keys. */
typedef struct NangoRawFound
{
	char	   *key;
	char	   *hash;
	bool		deleted;
	bool		same_metadata;	/* stored metadata equals the sync's */
} NangoRawFound;

/*
 * nango_raw_lookup_direct: the stored rows of the sync's keys[idx[i]]
 * (i < n), read with one probe of nango.raw's key index per key instead of
 * a statement; their number in *nfound.  NULL when that is not equivalent
 * to the caller's SELECT (then the caller runs it).
 */
extern NangoRawFound *nango_raw_lookup_direct(int64 sync_id, int n, const int *idx, char **keys,
											  Jsonb *metadata, int *nfound);

/* One new row of nango.raw for nango_raw_insert_direct (rawinsert.c). */
typedef struct NangoRawRow
{
	int64		sync_id;
	int64		job_id;
	const char *unique_key;		/* NULL in overwrite mode */
	Jsonb	   *data;
	Jsonb	   *metadata;		/* may be NULL */
	const char *data_hash;
} NangoRawRow;

/*
 * nango_raw_insert_direct: inserts the rows into nango.raw without an
 * INSERT statement (nango_direct_insert: heap and index insertion as COPY
 * does; sync_id's foreign key is not checked, the caller holds FOR KEY
 * SHARE on the sync's row).  Returns false, having written nothing, when
 * that would not do what the INSERT does (then the caller runs it).
 */
extern bool nango_raw_insert_direct(int n, const NangoRawRow *rows, BulkInsertState *ring,
									MemoryContext ring_cxt);

#endif							/* NANGO_STORE_H */
