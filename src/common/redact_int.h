/*-------------------------------------------------------------------------
 *
 * redact_int.h
 *	  What redact.c and redacttext.c share.  Not for other modules, which
 *	  use redact.h.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NANGO_REDACT_INT_H
#define NANGO_REDACT_INT_H

#include "redact.h"

/* the i-th secret of a set: kept ones first, then the URL ring */
#define SECRET_AT(s, i) ((i) < (s)->n ? (s)->values[i] : (s)->url_values[(i) - (s)->n])

/* redact_hexval: the value of a hex digit, or -1. */
extern int	redact_hexval(char c);

#endif							/* NANGO_REDACT_INT_H */
