/*
 * unreachable_pizzly.c
 *	  Backend and nango functions pizzly.c uses for the request to Pizzly
 *	  and for the job's config, never reached from the JSON reading.
 */
#include "unreachable.h"

FUZZ_UNREACHABLE(nango_http_create)
FUZZ_UNREACHABLE(nango_http_fetch)
FUZZ_UNREACHABLE(nango_redact_text)
FUZZ_UNREACHABLE(nango_redact_url)
FUZZ_UNREACHABLE(nango_secrets_add)
FUZZ_UNREACHABLE(nango_fill_apply)
FUZZ_UNREACHABLE(nango_fill_has_token_placeholder)
FUZZ_UNREACHABLE(CopyErrorData)
FUZZ_UNREACHABLE(FlushErrorState)
FUZZ_UNREACHABLE(ReThrowError)
FUZZ_UNREACHABLE(pg_strcasecmp)
