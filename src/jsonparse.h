/*-------------------------------------------------------------------------
 *
 * jsonparse.h
 *	  Fast path from a response body to jsonb (see jsonparse.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef NANGO_JSONPARSE_H
#define NANGO_JSONPARSE_H

#include "utils/jsonb.h"

/*
 * nango_parse_jsonb_fast: the jsonb value of the JSON object or array in
 * text[0..len), equal to what jsonb_in gives; NULL when the fast path does
 * not handle the text (invalid JSON among others): then call jsonb_in.
 * The text must be valid UTF-8 without NUL bytes.
 */
extern Jsonb *nango_parse_jsonb_fast(const char *text, size_t len);

#endif							/* NANGO_JSONPARSE_H */
