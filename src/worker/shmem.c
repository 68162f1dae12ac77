/*-------------------------------------------------------------------------
 *
 * shmem.c
 *	  The background worker's shared memory: the header with its LWLock,
 *	  the job slots and the progress entries; and waking the launcher or
 *	  the supervisor, at once or when the current transaction commits.
 *
 * Owns: creating and laying out the shared state, the "nango" LWLock
 * tranche, the latches nango sets.  Must not: run SQL, start processes,
 * or hold the lock while doing anything but reading or writing plain
 * values (see worker_int.h).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"

#include "databases.h"
#include "nango.h"
#include "worker.h"
#include "worker_int.h"

NangoShared *nango_shared = NULL;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* Per-backend state of the transaction callback. */
static bool xact_callback_registered = false;
static bool wake_at_commit = false;

/* The name of the LWLock tranche (shown in pg_stat_activity's wait_event). */
#define NANGO_LWLOCK_TRANCHE "nango"

/*
 * shared_size: bytes of shared memory needed: the header, one job slot per
 * possible background worker and one progress entry per backend.
 */
static Size
shared_size(void)
{
	Size		size = MAXALIGN(sizeof(NangoShared));

	size = add_size(size, mul_size(max_worker_processes, sizeof(NangoJobSlot)));
	size = add_size(size, mul_size(MaxBackends, sizeof(NangoProgress)));
	return size;
}

/*
 * nango_slot / nango_progress_entry: the i-th job slot and progress entry,
 * laid out after the header.
 */
NangoJobSlot *
nango_slot(int i)
{
	char	   *base = (char *) nango_shared + MAXALIGN(sizeof(NangoShared));

	return ((NangoJobSlot *) base) + i;
}

NangoProgress *
nango_progress_entry(int i)
{
	char	   *base = (char *) nango_shared + MAXALIGN(sizeof(NangoShared));

	base += sizeof(NangoJobSlot) * nango_shared->nslots;
	return ((NangoProgress *) base) + i;
}

/*
 * shmem_request_hook: reserve our shared memory and our LWLock (PG15
 * way).
 */
static void
nango_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(shared_size());
	RequestNamedLWLockTranche(NANGO_LWLOCK_TRANCHE, 1);
}

/*
 * nango_shmem_startup: create (postmaster) or attach to the shared state.
 * After a crash restart the postmaster creates it afresh, which forgets
 * every job worker: they are all gone by then.
 */
static void
nango_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	nango_shared = ShmemInitStruct("nango", shared_size(), &found);
	if (!found)
	{
		memset(nango_shared, 0, shared_size());
		nango_shared->lock = &(GetNamedLWLockTranche(NANGO_LWLOCK_TRANCHE))->lock;
		nango_shared->supervisor_procno = -1;
		nango_shared->nslots = max_worker_processes;
		nango_shared->nprogress = MaxBackends;
		for (int i = 0; i < nango_shared->nprogress; i++)
		{
			SpinLockInit(&nango_progress_entry(i)->mutex);
			pg_atomic_init_u64(&nango_progress_entry(i)->cancel_target, 0);
		}
	}
	LWLockRelease(AddinShmemInitLock);
}

/* set_latch_of: set the latch of the process with that pgprocno, if any. */
static void
set_latch_of(int procno)
{
	if (procno >= 0 && procno < (int) ProcGlobal->allProcCount)
		SetLatch(&GetPGProcByNumber(procno)->procLatch);
}

/* nango_wake_procno: set the latch of a job worker (see worker_int.h). */
void
nango_wake_procno(int procno)
{
	set_latch_of(procno);
}

/* nango_wake_launcher: set the latch of this database's launcher now. */
void
nango_wake_launcher(void)
{
	nango_wake_launcher_of(MyDatabaseId);
}

/* nango_wake_supervisor: set the supervisor's latch now. */
void
nango_wake_supervisor(void)
{
	int			procno;

	if (nango_shared == NULL)
		return;
	LWLockAcquire(nango_shared->lock, LW_SHARED);
	procno = nango_shared->supervisor_procno;
	LWLockRelease(nango_shared->lock);
	set_latch_of(procno);
}

/*
 * nango_xact_callback: at the end of a top-level transaction, wake the
 * launcher when it committed a schedule change.
 */
static void
nango_xact_callback(XactEvent event, void *arg)
{
	bool		commit = (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT);
	bool		abort = (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT);

	if (!commit && !abort)
		return;
	if (commit && wake_at_commit)
		nango_wake_launcher();
	wake_at_commit = false;
}

/* ensure_xact_callback: register nango_xact_callback once per backend. */
static void
ensure_xact_callback(void)
{
	if (xact_callback_registered)
		return;
	RegisterXactCallback(nango_xact_callback, NULL);
	xact_callback_registered = true;
}

/*
 * nango_wake_launcher_at_commit: the launcher looks for due syncs as soon
 * as the current transaction commits (nothing happens on rollback).
 */
void
nango_wake_launcher_at_commit(void)
{
	if (nango_shared == NULL)
		return;
	ensure_xact_callback();
	wake_at_commit = true;
}

/*
 * nango_shmem_install_hooks: called from _PG_init when preloaded.
 */
void
nango_shmem_install_hooks(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = nango_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = nango_shmem_startup;
}
