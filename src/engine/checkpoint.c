/*-------------------------------------------------------------------------
 *
 * checkpoint.c
 *	  Checkpoints of long jobs (docs/config.md#checkpoint): a job run by the
 *	  worker for a sync with "checkpoint": true commits, at a page boundary
 *	  and at least every nango.checkpoint_interval, what it has stored, its
 *	  counts and its paging state; the next job of the sync resumes after
 *	  the last checkpoint.  A child sync's job checkpoints between parent
 *	  records: the next job resumes at the first parent after the last one
 *	  done, in key order.
 *
 *	  A job runs in a subtransaction of its worker's transaction
 *	  (job.c).  A checkpoint writes its row of nango.checkpoints (and the
 *	  unique keys seen since the last one, for the deletes at the end of
 *	  the pass, into nango.checkpoint_keys) in that subtransaction, releases
 *	  it, commits the worker's transaction and starts a new one in which the
 *	  job goes on: the sync's lock is held across the commit as a session
 *	  lock, the search_path pin and the subtransaction are made again at
 *	  the same GUC nesting levels, SPI is connected again, the job's progress
 *	  is published again, and the store's sorts (whose temporary files
 *	  belong to a transaction) are ended before and begun after.  What the
 *	  job keeps between pages lives in memory contexts outside the
 *	  transaction (the worker's job context).
 *
 *	  The paging state is stored, never a request with a secret: a next URL
 *	  taken from a response is stored with the job's own secrets replaced
 *	  by markers that the resuming job fills with its values, and a page
 *	  whose next URL carries another secret is not checkpointed.  The config hash
 *	  makes a checkpoint of another config unusable; update_sync and
 *	  put_sync also remove it.  Jobs of run_sync neither use nor write
 *	  checkpoints; any successful job discards its sync's checkpoint.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "catalog.h"
#include "job_int.h"
#include "nango.h"
#include "progress.h"
#include "extinfo.h"
#include "roles.h"
#include "worker.h"

/* A job's checkpointing state (JobRun.ckpt), in the job's outer context. */
struct JobCheckpoint
{
	char	   *config_hash;	/* of the sync's URL and config */
	bool		track_keys;		/* delete_mode: keys go to checkpoint_keys */
	TimestampTz last;			/* start of the job or last checkpoint */
	Jsonb	   *paging;			/* loaded paging state to restore, or NULL */
	int			resumed_page;	/* first page of this job in its pass, 0: 1 */
	bool		written;		/* a checkpoint of this job was committed */
	NangoCounts saved;			/* the job's counts at that checkpoint */
	int			nwarnings;		/* the job's warning lines then */
	bool		warnings_capped;
	bool		in_commit;		/* between releasing and beginning again */
	bool		secret_noted;	/* a next URL with a secret was not stored */
	struct JobCheckpointKeys *keys;	/* the pass's seen keys, for the deletes */
};

/* checkpoints_installed: false before ALTER EXTENSION nango UPDATE to 0.3. */
static bool
checkpoints_installed(void)
{
	return nango_has_column("jobs", "resumed_at_page");
}

/* config_hash: the hash that ties a checkpoint to the URL and config. */
static char *
config_hash(const char *url, Jsonb *config)
{
	uint64		h = hash_bytes_extended((const unsigned char *) url, strlen(url),
										UINT64CONST(0x636b7074));

	return psprintf("%s%016llx", nango_data_hash(config), (unsigned long long) h);
}

/*
 * read_checkpoint: the sync's checkpoint row (SPI connected, as the
 * extension owner); false when there is none.  Values are copied to cxt.
 */
