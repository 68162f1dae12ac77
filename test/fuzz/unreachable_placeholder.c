/*
 * unreachable_placeholder.c
 *	  Backend functions placeholder.c uses to list a config's secret
 *	  references (nango_secret_refs), never reached from filling one.
 *	  The escaping functions it does call are in escape.c; redact.c
 *	  needs what its SQL function nango.redact_url uses.
 */
#include "unreachable.h"

FUZZ_UNREACHABLE(lappend)
/* redact.c's SQL function nango.redact_url */
FUZZ_UNREACHABLE(pg_detoast_datum_packed)
FUZZ_UNREACHABLE(text_to_cstring)
FUZZ_UNREACHABLE(cstring_to_text)
/* the ${parent.*} values of a child sync (nango_parent_fill), never filled here */
FUZZ_UNREACHABLE(nango_path_from_dots)
FUZZ_UNREACHABLE(nango_jsonb_steps_get)
FUZZ_UNREACHABLE(nango_scalar_text)
FUZZ_UNREACHABLE(JsonbValueToJsonb)
FUZZ_UNREACHABLE(JsonbToCString)
