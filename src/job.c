/*-------------------------------------------------------------------------
 *
 * job.c
 *	  One job of a sync, end to end.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"

#include "job.h"

PG_FUNCTION_INFO_V1(nango_run_sync);

/*
 * nango_run_sync: SQL function nango.run_sync(sync_id).
 */
Datum
nango_run_sync(PG_FUNCTION_ARGS)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("nango.run_sync is not available yet")));
	PG_RETURN_NULL();
}

int64
nango_job_create(int64 sync_id, int attempt)
{
	return 0;
}

NangoJobStatus
nango_job_execute(int64 job_id)
{
	return NANGO_JOB_FAILED;
}
