/*-------------------------------------------------------------------------
 *
 * jsonpath.h
 *	  Dot paths (docs/config.md: response_path, unique_key, paging paths)
 *	  evaluated on PostgreSQL's binary jsonb.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NANGO_JSONPATH_H
#define NANGO_JSONPATH_H

#include "postgres.h"
#include "utils/jsonb.h"

/*
 * One step of a path: an object key, an array index, or both (a segment of
 * the dot form that is a plain number matches the key of that spelling in
 * an object and that index in an array, as it always did).
 */
typedef struct NangoPathStep
{
	const char *key;			/* NUL-terminated key, or NULL: an array index only */
	int			keylen;
	int			index;			/* array index, or -1: an object key only */
} NangoPathStep;

/* One segment of a path inside a record: an object key, or (key NULL) an array index. */
typedef struct NangoPathSeg
{
	const char *key;
	int			keylen;
	int			index;
} NangoPathSeg;

/*
 * A path compiled from either form docs/config.md allows: a dot path
 * ("paging.next") or a JSON array of steps (["@odata.nextLink"],
 * ["value", 0, "id"]; strings are keys, integers array indexes).  Both
 * forms give the same steps where both can be written.
 */
typedef struct NangoPath
{
	int			nsteps;
	NangoPathStep *steps;
	char	   *text;			/* as written: the dot path, or the array's JSON text */
} NangoPath;

/* nango_path_from_dots: the steps of a dot path (segments split on '.'). */
extern NangoPath *nango_path_from_dots(const char *dots);

/*
 * nango_path_dotted: the steps joined with '.' (an index by its digits):
 * the query parameter name a request-side path gives.
 */
extern char *nango_path_dotted(const NangoPath *path);

/*
 * nango_steps_get / nango_jsonb_steps_get: as nango_path_get and
 * nango_jsonb_path_get below, for a compiled path (NULL or no steps: the
 * container itself).
 */
extern bool nango_steps_get(JsonbContainer *container, const NangoPath *path, JsonbValue *out);
extern bool nango_jsonb_steps_get(Jsonb *jb, const NangoPath *path, JsonbValue *out);

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
