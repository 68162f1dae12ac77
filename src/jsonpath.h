/*-------------------------------------------------------------------------
 *
 * jsonpath.h
 *	  Dot paths (SPEC section 4: response_path, unique_key, paging paths)
 *	  evaluated on PostgreSQL's binary jsonb.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NANGO_JSONPATH_H
#define NANGO_JSONPATH_H

#include "postgres.h"
#include "utils/jsonb.h"

/*
 * nango_path_get: looks up a dot path ("paging.next.after"; a segment that
 * is a number indexes an array) in container.  On success fills *out (a
 * scalar, or jbvBinary for a nested container) and returns true; returns
 * false when any segment is missing.  A NULL or empty path gives the
 * container itself.
 */
extern bool nango_path_get(JsonbContainer *container, const char *path, JsonbValue *out);

/* Same, from the root of a Jsonb datum (a raw scalar root gives the scalar). */
extern bool nango_jsonb_path_get(Jsonb *jb, const char *path, JsonbValue *out);

/* The array index one path segment denotes, or -1 (not a plain number). */
extern int	nango_path_segment_index(const char *seg, int len);

/*
 * nango_scalar_text: the text of a scalar used as a cursor or key: a string
 * as is, a number as written, a boolean as true/false.  Returns NULL for
 * null and for containers.
 */
extern char *nango_scalar_text(const JsonbValue *v);

/* Wraps a JsonbValue (scalar or jbvBinary) into a Jsonb datum of its own. */
extern Jsonb *nango_value_to_jsonb(JsonbValue *v);

#endif							/* NANGO_JSONPATH_H */