static bool
read_checkpoint(int64 sync_id, char **hash, int *page, int64 *fetched,
				Jsonb **paging, Jsonb **highest, MemoryContext cxt)
{
	Oid			types[1] = {INT8OID};
	Datum		vals[1] = {Int64GetDatum(sync_id)};
	HeapTuple	tup;
	TupleDesc	td;
	bool		isnull;
	MemoryContext old;
	Datum		d;

	if (SPI_execute_with_args("SELECT config_hash, page, fetched, paging, incremental_highest "
							  "FROM nango.checkpoints WHERE sync_id OPERATOR(pg_catalog.=) $1",
							  1, types, vals, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read nango.checkpoints");
	if (SPI_processed == 0)
		return false;
	tup = SPI_tuptable->vals[0];
	td = SPI_tuptable->tupdesc;
	old = MemoryContextSwitchTo(cxt);
	*hash = SPI_getvalue(tup, td, 1);
	*page = DatumGetInt32(SPI_getbinval(tup, td, 2, &isnull));
	*fetched = DatumGetInt64(SPI_getbinval(tup, td, 3, &isnull));
	*paging = DatumGetJsonbPCopy(SPI_getbinval(tup, td, 4, &isnull));
	d = SPI_getbinval(tup, td, 5, &isnull);
	*highest = isnull ? NULL : DatumGetJsonbPCopy(d);
	MemoryContextSwitchTo(old);
	return true;
}

/* discard: removes the sync's checkpoint and its keys (SPI connected). */
static void
discard(int64 sync_id)
{
	Oid			types[1] = {INT8OID};
	Datum		vals[1] = {Int64GetDatum(sync_id)};

	if (SPI_execute_with_args("DELETE FROM nango.checkpoints WHERE sync_id OPERATOR(pg_catalog.=) $1",
							  1, types, vals, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not delete from nango.checkpoints");
}

/*
 * nango_checkpoint_discard: any change of a sync's config (update_sync,
 * put_sync) discards its checkpoint: the next job starts at page 1.
 * Runs as the extension owner inside the API's scope.
 */
void
nango_checkpoint_discard(int64 sync_id)
{
	if (!checkpoints_installed())
		return;
	SPI_connect();
	discard(sync_id);
	SPI_finish();
}

/*
 * nango_checkpoint_usable: whether the next job of the sync resumes after
 * a checkpoint (its trigger is then resume_checkpoint): there is one, and
 * it was written with the sync's current URL and config.  SPI connected,
 * as the extension owner.
 */
bool
nango_checkpoint_usable(int64 sync_id)
{
	Oid			types[1] = {INT8OID};
	Datum		vals[1] = {Int64GetDatum(sync_id)};
	char	   *stored;
	SyncRow		sync;

	if (!checkpoints_installed())
		return false;
	if (SPI_execute_with_args("SELECT c.config_hash FROM nango.checkpoints c "
							  "WHERE c.sync_id OPERATOR(pg_catalog.=) $1",
							  1, types, vals, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read nango.checkpoints");
	if (SPI_processed == 0)
		return false;
	stored = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	if (!catalog_read_sync(sync_id, SYNC_LOCK_NONE, &sync, CurrentMemoryContext))
		return false;
	return strcmp(stored, config_hash(sync.url, sync.config)) == 0;
}

/*
 * job_checkpoint_begin: at the start of a job (SPI connected, the store
 * open, the incremental state set up).  A job of the worker for a sync
 * with checkpoint true checkpoints; when its sync has a checkpoint of the
 * same config, the job resumes after it (the pager is restored by
 * job_checkpoint_restore), else an old checkpoint is discarded.
 */
void
job_checkpoint_begin(JobRun *run, const char *url, Jsonb *config)
{
	JobCheckpoint *ck;
	NangoSavedRole saved;
	char	   *hash = NULL;
	int			page = 0;
	int64		fetched = 0;
	Jsonb	   *paging = NULL;
	Jsonb	   *highest = NULL;
	bool		found;

	if (run->manual || !run->cfg->checkpoint || !checkpoints_installed())
		return;
	ck = MemoryContextAllocZero(run->outercxt, sizeof(JobCheckpoint));
	ck->config_hash = MemoryContextStrdup(run->outercxt, config_hash(url, config));
	ck->track_keys = (run->cfg->delete_mode != NANGO_DELETE_NONE && run->incr == NULL);
	ck->last = GetCurrentTimestamp();
	run->ckpt = ck;

	nango_push_role(nango_extension_owner(), &saved);
	found = read_checkpoint(run->sync_id, &hash, &page, &fetched, &paging, &highest, run->jobcxt);
	if (found && strcmp(hash, ck->config_hash) != 0)
	{
		nango_log(NANGO_LOG_INFO, LOG,
				  "nango: sync \"%s\": the config changed since the last checkpoint; starting at page 1",
				  run->name);
		discard(run->sync_id);
		found = false;
	}
	nango_pop_role(&saved);
	MemoryContextSwitchTo(run->jobcxt);
	if (!found)
		return;
	ck->paging = paging;
	ck->resumed_page = page + 1;
	run->page = page;
	run->pass_fetched = fetched;
	if (run->incr != NULL && highest != NULL)
		run->incr->highest = highest;
	if (run->cfg->has_parent)
		nango_log(NANGO_LOG_INFO, LOG,
				  "nango: sync \"%s\": resuming after the checkpoint after %d parent records",
				  run->name, page);
	else
		nango_log(NANGO_LOG_INFO, LOG,
				  "nango: sync \"%s\": resuming after the checkpoint at page %d", run->name, page);
}

/*
 * abandon_resume: the stored state cannot be used (its next URL names a
 * secret this job does not have): the checkpoint is discarded and the job
 * starts the pass at page 1.  SPI connected.
 */
static void
abandon_resume(JobRun *run)
{
	NangoSavedRole saved;
	MemoryContext cxt = CurrentMemoryContext;

	nango_log(NANGO_LOG_INFO, LOG,
			  "nango: sync \"%s\": the checkpoint's next URL cannot be rebuilt; starting at page 1",
			  run->name);
	nango_push_role(nango_extension_owner(), &saved);
	discard(run->sync_id);
	nango_pop_role(&saved);
	MemoryContextSwitchTo(cxt);
	run->page = 0;
	run->pass_fetched = 0;
	run->ckpt->resumed_page = 0;
	if (run->incr != NULL)
		run->incr->highest = NULL;
}

/*
 * job_checkpoint_restore: after the pager of a resumed job is set up: it
 * goes on from the stored state (allocations in the pager's context).
 */
void
job_checkpoint_restore(JobRun *run, NangoPager *pager)
{
	Jsonb	   *p = run->ckpt ? run->ckpt->paging : NULL;

	if (p == NULL)
		return;
	run->ckpt->paging = NULL;
	if (!job_paging_restore(run, pager, p))
		abandon_resume(run);
}

/*
 * write_checkpoint: the checkpoint row (paging state, page: the pages or,
 * for a child sync, the parent records the pass has done, highest: the
 * incremental state so far or NULL), the keys seen since the last one
 * and the job row's counts, in the job's subtransaction (as the extension
 * owner).  The store's counts of the part since the last checkpoint are
 * added to the job's first.
 */
static void
write_checkpoint(JobRun *run, NangoStore *st, Jsonb *paging, int page, Jsonb *highest)
{
	JobCheckpoint *ck = run->ckpt;
	NangoSavedRole saved;
	Oid			types[8] = {INT8OID, INT8OID, TEXTOID, INT4OID, INT8OID, JSONBOID, JSONBOID, INT4OID};
	Datum		v[8];
	char		nulls[8] = "        ";
	NangoCounts *c = &run->counts;

	nango_push_role(nango_extension_owner(), &saved);
	v[0] = Int64GetDatum(run->sync_id);
	v[1] = Int64GetDatum(run->job_id);
	v[2] = CStringGetTextDatum(ck->config_hash);
	v[3] = Int32GetDatum(page);
	v[4] = Int64GetDatum(run->pass_fetched + c->fetched);
	v[5] = JsonbPGetDatum(paging);
	v[6] = highest ? JsonbPGetDatum(highest) : (Datum) 0;
	nulls[6] = highest ? ' ' : 'n';
	if (SPI_execute_with_args("INSERT INTO nango.checkpoints AS c (sync_id, job_id, config_hash, page, fetched, "
							  "paging, incremental_highest) VALUES ($1, $2, $3, $4, $5, $6, $7) "
							  "ON CONFLICT (sync_id) DO UPDATE SET job_id = excluded.job_id, "
							  "config_hash = excluded.config_hash, page = excluded.page, "
							  "fetched = excluded.fetched, paging = excluded.paging, "
							  "incremental_highest = excluded.incremental_highest, saved_at = pg_catalog.now()",
							  7, types, v, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not write nango.checkpoints");
	nango_store_checkpoint(st, c, ck->track_keys ? job_checkpoint_store_keys : NULL, run);

	{
		int64		counts[CATALOG_CHECKPOINT_NCOUNTS] = {c->pages, c->fetched, c->added, c->updated,
		c->unchanged, c->skipped, c->mismatch, c->duplicate};

		catalog_job_checkpoint_counts(run->job_id, counts, ck->resumed_page);
	}
	nango_pop_role(&saved);
	ck->saved = *c;
	ck->nwarnings = list_length(run->warnings);
	ck->warnings_capped = run->warnings_capped;
	ck->written = true;
}

/*
 * commit_and_begin: commits the job's work so far and goes on in a new
 * transaction, in the state the job had: the sync's lock (held across the
 * commit as a session lock, so that no other job of the sync can start
 * in between), the pinned search_path and the subtransaction at the GUC
 * nesting levels nango_job_execute made them, SPI connected, the progress
 * published.  The current memory context is the job's page context
 * again on return.
 */
static void
commit_and_begin(JobRun *run, NangoStore *st)
{
	LOCKTAG		tag;
	int			pinned;

	run->ckpt->in_commit = true;
	job_lock_tag(&tag, run->sync_id);
	SPI_finish();
	ReleaseCurrentSubTransaction();
	(void) LockAcquire(&tag, ExclusiveLock, true, false);
	if (ActiveSnapshotSet())
		PopActiveSnapshot();
	CommitTransactionCommand();

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	run->topowner = CurrentResourceOwner;
	(void) LockAcquire(&tag, ExclusiveLock, false, false);
	LockRelease(&tag, ExclusiveLock, true);
	pinned = nango_pin_search_path();
	if (pinned != run->pinned)
		elog(ERROR, "unexpected GUC nesting level %d after a checkpoint (expected %d)",
			 pinned, run->pinned);
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(run->jobcxt);
	SPI_connect();
	MemoryContextSwitchTo(run->jobcxt);
	nango_store_resume(st, run->ckpt->track_keys);
	run->ckpt->in_commit = false;
	(void) nango_progress_begin(run->job_id, run->sync_id, run->owner, run->trigger, run->started_at);
	nango_report_progress(run->job_id, run->counts.pages, run->counts.fetched);
	MemoryContextSwitchTo(run->pagecxt);
}

/*
 * job_checkpoint_page: after a page was stored: when checkpoint_interval
 * has passed since the job started or last checkpointed, and paging goes
 * on, a checkpoint is committed.  A page whose paging state cannot be
 * stored without a secret is passed over (the next page may be stored).
 */
void
job_checkpoint_page(JobRun *run, NangoPager *pager, NangoStore *st)
{
	JobCheckpoint *ck = run->ckpt;
	Jsonb	   *paging;

	if (ck == NULL || pager->done ||
		!TimestampDifferenceExceeds(ck->last, GetCurrentTimestamp(),
									nango_checkpoint_interval_s * 1000))
		return;
	paging = job_paging_state(run, pager);
	if (paging == NULL)
	{
		if (!ck->secret_noted)
			nango_log(NANGO_LOG_INFO, LOG,
					  "nango: sync \"%s\": no checkpoint after page %d: the next request carries a secret",
					  run->name, run->page);
		ck->secret_noted = true;
		return;
	}
	write_checkpoint(run, st, paging, run->page, run->incr ? run->incr->highest : NULL);
	commit_and_begin(run, st);
	ck->last = GetCurrentTimestamp();
	nango_log(NANGO_LOG_DEBUG, LOG, "nango: sync \"%s\": checkpoint after page %d",
			  run->name, run->page);
}

/*
 * job_checkpoint_resume_parent: for a child sync's job: the key of the
 * last parent record its pass had done when it resumes after a checkpoint
 * (the job starts at the first parent after it in key order), with in
 * *done how many parents the pass had done and in *incr_done their
 * incremental values (a map of parent key to value, or NULL); NULL when the
 * job starts the pass at the first parent (in the current context).
 */
char *
job_checkpoint_resume_parent(JobRun *run, int *done, Jsonb **incr_done)
{
	JobCheckpoint *ck = run->ckpt;
	char	   *key;

	*done = 0;
	*incr_done = NULL;
	if (ck == NULL || ck->paging == NULL)
		return NULL;
	key = job_paging_text(ck->paging, "parent_key");
	ck->paging = NULL;
	if (key == NULL)
		return NULL;
	*done = ck->resumed_page - 1;
	if (run->incr != NULL)
		*incr_done = run->incr->highest;
	return key;
}

/*
 * job_checkpoint_due: whether nango.checkpoint_interval has passed since
 * the job started or last checkpointed (false for a job that does not
 * checkpoint).
 */
bool
job_checkpoint_due(JobRun *run)
{
	return run->ckpt != NULL &&
		TimestampDifferenceExceeds(run->ckpt->last, GetCurrentTimestamp(),
								   nango_checkpoint_interval_s * 1000);
}

/*
 * job_checkpoint_parent: in a child sync's job, after the records of a
 * parent were all stored: a checkpoint is committed that makes the next
 * job resume at the first parent after key in key order.  done is the
 * number of parents the pass has done, incr_done their incremental values
 * (or NULL).  Pages of later parents that chains.c keeps waiting, and the
 * requests in flight, live in the job's context and go on after it.
 */
void
job_checkpoint_parent(JobRun *run, NangoStore *st, const char *key, int done, Jsonb *incr_done)
{
	write_checkpoint(run, st, job_paging_parent_state(key), done, incr_done);
	commit_and_begin(run, st);
	run->ckpt->last = GetCurrentTimestamp();
	nango_log(NANGO_LOG_DEBUG, LOG, "nango: sync \"%s\": checkpoint after parent record %s (%d done)",
			  run->name, key, done);
}

/*
 * job_checkpoint_seen: before the deletes at the end of a pass that was
 * resumed or checkpointed: the keys this part of the pass saw join those
 * of its committed parts in nango.checkpoint_keys, and the deletes read
 * the seen keys from there in order (a cursor, a batch at a time), so that
 * only keys the whole pass did not see are deleted and memory does not
 * grow with the pass.  SPI connected; as the extension owner.  The cursor
 * is closed by job_checkpoint_done.
 */
void
job_checkpoint_seen(JobRun *run, NangoStore *st)
{
	NangoSavedRole saved;
	MemoryContext cxt = CurrentMemoryContext;

	if (run->ckpt == NULL || !run->ckpt->track_keys ||
		(run->ckpt->resumed_page == 0 && !run->ckpt->written))
		return;
	nango_push_role(nango_extension_owner(), &saved);
	nango_store_flush_seen(st, job_checkpoint_store_keys, run);
	run->ckpt->keys = job_checkpoint_keys_open(run->sync_id, run->jobcxt);
	nango_pop_role(&saved);
	MemoryContextSwitchTo(cxt);
	nango_store_seen_from(st, job_checkpoint_keys_next, run->ckpt->keys);
}

/*
 * job_checkpoint_done: at the end of a successful job (SPI connected):
 * its pass is complete, so the sync's checkpoint, if any, is discarded,
 * whatever ran the job (a successful run_sync discards it too).
 */
void
job_checkpoint_done(JobRun *run)
{
	NangoSavedRole saved;

	if (!checkpoints_installed())
		return;
	if (run->ckpt != NULL && run->ckpt->keys != NULL)
	{
		job_checkpoint_keys_close(run->ckpt->keys);
		run->ckpt->keys = NULL;
	}
	nango_push_role(nango_extension_owner(), &saved);
	discard(run->sync_id);
	nango_pop_role(&saved);
	MemoryContextSwitchTo(run->jobcxt);
}

/*
 * job_checkpoint_failed: after a job failed: true when it had committed a
 * checkpoint, whose counts and warning lines then become the job's (what
 * the job stored up to there is kept, a parent record skipped before it
 * included); in_commit is set when the failure came between two
 * transactions of the job, which the caller cannot record.
 */
bool
job_checkpoint_failed(JobRun *run, bool *in_commit)
{
	JobCheckpoint *ck = run->ckpt;

	*in_commit = ck != NULL && ck->in_commit;
	if (ck == NULL || !ck->written)
		return false;
	run->counts.added = ck->saved.added;
	run->counts.updated = ck->saved.updated;
	run->counts.unchanged = ck->saved.unchanged;
	run->counts.deleted = 0;
	run->counts.skipped = ck->saved.skipped;
	run->counts.mismatch = ck->saved.mismatch;
	run->counts.duplicate = ck->saved.duplicate;
	run->warnings = list_truncate(run->warnings, ck->nwarnings);
	run->warnings_capped = ck->warnings_capped;
	return true;
}

/*
 * job_checkpoint_note_start: after the job's outcome was recorded: the
 * page of its pass a resumed job started at (nango.jobs.resumed_at_page).
 */
void
job_checkpoint_note_start(JobRun *run)
{
	NangoSavedRole saved;

	if (run->ckpt == NULL || run->ckpt->resumed_page == 0)
		return;
	nango_push_role(nango_extension_owner(), &saved);
	SPI_connect();
	catalog_job_resumed_at(run->job_id, run->ckpt->resumed_page);
	SPI_finish();
	nango_pop_role(&saved);
}
