/*-------------------------------------------------------------------------
 *
 * flatten.h
 *	  Flattening one JSON record into named, typed fields (docs/mapping.md):
 *	  paths joined with '_', type inference, column naming.  Used by the
 *	  mapped-table writer (mapping.c) and by nango.flatten().
 *
 *-------------------------------------------------------------------------
 */
#ifndef NANGO_FLATTEN_H
#define NANGO_FLATTEN_H

#include "postgres.h"
#include "fmgr.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "jsonpath.h"

/* At most this many data columns per mapped table. */
#define NANGO_MAX_DATA_COLUMNS 500

/* A record's walk stops after this many scalars (bounds memory and time). */
#define NANGO_MAX_RECORD_FIELDS 100000

/* Prefixes of the column comments that bind a column to its source. */
#define NANGO_PATH_PREFIX "nango path "
#define NANGO_META_PREFIX "nango metadata "

/* Kind of one JSON value (bit flags, so a set of kinds fits an int). */
#define NANGO_VK_BOOL	0x01
#define NANGO_VK_INT	0x02		/* integer literal in bigint range */
#define NANGO_VK_NUM	0x04		/* any other number */
#define NANGO_VK_DATE	0x08		/* string that is exactly an ISO date */
#define NANGO_VK_TS		0x10		/* string that is exactly an ISO timestamp */
#define NANGO_VK_TEXT	0x20		/* any other string */

#define NANGO_VK_JSON	0x40		/* an array kept whole (arrays: jsonb) */

/*
 * Mapping options of a sync (docs/mapping.md).  nfields 0: every field is
 * mapped; otherwise only the fields at or under one of these paths.
 * arrays_jsonb: each array is one jsonb column instead of one column per
 * index.
 */
typedef struct NangoMapOptions
{
	int			nfields;
	struct NangoPath **fields;
	bool		arrays_jsonb;
} NangoMapOptions;

/* Column types the mapping creates. */
typedef enum NangoColType
{
	NANGO_COL_UNKNOWN = 0,		/* a column of another type (never written) */
	NANGO_COL_BOOL,
	NANGO_COL_INT8,
	NANGO_COL_NUMERIC,
	NANGO_COL_DATE,
	NANGO_COL_TSTZ,
	NANGO_COL_TEXT,
	NANGO_COL_JSONB
} NangoColType;

/* One non-null scalar of a flattened record. */
typedef struct NangoField
{
	char	   *ident;			/* column comment binding the column: prefix + path */
	char	   *natural;		/* column name before renaming and shortening */
	int			kind;			/* one NANGO_VK_* */
	char	   *text;			/* the value as text (string unquoted, number as stored) */
	int64		ival;			/* NANGO_VK_INT: the value */
	Numeric		num;			/* NANGO_VK_INT, NANGO_VK_NUM: the value */
	bool		has_zone;		/* NANGO_VK_TS: carries Z or an offset */
	Jsonb	   *json;			/* NANGO_VK_JSON: the array as received */
	int			depth;			/* path segments (0 for metadata) */
	int			col;			/* set by mapping.c: the field's column, or -1 */
} NangoField;

/* Every field of one record, in the record's (jsonb) order. */
typedef struct NangoFlatRecord
{
	int			nfields;
	NangoField *fields;
	bool		truncated;		/* more than NANGO_MAX_RECORD_FIELDS scalars */
} NangoFlatRecord;

extern void nango_flatten_jsonb(Jsonb *jb, NangoFlatRecord *out);

/*
 * nango_flatten_jsonb_opts: nango_flatten_jsonb with a sync's mapping
 * options (NULL, or nfields 0 and arrays_jsonb false, walks exactly as
 * nango_flatten_jsonb).
 */
extern void nango_flatten_jsonb_opts(Jsonb *jb, const NangoMapOptions *opts,
									 NangoFlatRecord *out);

/*
 * The paths of one record whose numbers were written with an exponent
 * (1e3): docs/mapping.md maps them as decimals although jsonb keeps them
 * as integers.  idents are field identities without NANGO_PATH_PREFIX
 * (see nango_path_ident), sorted with strcmp.
 */
typedef struct NangoNumPaths
{
	int			n;
	char	  **idents;
} NangoNumPaths;

extern char *nango_path_ident(const NangoPathSeg *segs, int n);
extern void nango_num_paths_sort(NangoNumPaths *np);
extern void nango_flatten_force_num(NangoFlatRecord *rec, const NangoNumPaths *np);
/*
 * nango_flatten_srf: the result rows of nango.flatten for argument 0 of
 * fcinfo under opts (NULL: defaults); the SQL functions call it.
 */
extern Datum nango_flatten_srf(FunctionCallInfo fcinfo, const NangoMapOptions *opts);
extern void nango_flatten_metadata(Jsonb *jb, NangoFlatRecord *out);

extern NangoColType nango_coltype_for_kinds(int kinds);
extern NangoColType nango_coltype_widen(NangoColType col, int kinds);
extern bool nango_kind_fits(NangoColType col, int kind);
extern Datum nango_field_datum(const NangoField *f, NangoColType col);
extern Oid	nango_coltype_oid(NangoColType col);
extern const char *nango_coltype_sql(NangoColType col);
extern NangoColType nango_coltype_from_oid(Oid typid);

extern int *nango_naming_order(NangoField **fields, int n);
extern bool nango_name_is_system(const char *name);
extern char *nango_base_name(const char *natural, const char *ident);

/* Callback of nango_pick_name: true when name is taken. */
typedef bool (*NangoNameTaken) (const char *name, void *arg);
extern char *nango_pick_name(const char *natural, const char *ident,
							 NangoNameTaken taken, void *arg);

/*
 * nango_flatten_columns: the columns (name and type) auto-mapping would
 * create from these records in an empty table (with the sync's mapping
 * options), as a JSON object text.
 */
extern char *nango_flatten_columns(Jsonb **records, int n, const NangoMapOptions *opts);

#endif							/* NANGO_FLATTEN_H */
