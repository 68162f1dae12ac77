/*
 * unreachable_redact.c
 *	  redact.c needs nothing of the backend beyond the shim, except what its
 *	  SQL function nango.redact_url uses.
 */
#include "unreachable.h"

FUZZ_UNREACHABLE(pg_detoast_datum_packed)
FUZZ_UNREACHABLE(text_to_cstring)
FUZZ_UNREACHABLE(cstring_to_text)
