/*-------------------------------------------------------------------------
 *
 * unreachable.h
 *	  FUZZ_UNREACHABLE(name) defines a backend function a fuzz target must
 *	  never reach: it aborts, so a path into it is a finding.  Used in files
 *	  that include no PostgreSQL header (the real prototypes differ).
 *
 *-------------------------------------------------------------------------
 */
#ifndef NANGO_FUZZ_UNREACHABLE_H
#define NANGO_FUZZ_UNREACHABLE_H

#include <stdio.h>
#include <stdlib.h>

#define FUZZ_UNREACHABLE(name) \
	void name(void); \
	void name(void) { fprintf(stderr, "unexpected call to %s\n", #name); abort(); }

#endif
