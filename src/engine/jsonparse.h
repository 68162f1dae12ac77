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

#include "jsonpath.h"

/* Where a number written with an exponent and an integral value (1e3) is. */
typedef struct NangoExpPath
{
	int			nseg;
	NangoPathSeg *segs;			/* from the root of the parsed text */
} NangoExpPath;

typedef struct NangoExpMarks
{
	int			n;
	NangoExpPath *paths;
} NangoExpMarks;

/*
 * nango_parse_jsonb_marks: the jsonb value of the JSON object or array in
 * text[0..len), equal to what jsonb_in gives; NULL when the fast path does
 * not handle the text (invalid JSON among others): then call jsonb_in.
 * The text must be valid UTF-8 without NUL bytes.  Unless marks is NULL,
 * *marks gets the paths of the numbers written with an exponent whose
 * value is integral (jsonb keeps 1e3 as the integer 1000; docs/mapping.md
 * maps it as numeric), or NULL when there is none (always NULL when the
 * result is NULL).  The paths' keys point into text or into the page's
 * memory.
 */
extern Jsonb *nango_parse_jsonb_marks(const char *text, size_t len,
									  NangoExpMarks **marks);

#endif							/* NANGO_JSONPARSE_H */
