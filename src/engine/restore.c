/*-------------------------------------------------------------------------
 *
 * restore.c
 *	  A mapped table that lost every row of its sync (dropped and created
 *	  again by the job, or emptied by its owner) gets them back from
 *	  nango.raw before the job's pages are stored.  Unchanged records are
 *	  never written again by a job (store.c), so without this such a table
 *	  would hold only the records that change from then on, and the job
 *	  would say nothing (docs/mapping.md#a-mapped-table-that-lost-its-rows).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "job_int.h"
#include "nango.h"
#include "extinfo.h"
#include "roles.h"

/* What the callback writes with. */
typedef struct RestoreTarget
{
	JobRun	   *run;
	NangoMapTable *mt;
} RestoreTarget;

/* restore_batch: one batch of nango.raw's rows into the mapped table, as the owner. */
static void
restore_batch(void *arg, int n, char **keys, Jsonb **records)
{
	RestoreTarget *t = (RestoreTarget *) arg;
	NangoSavedRole saved;
	NangoMapCounts mc = {0, 0};

	nango_push_owner(t->run->owner, t->run->caller, &saved);
	nango_map_write(t->mt, t->run->job_id, n, records, keys, NULL, &mc);
	nango_pop_role(&saved);
	t->run->counts.mismatch += mc.mismatch;
	t->run->counts.skipped += mc.skipped;
}

/*
 * job_restore_mapped: for an upsert sync that is not a child sync, when the
 * mapped table has no row of the sync, every live row of the sync in
 * nango.raw is written into it (a first job finds nango.raw empty and
 * writes nothing); the job's warnings say how many rows were restored.
 */
void
job_restore_mapped(JobRun *run, NangoMapTable *mt)
{
	RestoreTarget t = {run, mt};
	NangoSavedRole saved;
	bool		has_rows;
	int64		n;

	if (mt == NULL || run->cfg->unique_key == NULL || run->cfg->has_parent)
		return;
	nango_push_owner(run->owner, run->caller, &saved);
	has_rows = nango_map_has_rows(mt);
	nango_pop_role(&saved);
	if (has_rows)
		return;
	nango_push_role(nango_extension_owner(), &saved);
	n = nango_raw_scan_live(run->sync_id, restore_batch, &t);
	nango_pop_role(&saved);
	if (n > 0)
	{
		nango_log(NANGO_LOG_INFO, LOG,
				  "nango: sync %s: the mapped table had no row of the sync: " INT64_FORMAT
				  " rows written again from nango.raw", run->name, n);
		nango_job_warn("the mapped table had no row of the sync: " INT64_FORMAT
					   " row(s) written again from nango.raw", n);
	}
}
