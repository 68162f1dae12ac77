/*-------------------------------------------------------------------------
 *
 * worker.c
 *	  Registration of the background worker when nango is preloaded: the
 *	  shared memory and utility hooks (shmem.c) and the static supervisor
 *	  (supervisor.c), which keeps a launcher (launcher.c) running in every
 *	  served database (databases.c); a launcher starts one job worker
 *	  (jobworker.c) per running job.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "postmaster/bgworker.h"

#include "databases.h"
#include "nango.h"
#include "worker.h"
#include "worker_int.h"

/*
 * nango_worker_register: called from _PG_init while shared_preload_libraries
 * is processed (never in a binary upgrade).  Installs the hooks and
 * registers the supervisor, restarted by the postmaster 5 seconds after it
 * ends abnormally.
 */
void
nango_worker_register(void)
{
	BackgroundWorker w;

	nango_shmem_install_hooks();
	nango_databases_install_hooks();

	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = 5;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "nango");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "nango_supervisor_main");
	snprintf(w.bgw_name, BGW_MAXLEN, "nango supervisor");
	snprintf(w.bgw_type, BGW_MAXLEN, "nango supervisor");
	RegisterBackgroundWorker(&w);
}
