/*-------------------------------------------------------------------------
 *
 * store.h
 *	  Writing a job's records into nango.raw (SPEC sections 3 and 5):
 *	  overwrite and upsert modes, content hashes, job counts.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NANGO_STORE_H
#define NANGO_STORE_H

#include "postgres.h"
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
 * Delete modes (SPEC section 5).  nango_store_track_keys makes the store
 * remember every key the job sees (in a tuplesort, so memory stays bounded
 * by work_mem and spills to disk beyond); after a complete job,
 * nango_store_delete_unseen removes (hard) or marks deleted (soft) the
 * sync's live rows whose key was not seen, calling on_keys with each batch
 * of removed keys (for the mapped table), and returns how many.
 */
typedef void (*NangoKeysCallback) (void *arg, int n, char **keys);

extern void nango_store_track_keys(NangoStore *st);
extern int64 nango_store_delete_unseen(NangoStore *st, bool soft,
									   NangoKeysCallback on_keys, void *arg);

/*
 * nango_data_hash: the content hash stored in nango.raw.data_hash: 128 bits
 * (two seeded 64-bit hash_bytes_extended) of the record's binary jsonb,
 * which is canonical (object keys sorted, duplicates removed), so it does
 * not depend on key order.  32 hex digits, palloc'd.
 */
extern char *nango_data_hash(Jsonb *record);

#endif							/* NANGO_STORE_H */
