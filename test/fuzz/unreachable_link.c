/*
 * unreachable_link.c
 *	  Backend functions paging.c refers to outside nango_link_find: the
 *	  Link header target must never reach them (see shim.h).
 */
#include "unreachable.h"

FUZZ_UNREACHABLE(nango_url_resolve)
FUZZ_UNREACHABLE(nango_url_escape)
FUZZ_UNREACHABLE(nango_jsonb_path_get)
FUZZ_UNREACHABLE(nango_scalar_text)
FUZZ_UNREACHABLE(hash_create)
FUZZ_UNREACHABLE(hash_search)
FUZZ_UNREACHABLE(hash_bytes_extended)
FUZZ_UNREACHABLE(numeric_out)
FUZZ_UNREACHABLE(DirectFunctionCall1Coll)
FUZZ_UNREACHABLE(getIthJsonbValueFromContainer)

FUZZ_UNREACHABLE(nango_path_get)
FUZZ_UNREACHABLE(nango_redact_url)
FUZZ_UNREACHABLE(nango_path_dotted)
FUZZ_UNREACHABLE(nango_steps_get)
FUZZ_UNREACHABLE(nango_jsonb_steps_get)
