/*
 * unreachable_redact.c
 *	  redact.c needs nothing of the backend beyond the shim.
 */
#include "unreachable.h"
