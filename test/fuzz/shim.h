/*-------------------------------------------------------------------------
 *
 * shim.h
 *	  The fuzz targets' stand-in for the backend (see shim.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef NANGO_FUZZ_SHIM_H
#define NANGO_FUZZ_SHIM_H

#include <stdio.h>
#include <stdlib.h>

/* frees everything palloc'd since the last call */
extern void fuzz_reset(void);

/* runs fn(arg); false when it raised an ERROR (caught like PG_TRY) */
extern bool fuzz_try(void (*fn) (void *), void *arg);

#endif
