/*-------------------------------------------------------------------------
 *
 * jobslots.c
 *	  The launcher's view of the job slots of its database: how many are in
 *	  use or parked, and the hand-off of a job worker that ended its job
 *	  (parking it for the next due job of its owner, waking it when one was
 *	  handed to it, asking it to exit when none was).
 *
 * Owns: reading and flagging job slots for schedule.c, under the nango
 * LWLock, and setting job workers' latches.  Must not: run SQL, decide
 * which sync runs (schedule.c does), or hold the lock while setting a
 * latch.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/lwlock.h"

#include "launcher.h"
#include "worker_int.h"

/* nango_slots_running: job slots in use (starting, running or parked), all databases. */
int
nango_slots_running(void)
{
	int			n = 0;

	LWLockAcquire(nango_shared->lock, LW_SHARED);
	for (int i = 0; i < nango_shared->nslots; i++)
		if (nango_slot(i)->in_use)
			n++;
	LWLockRelease(nango_shared->lock);
	return n;
}

/*
 * nango_slot_park_or_retire: the worker of slot i ended its job and waits
 * for another (whose end the caller recorded when recorded): let the
 * launcher hand it the next due job of its owner (parked), or, when there
 * is nothing to record (no extension), ask it to exit.
 */
void
nango_slot_park_or_retire(int i, uint32 generation, bool recorded)
{
	NangoJobSlot *s = nango_slot(i);
	int			procno = -1;

	LWLockAcquire(nango_shared->lock, LW_EXCLUSIVE);
	if (s->generation == generation && s->idle && !s->order_pending)
	{
		s->parked = recorded;
		s->retire = !recorded;
		procno = recorded ? -1 : s->procno;
	}
	LWLockRelease(nango_shared->lock);
	nango_wake_procno(procno);
}

/*
 * nango_slots_retire_parked: ask the parked job workers of this database
 * that got no job this turn to exit, so they never hold a job slot another
 * database (or another owner's sync) may be waiting for.
 */
void
nango_slots_retire_parked(void)
{
	int			procnos[64];
	int			n = 0;

	LWLockAcquire(nango_shared->lock, LW_EXCLUSIVE);
	for (int i = 0; i < nango_shared->nslots; i++)
	{
		NangoJobSlot *s = nango_slot(i);

		if (s->in_use && s->dboid == MyDatabaseId && s->parked && !s->order_pending &&
			!s->retire)
		{
			s->retire = true;
			if (n < lengthof(procnos))
				procnos[n++] = s->procno;
		}
	}
	LWLockRelease(nango_shared->lock);
	for (int k = 0; k < n; k++)
		nango_wake_procno(procnos[k]);
}

/* nango_slots_parked: job workers of this database parked for a next job. */
int
nango_slots_parked(void)
{
	int			n = 0;

	LWLockAcquire(nango_shared->lock, LW_SHARED);
	for (int i = 0; i < nango_shared->nslots; i++)
		if (nango_slot(i)->in_use && nango_slot(i)->dboid == MyDatabaseId &&
			nango_slot(i)->parked && !nango_slot(i)->retire)
			n++;
	LWLockRelease(nango_shared->lock);
	return n;
}

/*
 * nango_slots_wake_handed: the jobs handed to parked workers this turn are
 * committed (the syncs marked started): wake those workers.
 */
void
nango_slots_wake_handed(LauncherState *ls)
{
	for (int k = 0; k < ls->nhanded; k++)
	{
		int			procno;

		LWLockAcquire(nango_shared->lock, LW_SHARED);
		procno = nango_slot(ls->handed[k])->procno;
		LWLockRelease(nango_shared->lock);
		nango_wake_procno(procno);
	}
	ls->nhanded = 0;
}
