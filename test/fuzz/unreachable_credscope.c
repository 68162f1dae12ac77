/*
 * unreachable_credscope.c
 *	  credscope.c needs nothing of the backend beyond the shim.
 */
#include "unreachable.h"
