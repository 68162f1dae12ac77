/*-------------------------------------------------------------------------
 *
 * classcount.h
 *	  Counting each distinct key of an upsert job once across its
 *	  checkpoints (classcount.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef NANGO_CLASSCOUNT_H
#define NANGO_CLASSCOUNT_H

#include "utils/tuplesort.h"

#include "store.h"

typedef struct NangoClassCounted NangoClassCounted;

/*
 * nango_classcount_create: the keys counted by a job's earlier parts
 * (none yet), kept in cxt, which must outlive the job's transactions.
 */
extern NangoClassCounted *nango_classcount_create(MemoryContext cxt);

/*
 * nango_classcount_merge: the sorted values of ts (performsort done; a
 * key's hash with its class in the two low bits, store.c) merged with the
 * keys counted before: a new key counts once in c under its strongest
 * class, a key counted before moves to a stronger class if it got one,
 * and every repeated record counts in c->duplicate.  With keep, the merged
 * keys are kept for the next merge, else they are forgotten.
 */
extern void nango_classcount_merge(NangoClassCounted *cc, Tuplesortstate *ts,
								   NangoCounts *c, bool keep);

#endif							/* NANGO_CLASSCOUNT_H */
